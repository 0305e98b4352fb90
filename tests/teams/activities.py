"""Teams activities as the Bot Connector posts them (JSON wire format)."""

from __future__ import annotations

import itertools
from typing import Any

TENANT = "72f988bf-0000-4000-8000-000000000001"
OTHER_TENANT = "0bad0bad-0000-4000-8000-00000000beef"
BOT_ID = "28:soudan-bot"
PERSONAL_CONVERSATION = "a:1personal-chat-with-hanako"
CHANNEL_THREAD = "19:procurement@thread.tacv2;messageid=1700000000001"

_ids = itertools.count(1)


def new_activity_id() -> str:
    return f"1700{next(_ids):09d}"


def message(
    service_url: str,
    text: str | None = None,
    *,
    value: dict[str, Any] | None = None,
    activity_id: str | None = None,
    conversation: str = PERSONAL_CONVERSATION,
    tenant: str = TENANT,
    user_aad_id: str | None = "aad-object-hanako",
    user_name: str = "山田 花子",
    mention_bot: bool = False,
) -> dict[str, Any]:
    """A message from a user (typed text, or a card submit when ``value`` is given)."""
    personal = conversation.startswith("a:")
    sender: dict[str, Any] = {"id": "29:teams-user-hanako", "name": user_name}
    if user_aad_id is not None:
        sender["aadObjectId"] = user_aad_id
    activity: dict[str, Any] = {
        "type": "message",
        "id": activity_id or new_activity_id(),
        "timestamp": "2026-11-21T09:00:00.000Z",
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": sender,
        "conversation": {
            "id": conversation,
            "conversationType": "personal" if personal else "channel",
            "tenantId": tenant,
            **({} if personal else {"isGroup": True}),
        },
        "recipient": {"id": BOT_ID, "name": "soudan"},
        "channelData": {"tenant": {"id": tenant}},
        "locale": "ja-JP",
    }
    if text is not None:
        activity["text"] = f"<at>soudan</at>&nbsp;{text}" if mention_bot else text
        activity["textFormat"] = "plain"
    if mention_bot:
        activity["entities"] = [
            {
                "type": "mention",
                "text": "<at>soudan</at>",
                "mentioned": {"id": BOT_ID, "name": "soudan"},
            }
        ]
    if value is not None:
        activity["value"] = value
    return activity


def submit_of(card: dict[str, Any], title: str, **inputs: str) -> dict[str, Any]:
    """The ``value`` Teams sends when the button ``title`` of ``card`` is pressed."""
    for action in _actions(card):
        if action.get("title") == title:
            assert action["type"] == "Action.Submit"
            return {**action["data"], **inputs}
    titles = [a.get("title") for a in _actions(card)]
    raise AssertionError(f"no button {title!r} on the card; buttons: {titles}")


def button_titles(card: dict[str, Any]) -> list[str]:
    return [str(a.get("title")) for a in _actions(card)]


def _actions(card: dict[str, Any]) -> list[dict[str, Any]]:
    found = list(card.get("actions") or [])
    for element in card.get("body") or []:
        if element.get("type") == "ActionSet":
            found += element.get("actions") or []
    return found
