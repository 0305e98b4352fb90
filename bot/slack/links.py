"""Slack's deep link to a conversation (:func:`bot.core.links.sheet_link` asks for it).

Conversation key ``<channel id>:<thread ts>`` or ``<channel id>``:
``https://app.slack.com/client/<team id>/<channel id>/thread/<channel id>-<thread ts>``
(or ``.../client/<team id>/<channel id>`` without a thread). This is the web-client
route, which needs no workspace domain; ``chat.getPermalink`` would need an API call
the digest must not depend on.
"""

from __future__ import annotations

from urllib.parse import quote

from bot.core.messages import Address


def conversation_link(address: Address) -> str | None:
    """Slack web-client link to the thread (or channel) of ``address``."""
    channel, _, thread_ts = address.conversation.partition(":")
    if not channel or not address.tenant:
        return None
    base = f"https://app.slack.com/client/{quote(address.tenant)}/{quote(channel)}"
    if thread_ts:
        return f"{base}/thread/{quote(channel)}-{quote(thread_ts)}"
    return base
