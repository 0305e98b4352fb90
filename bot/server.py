"""The HTTP server of ``soudan serve``: ``/healthz``, Slack ``/slack/events``, Teams ``/api/messages``,
and the web console ``/console/`` (:mod:`bot.web`).

Channel adapters mount their own routes; this module only decides which to mount
from the settings and runs the background jobs (Slack Socket Mode, the weekly digest).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.health import index_health, log_index_health

if TYPE_CHECKING:
    from bot.wiring import Services

log = logging.getLogger(__name__)


class ChannelConfigError(RuntimeError):
    """A channel is configured in a way soudan refuses to start with."""

DIGEST_CHECK_SECONDS = 60.0


async def healthz(request: web.Request) -> web.Response:
    """``{"status": "ok"}``; or HTTP 200 with ``"status": "degraded"`` and ``"reasons"``
    when the knowledge index is empty, unreachable or built with another embedding model
    (consultations still work, and a restart would not fix the index)."""
    services: Services = request.app["services"]
    await asyncio.to_thread(services.database_ping)  # keep the event loop free
    body: dict[str, Any] = {"status": "ok"}
    index = await asyncio.to_thread(index_health, services.knowledge)
    if index is not None:
        body["index"] = index.as_json()
        if index.problem is not None:
            body["status"] = "degraded"
            body["reasons"] = [index.problem]
    return web.json_response(body)


async def _report_index(app: web.Application) -> None:
    """At start-up: one English log line when the knowledge index is degraded."""
    services: Services = app["services"]
    await asyncio.to_thread(log_index_health, services.knowledge)


def build_web_app(services: Services) -> web.Application:
    """An aiohttp application with every channel the settings configure.

    Raises:
        ChannelConfigError: a channel is half-configured or unsafe (e.g. Teams without
            an app id and without ``SOUDAN_TEAMS_ALLOW_ANONYMOUS=true``).
    """
    settings = services.settings
    app = web.Application()
    app["services"] = services
    app.router.add_get("/healthz", healthz)
    app.on_startup.append(_report_index)

    if settings.slack_configured:
        from bot.slack import SlackNotifier, build_slack_app, mount_slack, start_socket_mode

        slack_app = build_slack_app(settings, services)
        services.notifiers["slack"] = SlackNotifier(settings)
        if settings.slack_app_token is not None:
            app.cleanup_ctx.append(_background(start_socket_mode(slack_app, settings)))
        else:
            mount_slack(app, slack_app)

    if settings.teams_configured:
        from bot.teams import check_teams_settings, mount_teams

        try:
            check_teams_settings(settings)
        except ValueError as error:
            raise ChannelConfigError(str(error)) from error
        services.notifiers["teams"] = mount_teams(app, settings, services)

    _mount_console(app, services)
    app.cleanup_ctx.append(_background(_digest_loop(services)))
    app.cleanup_ctx.append(_background(_outbox_loop(services)))
    return app


def _mount_console(app: web.Application, services: Services) -> None:
    if services.settings.console_enabled and services.console is not None:
        from bot.web import build_console, mount_console

        mount_console(app, build_console(services))


def build_console_app(services: Services) -> web.Application:
    """Only ``/healthz`` and the web console: what ``soudan start`` serves on localhost
    beside the terminal chat (no channel, no background jobs)."""
    app = web.Application()
    app["services"] = services
    app.router.add_get("/healthz", healthz)
    _mount_console(app, services)
    return app


def _background(
    coro: Coroutine[Any, Any, None],
) -> Callable[[web.Application], AsyncIterator[None]]:
    """Run ``coro`` for the lifetime of the app (aiohttp cleanup context)."""

    async def context(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.ensure_future(coro)
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return context


async def _digest_loop(services: Services) -> None:
    """Post the weekly digest when due, and prune old messages (at start-up, then every six
    hours); several replicas may run this (digest claims are in the DB, deletes idempotent)."""
    while True:
        try:
            await asyncio.to_thread(services.run_due_jobs)
        except Exception:  # keep the loop alive; the next tick retries
            log.exception("digest scheduler tick failed")
        await asyncio.sleep(DIGEST_CHECK_SECONDS)


async def _outbox_loop(services: Services) -> None:
    """Post due notices (review results) at start-up and every few seconds: what a
    crashed process or a down channel left is delivered without anyone asking."""
    while True:
        try:
            await asyncio.to_thread(services.deliver_outbox)
        except Exception as exc:  # the database may be down; the next tick retries
            log.error("outbox tick failed: %s", type(exc).__name__)
        await asyncio.sleep(services.settings.outbox_poll_seconds)


def serve_app(app: web.Application, *, host: str, port: int) -> None:
    """Serve until interrupted."""
    web.run_app(app, host=host, port=port, print=None)
