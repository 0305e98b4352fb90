"""Links from the digest and the review queue to a sheet's detail.

Every sheet gets a CLI reference (``soudan review show 2026-0012``). When the
conversation the sheet was made in allows it, a chat link is built as well:

Slack (conversation key ``<channel id>:<thread ts>`` or ``<channel id>``)
    ``https://app.slack.com/client/<team id>/<channel id>/thread/<channel id>-<thread ts>``
    (or ``.../client/<team id>/<channel id>`` without a thread). This is the web-client
    route, which needs no workspace domain; ``chat.getPermalink`` would need an API
    call the digest must not depend on.

Teams (conversation key = the Bot Framework conversation id)
    channel reply chain ``19:…@thread.tacv2;messageid=<id>``:
    ``https://teams.microsoft.com/l/message/<channel id>/<id>``
    ``?tenantId=<tenant>&parentMessageId=<id>``;
    group or 1:1 chat ``19:…``:
    ``https://teams.microsoft.com/l/chat/<chat id>/conversations?tenantId=<tenant>``.
    Bot-framework personal ids (``a:…``) have no public deep link: no URL.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from bot.core.messages import Address


@dataclass(frozen=True)
class SheetLink:
    """Where a reader finds a sheet's detail."""

    cli: str
    """The CLI command that shows it."""
    url: str | None = None
    """Slack / Teams link to the conversation, when one can be built."""


def cli_reference(reference: str) -> str:
    """``soudan review show <reference>``."""
    return f"soudan review show {reference}"


def slack_link(address: Address) -> str | None:
    """Slack web-client link to the thread (or channel) of ``address``."""
    channel, _, thread_ts = address.conversation.partition(":")
    if not channel or not address.tenant:
        return None
    base = f"https://app.slack.com/client/{quote(address.tenant)}/{quote(channel)}"
    if thread_ts:
        return f"{base}/thread/{quote(channel)}-{quote(thread_ts)}"
    return base


def teams_link(address: Address) -> str | None:
    """Teams deep link to the reply chain or chat of ``address``."""
    conversation = address.conversation
    tenant = quote(address.tenant, safe="")
    if ";messageid=" in conversation:
        channel_id, _, message_id = conversation.partition(";messageid=")
        return (
            f"https://teams.microsoft.com/l/message/{quote(channel_id, safe='')}/"
            f"{quote(message_id, safe='')}?tenantId={tenant}"
            f"&parentMessageId={quote(message_id, safe='')}"
        )
    if conversation.startswith("19:"):
        return (
            f"https://teams.microsoft.com/l/chat/{quote(conversation, safe='')}/"
            f"conversations?tenantId={tenant}"
        )
    return None


def sheet_link(reference: str, address: Address | None) -> SheetLink:
    """The CLI reference plus a chat link when ``address`` allows building one.

    Example:
        >>> sheet_link("2026-0001", Address("slack", "T1", "C1:1700000000.000100")).url
        'https://app.slack.com/client/T1/C1/thread/C1-1700000000.000100'
    """
    url: str | None = None
    if address is not None and address.channel == "slack":
        url = slack_link(address)
    elif address is not None and address.channel == "teams":
        url = teams_link(address)
    return SheetLink(cli=cli_reference(reference), url=url)
