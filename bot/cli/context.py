"""The one :class:`~bot.settings.Settings` of a ``soudan`` invocation.

The ``soudan`` callback builds it (and refuses settings that do not validate), keeps
it as the root context's ``obj`` and hands it here with :func:`keep_for_invocation`;
every command reads it with :func:`cli_settings` instead of building its own. It is
forgotten when the invocation's context closes, so a later invocation in the same
process (tests) builds its own.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import typer

from bot.settings import Settings

_current: Settings | None = None


def keep_for_invocation(ctx: typer.Context, settings: Settings) -> None:
    """Make ``settings`` the invocation's (``ctx``: the root typer/click context)."""
    global _current
    ctx.obj = settings
    _current = settings
    ctx.call_on_close(_forget)


def _forget() -> None:
    global _current
    _current = None


def cli_settings() -> Settings:
    """The settings of this invocation (outside one, e.g. a helper called directly: new)."""
    return _current if _current is not None else Settings()


def cli_zone() -> ZoneInfo:
    """The deployment's time zone (the ``timezone`` setting) for the times a command shows."""
    return ZoneInfo(cli_settings().timezone)
