"""The web console (管理画面): the review queue, the sheets, the weekly digest, in a browser.

Served by ``soudan serve`` next to ``/slack/events`` and ``/api/messages`` (same
process and port), and by ``soudan start`` on localhost beside the terminal chat.
Sign-in is a short-lived, single-use link the chat issues on 「管理画面」
(:mod:`bot.web.signin`); every page goes through the review desk's access policy
and audit (:mod:`bot.web.pages`).

Example:
    >>> services = build_services(Settings())               # doctest: +SKIP
    >>> app = web.Application()                             # doctest: +SKIP
    >>> mount_console(app, build_console(services))         # doctest: +SKIP
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.web.signin import SignInLinks, console_key

if TYPE_CHECKING:
    from aiohttp import web

    from bot.web.app import Console
    from bot.wiring import Services

__all__ = ["SignInLinks", "build_console", "console_key", "mount_console"]


def build_console(services: Services) -> Console:
    """The console over the running system (needs the review desk and the sign-in links)."""
    from bot.web.app import Console

    if services.review is None or services.console is None:
        raise RuntimeError("the web console needs the review desk and the sign-in links")
    return Console(
        settings=services.settings, database=services.database, desk=services.review.desk,
        links=services.console, titles=services.titles, flows=services.flows,
        drafts=services.assistant.drafts,
    )


def mount_console(app: web.Application, console: Console) -> None:
    """Serve ``console`` under ``/console`` in ``app``."""
    from bot.web.app import mount_console as mount

    mount(app, console)
