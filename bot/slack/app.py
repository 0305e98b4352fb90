"""The bolt app: Slack requests in, turns for the core out.

Nothing is acknowledged before it is safe: every listener stores its turn in the
durable inbox (:mod:`bot.core.inbox`) and only then lets bolt answer Slack (the HTTP
200 or the socket-mode ack: the app runs with ``process_before_response``). Storing
takes milliseconds; the slow part — the core call and the posts — is the inbox
worker's, which takes stored turns in order per conversation, also after a crash and
on any replica. A request whose turn could not be stored gets a 500, which Slack
retries.

Example:
    >>> services = build_services(Settings())                 # doctest: +SKIP
    >>> slack_app = build_slack_app(services.settings, services)  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any, Protocol

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncBoltContext
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.inbox import Envelope, Inbox
from bot.settings import Settings
from bot.slack.action_values import ACTION_ID_PATTERN
from bot.slack.blocks import FORM_CALLBACK_ID
from bot.slack.payloads import (
    Turn,
    turn_from_click,
    turn_from_command,
    turn_from_mention,
    turn_from_message,
    turn_from_shortcut,
    turn_from_submission,
)
from bot.slack.people import SlackDirectory
from bot.slack.transport import build_web_client
from bot.slack.turns import ConversationCore, TurnRunner
from storage import Database

log = logging.getLogger(__name__)

SLASH_COMMAND = "/soudan"
CONSULT_SHORTCUT_ID = "soudan_consult"


class SlackServices(Protocol):
    """What the Slack app needs from ``bot.wiring.Services``."""

    @property
    def assistant(self) -> ConversationCore: ...

    @property
    def database(self) -> Database: ...


class SlackApp(AsyncApp):
    """soudan's bolt app: an ``AsyncApp`` with the Slack inbox and its background tasks.

    Args:
        client: Web API client (token, base URL, 429 retry handler).
        signing_secret: verifies HTTP requests; ``None`` for Socket Mode only.
        runner: carries turns between Slack and the core (the inbox's courier).
        inbox: where turns are stored before Slack is acknowledged.
    """

    def __init__(
        self, *, client: AsyncWebClient, signing_secret: str | None, runner: TurnRunner,
        inbox: Inbox,
    ) -> None:
        super().__init__(
            name="soudan",
            client=client,
            # An empty secret would verify nothing; mount_slack refuses HTTP without one.
            signing_secret=signing_secret or "",
            # Listeners run before the ack: they store the turn, then Slack hears 200.
            process_before_response=True,
        )
        self.runner = runner
        self.inbox = inbox
        # Checks HTTP requests before bolt parses them (mount_slack); None: Socket Mode only.
        self.verifier = SignatureVerifier(signing_secret) if signing_secret else None
        self._background: set[asyncio.Task[None]] = set()

    async def accept(self, turn: Turn | None) -> None:
        """Store ``turn`` in the inbox (a redelivered one is not stored twice).

        A channel-thread reply without a mention is stored too: the core decides in the
        turn whether it is for the app (the stored text is dropped when it is done).
        """
        if turn is None:
            return
        inbound, delivery = turn.stored()
        # A turn that needs nothing from Slack first may be applied before the ack.
        await self.inbox.accept(Envelope(inbound, delivery, conversation=turn.lane),
                                ready=self.runner.ready(turn))

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run ``work`` after the ack; keep a reference until it finishes."""
        task = asyncio.get_running_loop().create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def drain(self) -> None:
        """Wait until every stored turn this process can take, and every background
        task started so far, has finished."""
        await self.inbox.drain()
        while self._background:
            await asyncio.gather(*list(self._background), return_exceptions=True)


def _tenant(context: AsyncBoltContext) -> str:
    return context.enterprise_id or context.team_id or "unknown"


def build_slack_app(settings: Settings, services: SlackServices) -> SlackApp:
    """The bolt app for ``settings``' Slack credentials over ``services``' core.

    Args:
        settings: needs ``slack_bot_token``; ``slack_signing_secret`` for HTTP mode;
            ``slack_api_base_url`` (GovSlack, tests).
        services: the assistant and the database of this process.
    """
    if settings.slack_bot_token is None:
        raise ValueError("SLACK_BOT_TOKEN is not set")
    secret = settings.slack_signing_secret
    client = build_web_client(settings)
    directory = SlackDirectory(client)
    runner = TurnRunner(services.assistant, directory, client)
    inbox = Inbox(
        database=services.database, core=services.assistant, channel="slack", courier=runner,
        lease_seconds=settings.inbox_lease_seconds, poll_seconds=settings.inbox_poll_seconds,
        inline=settings.inline_turns_enabled,
    )
    app = SlackApp(
        client=client,
        signing_secret=secret.get_secret_value() if secret is not None else None,
        runner=runner,
        inbox=inbox,
    )
    _register_listeners(app)
    return app


def _register_listeners(app: SlackApp) -> None:
    runner = app.runner

    @app.event("message")
    async def on_message(body: dict[str, Any], context: AsyncBoltContext) -> None:
        await app.accept(turn_from_message(body, tenant=_tenant(context),
                                           bot_user_id=context.bot_user_id))

    @app.event("app_mention")
    async def on_mention(body: dict[str, Any], context: AsyncBoltContext) -> None:
        await app.accept(turn_from_mention(body, tenant=_tenant(context),
                                           bot_user_id=context.bot_user_id))

    @app.event("app_home_opened")
    async def on_home(event: dict[str, Any], context: AsyncBoltContext,
                      client: AsyncWebClient) -> None:
        if event.get("tab", "home") == "home":
            app.spawn(_publish_home(runner, client, _tenant(context), event["user"]))

    @app.action(ACTION_ID_PATTERN)
    async def on_click(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
        try:
            turn = turn_from_click(body, tenant=_tenant(context))
        except ValueError:
            log.warning("ignored a click with an unreadable button value")
            await ack()
            return
        await app.accept(turn)
        await ack()

    @app.view(FORM_CALLBACK_ID)
    async def on_submit(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
        await app.accept(turn_from_submission(body, tenant=_tenant(context)))
        await ack()

    @app.command(SLASH_COMMAND)
    async def on_command(ack: AsyncAck, body: dict[str, Any], context: AsyncBoltContext) -> None:
        await app.accept(turn_from_command(body, tenant=_tenant(context)))
        await ack()

    @app.shortcut(CONSULT_SHORTCUT_ID)
    async def on_shortcut(ack: AsyncAck, body: dict[str, Any],
                          context: AsyncBoltContext) -> None:
        await app.accept(turn_from_shortcut(body, tenant=_tenant(context)))
        await ack()


async def _publish_home(runner: TurnRunner, client: AsyncWebClient, tenant: str,
                        user_id: str) -> None:
    try:
        await runner.publish_home(client, tenant, user_id)
    except Exception as exc:
        log.error("App Home publish failed: %s", type(exc).__name__)
