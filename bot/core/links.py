"""Links to where a sheet was made, in neutral terms: a :class:`SheetLink` for an
:class:`~bot.core.messages.Address`.

Every sheet gets a CLI reference (``soudan review show 2026-0012``). A chat link is
the channel's business: each adapter that can link to a conversation provides a
``conversation_link(address) -> str | None`` in its ``links`` module (Slack:
:mod:`bot.slack.links`, Teams: :mod:`bot.teams.links`), named in
:data:`LINK_PROVIDERS` and imported the first time a link of that channel is asked
for. The digest, the review parts and the console call :func:`sheet_link` and never
see a channel's URL format.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib import import_module
from typing import cast

from bot.core.messages import Address, ChannelName
from storage.models import ConsultationSheet

LinkFormat = Callable[[Address], str | None]
"""A channel's deep link to the conversation of an address (None when it has none)."""

LINK_PROVIDERS: dict[str, str] = {"slack": "bot.slack.links", "teams": "bot.teams.links"}
"""Channel -> the adapter module whose ``conversation_link`` formats its links."""


@dataclass(frozen=True)
class SheetLink:
    """Where a reader finds a sheet's detail."""

    cli: str
    """The CLI command that shows it."""
    url: str | None = None
    """Link to the conversation in its channel, when one can be built."""


def sheet_address(sheet: ConsultationSheet) -> Address:
    """The conversation ``sheet`` was made in, with its requester: where review results
    are posted and what a link to the sheet points at."""
    return Address(
        channel=cast(ChannelName, sheet.channel), tenant=sheet.tenant,
        conversation=sheet.conversation, user_id=sheet.requester_id,
    )


def cli_reference(reference: str) -> str:
    """``soudan review show <reference>``."""
    return f"soudan review show {reference}"


@cache
def link_format(channel: str) -> LinkFormat | None:
    """The link format the adapter of ``channel`` provides; None for a channel without."""
    module = LINK_PROVIDERS.get(channel)
    if module is None:
        return None
    provided: LinkFormat = import_module(module).conversation_link
    return provided


def sheet_link(reference: str, address: Address | None) -> SheetLink:
    """The CLI reference plus a chat link when the channel of ``address`` builds one.

    Example:
        >>> sheet_link("2026-0001", Address("slack", "T1", "C1:1700000000.000100")).url
        'https://app.slack.com/client/T1/C1/thread/C1-1700000000.000100'
    """
    link = link_format(address.channel) if address is not None else None
    url = link(address) if link is not None and address is not None else None
    return SheetLink(cli=cli_reference(reference), url=url)
