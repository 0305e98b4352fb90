"""Bot Framework JWT validation on the real endpoint, against a locally served key set.

Tokens are signed with the mock connector's RSA key; the bot reads the OpenID
metadata and JWKS from 127.0.0.1 (``TeamsCloudEndpoints``), exactly as it reads
login.botframework.com in production.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from botframework.connector.auth import AppCredentials, PasswordServiceClientCredentialFactory
from cryptography.hazmat.primitives.asymmetric import rsa
from msrest.authentication import Authentication
from pydantic import SecretStr

from bot.settings import Settings
from bot.teams import TeamsCloudEndpoints, TeamsSettingsError, check_teams_settings
from tests.teams.activities import message
from tests.teams.connector import KEY_ID, MockConnector
from tests.teams.fakes import RecordingAssistant
from tests.teams.running_bot import StartBot, teams_settings

APP_ID = "8f2b7c1e-1111-4222-8333-944455566677"
ISSUER = "https://api.botframework.com"
OUTBOUND_TOKEN = "token-the-bot-presents-to-the-connector"


class LoopbackTokenCredentials(AppCredentials):
    """Outbound credentials with a fixed token (AAD is not reachable from tests)."""

    def get_access_token(self, force_refresh: bool = False) -> str:
        return OUTBOUND_TOKEN


class LoopbackCredentialsFactory(PasswordServiceClientCredentialFactory):
    """The real app-id checks; only the outbound token comes from the test."""

    async def create_credentials(
        self, app_id: str, oauth_scope: str, login_endpoint: str, validate_authority: bool
    ) -> Authentication:
        assert app_id == self.app_id
        return LoopbackTokenCredentials(app_id=app_id, oauth_scope=oauth_scope)


def authenticated_settings(tmp_path: Path) -> Settings:
    return teams_settings(
        tmp_path,
        microsoft_app_id=APP_ID,
        microsoft_app_password=SecretStr("a-real-looking-client-secret"),
        teams_allow_anonymous=False,
    )


def sign(connector: MockConnector, key: rsa.RSAPrivateKey | None = None, **claims: Any) -> str:
    now = int(time.time())
    payload = {
        "iss": ISSUER,
        "aud": APP_ID,
        "serviceurl": connector.service_url,
        "nbf": now - 60,
        "iat": now - 60,
        "exp": now + 3600,
    } | claims
    return jwt.encode(
        payload, key or connector.signing_key, algorithm="RS256", headers={"kid": KEY_ID}
    )


@pytest.fixture
async def secured_bot(
    start_bot: StartBot, connector: MockConnector, tmp_path: Path
) -> tuple[Any, RecordingAssistant]:
    assistant = RecordingAssistant()
    running = await start_bot(
        assistant,
        settings=authenticated_settings(tmp_path),
        endpoints=TeamsCloudEndpoints(
            channel_openid_metadata_url=connector.openid_metadata_url,
            bot_login_url=f"{connector.url}/botframework.com",
        ),
        credentials_factory=LoopbackCredentialsFactory(APP_ID, "a-real-looking-client-secret"),
    )
    return running, assistant


async def test_a_correctly_signed_token_is_accepted_and_the_reply_is_authenticated(
    secured_bot: tuple[Any, RecordingAssistant], connector: MockConnector
) -> None:
    running, assistant = secured_bot
    status = await running.post(message(connector.service_url, "RFI とは？"), token=sign(connector))

    assert status == 200
    [reply] = await connector.replies(1)
    assert reply.text == "受け付けました: RFI とは？"
    assert reply.authorization == f"Bearer {OUTBOUND_TOKEN}"
    assert [i.text for i in assistant.inbounds] == ["RFI とは？"]


@pytest.mark.parametrize(
    "case",
    ["no token", "bad signature", "expired", "wrong audience", "wrong issuer", "other serviceurl"],
)
async def test_a_request_without_a_valid_token_gets_401_and_reaches_nothing(
    case: str, secured_bot: tuple[Any, RecordingAssistant], connector: MockConnector
) -> None:
    running, assistant = secured_bot
    now = int(time.time())
    tokens: dict[str, str | None] = {
        "no token": None,
        "bad signature": sign(
            connector, key=rsa.generate_private_key(public_exponent=65537, key_size=2048)
        ),
        "expired": sign(connector, exp=now - 3600, nbf=now - 7200, iat=now - 7200),
        "wrong audience": sign(connector, aud="another-bots-app-id"),
        "wrong issuer": sign(connector, iss="https://attacker.example"),
        "other serviceurl": sign(connector, serviceurl="https://elsewhere.example/"),
    }

    status = await running.post(message(connector.service_url, "RFI とは？"), token=tokens[case])

    assert status == 401
    assert assistant.inbounds == []
    assert connector.calls == []


def test_an_empty_app_id_is_refused_unless_anonymous_mode_is_explicit(tmp_path: Path) -> None:
    with pytest.raises(TeamsSettingsError, match="MICROSOFT_APP_ID"):
        check_teams_settings(teams_settings(tmp_path, teams_allow_anonymous=False))
    check_teams_settings(teams_settings(tmp_path, teams_allow_anonymous=True))


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"microsoft_app_password": None}, "MICROSOFT_APP_PASSWORD"),
        ({"microsoft_app_type": "SingleTenant"}, "MICROSOFT_APP_TENANT_ID"),
        ({"microsoft_app_type": "UserAssignedMSI"}, "MICROSOFT_APP_TENANT_ID"),
        ({"microsoft_app_type": "Anonymous"}, "MICROSOFT_APP_TYPE"),
    ],
)
def test_half_configured_credentials_are_refused_naming_the_setting(
    tmp_path: Path, overrides: dict[str, Any], named: str
) -> None:
    settings = authenticated_settings(tmp_path).model_copy(update=overrides)
    with pytest.raises(TeamsSettingsError, match=named):
        check_teams_settings(settings)


def test_complete_credentials_pass(tmp_path: Path) -> None:
    check_teams_settings(authenticated_settings(tmp_path))
    single = authenticated_settings(tmp_path).model_copy(
        update={"microsoft_app_type": "SingleTenant", "microsoft_app_tenant_id": "t-1"}
    )
    check_teams_settings(single)


async def test_mounting_with_an_empty_app_id_and_no_anonymous_flag_fails(
    start_bot: StartBot, tmp_path: Path
) -> None:
    with pytest.raises(TeamsSettingsError):
        await start_bot(
            RecordingAssistant(), settings=teams_settings(tmp_path, teams_allow_anonymous=False)
        )
