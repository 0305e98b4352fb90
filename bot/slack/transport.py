"""How Slack reaches the app: HTTP (Events API) or Socket Mode.

HTTP mode mounts ``POST /slack/events`` on the aiohttp server of ``soudan serve``;
Socket Mode opens an outbound WebSocket (no public URL, suits closed networks).
Both hand Slack's request to the same bolt app.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.settings import Settings

if TYPE_CHECKING:
    from bot.slack.app import SlackApp

EVENTS_PATH = "/slack/events"
RATE_LIMIT_RETRIES = 3


def api_base_url(settings: Settings) -> str:
    """``SLACK_API_BASE_URL`` with the trailing slash slack_sdk expects."""
    base = settings.slack_api_base_url
    return base if base.endswith("/") else base + "/"


def build_web_client(settings: Settings) -> AsyncWebClient:
    """Web API client with the bot token, the configured base URL and 429 retries."""
    token = settings.slack_bot_token
    return AsyncWebClient(
        token=token.get_secret_value() if token is not None else None,
        base_url=api_base_url(settings),
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES)],
    )


def mount_slack(web_app: web.Application, slack_app: SlackApp) -> None:
    """Add ``POST /slack/events`` (Events API, interactivity, slash commands).

    Also waits, at shutdown, for answers still being written.

    Raises:
        ValueError: the app has no signing secret, so requests could not be verified.
    """
    if not slack_app.accepts_http:
        raise ValueError("SLACK_SIGNING_SECRET is required to serve /slack/events")

    async def slack_events(request: web.Request) -> web.Response:
        bolt_response = await slack_app.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(bolt_response)

    async def finish_turns(_: web.Application) -> None:
        await slack_app.drain()

    web_app.router.add_post(EVENTS_PATH, slack_events)
    web_app.on_shutdown.append(finish_turns)


async def start_socket_mode(slack_app: SlackApp, settings: Settings) -> None:
    """Serve Slack over Socket Mode until cancelled (run it as a background task).

    Connects with ``SLACK_APP_TOKEN`` (the client reconnects by itself when Slack
    rotates the connection); on cancellation closes the socket and waits for the
    answers still being written.

    Raises:
        ValueError: ``SLACK_APP_TOKEN`` is not set.
    """
    if settings.slack_app_token is None:
        raise ValueError("SLACK_APP_TOKEN is required for Socket Mode")
    handler = AsyncSocketModeHandler(
        slack_app, app_token=settings.slack_app_token.get_secret_value()
    )
    try:
        await handler.connect_async()
        await asyncio.Event().wait()  # until cancelled
    finally:
        await handler.close_async()
        await slack_app.drain()
