"""Teams' deep link to a conversation (:func:`bot.core.links.sheet_link` asks for it).

Conversation key = the Bot Framework conversation id:

* channel reply chain ``19:…@thread.tacv2;messageid=<id>``:
  ``https://teams.microsoft.com/l/message/<channel id>/<id>?tenantId=<tenant>&parentMessageId=<id>``;
* group or 1:1 chat ``19:…``:
  ``https://teams.microsoft.com/l/chat/<chat id>/conversations?tenantId=<tenant>``;
* Bot Framework personal ids (``a:…``) have no public deep link: no URL.
"""

from __future__ import annotations

from urllib.parse import quote

from bot.core.messages import Address


def conversation_link(address: Address) -> str | None:
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
