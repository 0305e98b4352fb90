"""Microsoft Teams channel: botbuilder in, Adaptive Cards out, nothing else.

Every botbuilder import of the project lives in this package, so it can be replaced
by the Microsoft 365 Agents SDK without touching the core.

Example (what ``soudan serve`` does)::

    app = web.Application()
    check_teams_settings(settings)
    services.notifiers["teams"] = mount_teams(app, settings, services)
    web.run_app(app, host=settings.host, port=settings.port)
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from aiohttp import web
from botbuilder.integration.aiohttp import CloudAdapter
from botframework.connector.auth import ServiceClientCredentialsFactory

from bot.core.inbox import Inbox
from bot.settings import Settings
from bot.teams.authentication import (
    TeamsCloudEndpoints,
    TeamsSettingsError,
    build_authentication,
    check_teams_settings,
)
from bot.teams.bot import Assistant, SoudanTeamsBot, TeamsCourier
from bot.teams.endpoint import MessagesEndpoint
from bot.teams.notifier import TeamsNotifier
from bot.teams.records import DatabaseTeamsRecords, TeamsRecords

if TYPE_CHECKING:
    from bot.wiring import Services

MESSAGES_PATH = "/api/messages"
TEAMS_BOT = web.AppKey("soudan_teams_bot", SoudanTeamsBot)
"""The mounted bot, e.g. to ``await app[TEAMS_BOT].drain()`` answers still being prepared."""

__all__ = [
    "MESSAGES_PATH",
    "TEAMS_BOT",
    "TeamsCloudEndpoints",
    "TeamsNotifier",
    "TeamsSettingsError",
    "build_teams_notifier",
    "check_teams_settings",
    "mount_teams",
]


def mount_teams(
    web_app: web.Application,
    settings: Settings,
    services: Services,
    *,
    assistant: Assistant | None = None,
    records: TeamsRecords | None = None,
    endpoints: TeamsCloudEndpoints | None = None,
    credentials_factory: ServiceClientCredentialsFactory | None = None,
) -> TeamsNotifier:
    """Add ``POST /api/messages`` to ``web_app`` and return the Teams notifier.

    Args:
        web_app: the aiohttp application of ``soudan serve`` (not yet started).
        settings: Microsoft app id / password / tenant / type, tenant allowlist.
        services: provides ``assistant`` and ``database`` (where the Teams inbox
            stores activities before they are answered) unless given below.
        assistant: the core to call instead of ``services.assistant``.
        records: where references and refusals go instead of ``services.database``.
        endpoints: token endpoints (default: the Azure public cloud).
        credentials_factory: outbound Bot Connector credentials (default: from settings).

    Raises:
        TeamsSettingsError: the settings would run the endpoint unsafely.
    """
    authentication = build_authentication(
        settings, endpoints=endpoints, credentials_factory=credentials_factory
    )
    adapter = CloudAdapter(authentication)
    teams_records = records or DatabaseTeamsRecords(services.database)
    notifier = TeamsNotifier(adapter, app_id=settings.microsoft_app_id, records=teams_records)
    inbox = Inbox(
        database=services.database, core=assistant or services.assistant, channel="teams",
        courier=TeamsCourier(notifier), lease_seconds=settings.inbox_lease_seconds,
        poll_seconds=settings.inbox_poll_seconds,
    )
    bot = SoudanTeamsBot(inbox, teams_records)
    endpoint = MessagesEndpoint(
        adapter=adapter,
        authentication=authentication,
        bot=bot,
        records=teams_records,
        allowed_tenants=settings.teams_tenants,
    )
    web_app.router.add_post(MESSAGES_PATH, endpoint.handle)
    web_app[TEAMS_BOT] = bot

    async def lifetime(app: web.Application) -> AsyncIterator[None]:
        notifier.attach(asyncio.get_running_loop())
        await inbox.start()  # first takes over what a crashed process left
        yield
        await bot.drain()
        await inbox.stop()
        notifier.detach()

    web_app.cleanup_ctx.append(lifetime)
    return notifier


def build_teams_notifier(
    settings: Settings,
    services: Services,
    *,
    records: TeamsRecords | None = None,
    endpoints: TeamsCloudEndpoints | None = None,
    credentials_factory: ServiceClientCredentialsFactory | None = None,
) -> TeamsNotifier:
    """A Teams notifier without the endpoint, for posting from the CLI or a script.

    It reaches only conversations whose reference ``soudan serve`` has stored.

    Raises:
        TeamsSettingsError: the settings are incomplete.
    """
    authentication = build_authentication(
        settings, endpoints=endpoints, credentials_factory=credentials_factory
    )
    return TeamsNotifier(
        CloudAdapter(authentication),
        app_id=settings.microsoft_app_id,
        records=records or DatabaseTeamsRecords(services.database),
    )
