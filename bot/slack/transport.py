"""How Slack reaches the app: HTTP (Events API) or Socket Mode.

HTTP mode mounts ``POST /slack/events`` on the aiohttp server of ``soudan serve``;
Socket Mode opens an outbound WebSocket (no public URL, suits closed networks).
Both hand Slack's request to the same bolt app.

HTTP responses of ``/slack/events`` besides bolt's own:
    401  the signature or the timestamp is missing, malformed, stale or wrong, or
         the body is not UTF-8 (checked before the body is parsed, so a forged body
         is never read; Slack does not retry a 4xx);
    400  a correctly signed body that is not a Slack payload (malformed JSON).
Neither writes the body to the log.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from bot.settings import Settings

if TYPE_CHECKING:
    from bot.slack.app import SlackApp

log = logging.getLogger(__name__)

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

    Starts the Slack inbox's worker with the server and, at shutdown, waits for the
    answers still being written.

    Raises:
        ValueError: the app has no signing secret, so requests could not be verified.
    """
    verifier = slack_app.verifier
    if verifier is None:
        raise ValueError("SLACK_SIGNING_SECRET is required to serve /slack/events")

    async def slack_events(request: web.Request) -> web.Response:
        body = signed_body(verifier, request, await request.read())
        if body is None:
            log.info("slack request rejected: signature or timestamp invalid")
            return web.json_response({"error": "invalid request"}, status=401)
        try:
            bolt_request = AsyncBoltRequest(
                body=body,
                query=request.query_string,
                headers=request.headers,  # type: ignore[arg-type]
            )
        except ValueError as error:  # JSONDecodeError
            log.warning("slack request rejected: unreadable body (%s)", type(error).__name__)
            return web.json_response({"error": "invalid request"}, status=400)
        if not isinstance(bolt_request.body, dict):
            log.warning("slack request rejected: the body is not a Slack payload")
            return web.json_response({"error": "invalid request"}, status=400)
        bolt_response = await slack_app.async_dispatch(bolt_request)
        return await to_aiohttp_response(bolt_response)

    async def start_inbox(_: web.Application) -> None:
        await slack_app.inbox.start()  # first takes over what a crashed process left

    async def finish_turns(_: web.Application) -> None:
        await slack_app.drain()
        await slack_app.inbox.stop()

    web_app.router.add_post(EVENTS_PATH, slack_events)
    web_app.on_startup.append(start_inbox)
    web_app.on_shutdown.append(finish_turns)


def signed_body(verifier: SignatureVerifier, request: web.Request, raw: bytes) -> str | None:
    """``raw`` as text if Slack signed it within the last five minutes, else ``None``.

    A missing or non-numeric ``X-Slack-Request-Timestamp`` is a failed check, not an
    error (slack_sdk would raise, and a 500 makes Slack retry); so is a body that is
    not UTF-8, which Slack never sends.
    """
    timestamp = request.headers.get("X-Slack-Request-Timestamp", "")
    signature = request.headers.get("X-Slack-Signature", "")
    if not (timestamp.isascii() and timestamp.isdigit() and signature):
        return None
    try:
        body = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return body if verifier.is_valid(body, timestamp, signature) else None


async def start_socket_mode(slack_app: SlackApp, settings: Settings) -> None:
    """Serve Slack over Socket Mode until cancelled (run it as a background task).

    Connects with ``SLACK_APP_TOKEN`` (the client reconnects by itself when Slack
    rotates the connection) after starting the Slack inbox's worker; on cancellation
    closes the socket and waits for the answers still being written. A turn is stored
    before its envelope is acknowledged, as in HTTP mode.

    Raises:
        ValueError: ``SLACK_APP_TOKEN`` is not set.
    """
    if settings.slack_app_token is None:
        raise ValueError("SLACK_APP_TOKEN is required for Socket Mode")
    handler = AsyncSocketModeHandler(
        slack_app, app_token=settings.slack_app_token.get_secret_value()
    )
    await slack_app.inbox.start()  # first takes over what a crashed process left
    try:
        await handler.connect_async()
        await asyncio.Event().wait()  # until cancelled
    finally:
        await handler.close_async()
        await slack_app.drain()
        await slack_app.inbox.stop()
