"""Who may call ``/api/messages``: Bot Framework JWT validation and the settings check.

Inbound requests carry a JWT signed by the Bot Connector; botbuilder validates it
against the OpenID metadata of the cloud (issuer, signing keys, the ``msteams``
endorsement, ``aud`` = our app id, ``serviceurl`` = the activity's service URL).
An empty app id turns validation off (Bot Framework Emulator on a developer
machine); that is allowed only with ``SOUDAN_TEAMS_ALLOW_ANONYMOUS=true``.

Example:
    >>> check_teams_settings(Settings(microsoft_app_id=""))   # doctest: +SKIP
    Traceback (most recent call last):
    TeamsSettingsError: Teams の設定が不完全です ...
"""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

from botbuilder.integration.aiohttp import (
    ConfigurationBotFrameworkAuthentication,
    ConfigurationServiceClientCredentialFactory,
)
from botbuilder.schema import CallerIdConstants
from botframework.connector.auth import (
    AuthenticationConfiguration,
    AuthenticationConstants,
    BotFrameworkAuthentication,
    ServiceClientCredentialsFactory,
)

from bot.settings import Settings

_APP_TYPES = {"multitenant", "singletenant", "userassignedmsi"}


class TeamsSettingsError(ValueError):
    """The Teams settings cannot run safely; the message says what to set."""


@dataclass(frozen=True)
class TeamsCloudEndpoints:
    """Where tokens come from and go to. Defaults: the Azure public cloud.

    Tests (and sovereign clouds) point these elsewhere; production leaves them alone.
    """

    channel_openid_metadata_url: str = (
        AuthenticationConstants.TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL
    )
    channel_token_issuer: str = AuthenticationConstants.TO_BOT_FROM_CHANNEL_TOKEN_ISSUER
    emulator_openid_metadata_url: str = (
        AuthenticationConstants.TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL
    )
    bot_login_url: str = AuthenticationConstants.TO_CHANNEL_FROM_BOT_LOGIN_URL
    bot_oauth_scope: str = AuthenticationConstants.TO_CHANNEL_FROM_BOT_OAUTH_SCOPE
    oauth_url: str = AuthenticationConstants.OAUTH_URL


def check_teams_settings(settings: Settings) -> None:
    """Refuse settings that would run the Teams endpoint unauthenticated or half-configured.

    ``soudan serve`` calls this before mounting ``/api/messages``.

    Raises:
        TeamsSettingsError: with a Japanese message that names the setting to fix.
    """
    app_type = settings.microsoft_app_type.strip().lower()
    if app_type not in _APP_TYPES:
        raise TeamsSettingsError(
            f"MICROSOFT_APP_TYPE「{settings.microsoft_app_type}」は使えません。"
            "MultiTenant / SingleTenant / UserAssignedMSI のいずれかを設定してください。"
        )
    if not settings.microsoft_app_id:
        if settings.teams_allow_anonymous:
            return
        raise TeamsSettingsError(
            "Teams の設定が不完全です: MICROSOFT_APP_ID が空です。Azure Bot のアプリ ID と"
            " MICROSOFT_APP_PASSWORD を設定してください（認証なしで動かすのはローカル開発の"
            "ときだけで、その場合は SOUDAN_TEAMS_ALLOW_ANONYMOUS=true を明示してください）。"
        )
    if app_type != "userassignedmsi" and settings.microsoft_app_password is None:
        raise TeamsSettingsError(
            "Teams の設定が不完全です: MICROSOFT_APP_PASSWORD（Azure Bot のクライアント"
            "シークレット）を設定してください。"
        )
    if app_type != "multitenant" and not settings.microsoft_app_tenant_id:
        raise TeamsSettingsError(
            "Teams の設定が不完全です: MICROSOFT_APP_TYPE が"
            f" {settings.microsoft_app_type} のときは MICROSOFT_APP_TENANT_ID"
            "（Azure のテナント ID）を設定してください。"
        )


def build_authentication(
    settings: Settings,
    *,
    endpoints: TeamsCloudEndpoints | None = None,
    credentials_factory: ServiceClientCredentialsFactory | None = None,
) -> BotFrameworkAuthentication:
    """The botbuilder authentication for inbound validation and outbound credentials.

    Args:
        settings: app id, password, tenant and app type are read from here.
        endpoints: token endpoints; the Azure public cloud when omitted.
        credentials_factory: outbound credentials; built from ``settings`` when omitted
            (client secret, or a user-assigned managed identity).
    """
    check_teams_settings(settings)
    cloud = endpoints or TeamsCloudEndpoints()
    password = settings.microsoft_app_password
    configuration = SimpleNamespace(
        APP_ID=settings.microsoft_app_id or None,
        APP_PASSWORD=password.get_secret_value() if password is not None else None,
        APP_TYPE=settings.microsoft_app_type,
        APP_TENANTID=settings.microsoft_app_tenant_id or None,
        # Setting the endpoints explicitly selects botbuilder's parameterized
        # authentication, so tests exercise the same code path as production.
        TO_BOT_FROM_CHANNEL_OPENID_METADATA_URL=cloud.channel_openid_metadata_url,
        TO_BOT_FROM_CHANNEL_TOKEN_ISSUER=cloud.channel_token_issuer,
        TO_BOT_FROM_EMULATOR_OPENID_METADATA_URL=cloud.emulator_openid_metadata_url,
        TO_CHANNEL_FROM_BOT_LOGIN_URL=cloud.bot_login_url,
        TO_CHANNEL_FROM_BOT_OAUTH_SCOPE=cloud.bot_oauth_scope,
        OAUTH_URL=cloud.oauth_url,
        CALLER_ID=CallerIdConstants.public_azure_channel.value,
    )
    factory = credentials_factory or ConfigurationServiceClientCredentialFactory(configuration)
    return ConfigurationBotFrameworkAuthentication(
        configuration, credentials_factory=factory, auth_configuration=AuthenticationConfiguration()
    )
