"""The one :class:`~bot.settings.Settings` of a ``soudan`` invocation.

The ``soudan`` callback builds it (and refuses settings that do not validate) and keeps
it as the root context's ``obj``; every command reads it with :func:`cli_settings`
instead of building its own.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import click

from bot.settings import Settings


def cli_settings() -> Settings:
    """The settings of this invocation (built once; outside a CLI call, built now)."""
    context = click.get_current_context(silent=True)
    root = context.find_root() if context is not None else None
    if root is not None and isinstance(root.obj, Settings):
        return root.obj
    settings = Settings()
    if root is not None:
        root.obj = settings
    return settings


def cli_zone() -> ZoneInfo:
    """The deployment's time zone (the ``timezone`` setting) for the times a command shows."""
    return ZoneInfo(cli_settings().timezone)
