"""Signed Slack requests (Events API, interactivity, slash commands) sent over HTTP.

Signing follows Slack's v0 scheme: ``v0=HMAC-SHA256(secret, "v0:{ts}:{body}")``.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import aiohttp

from tests.slack.mock_web_api import TEAM_ID

_ids = itertools.count(1)


def signature(secret: str, timestamp: str, body: str) -> str:
    base = f"v0:{timestamp}:{body}".encode()
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@dataclass
class SlackSender:
    """Posts signed requests to the app's ``/slack/events``."""

    url: str
    secret: str
    session: aiohttp.ClientSession
    clock: Any = field(default=time.time)

    async def post(
        self,
        body: str,
        content_type: str,
        *,
        retry_num: int | None = None,
        secret: str | None = None,
        timestamp: str | None = None,
    ) -> tuple[int, str]:
        ts = timestamp or str(int(self.clock()))
        headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": ts,
            "X-Slack-Signature": signature(secret or self.secret, ts, body),
        }
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = "http_timeout"
        async with self.session.post(self.url, data=body.encode(), headers=headers) as response:
            return response.status, await response.text()

    async def event(self, envelope: dict[str, Any], **kwargs: Any) -> tuple[int, str]:
        return await self.post(json.dumps(envelope), "application/json", **kwargs)

    async def interaction(self, payload: dict[str, Any], **kwargs: Any) -> tuple[int, str]:
        body = urlencode({"payload": json.dumps(payload)})
        return await self.post(body, "application/x-www-form-urlencoded", **kwargs)

    async def command(self, fields: dict[str, str], **kwargs: Any) -> tuple[int, str]:
        return await self.post(urlencode(fields), "application/x-www-form-urlencoded", **kwargs)


# --- payload builders --------------------------------------------------------------------


def event_envelope(event: dict[str, Any], *, event_id: str | None = None) -> dict[str, Any]:
    return {
        "token": "legacy",
        "team_id": TEAM_ID,
        "api_app_id": "A0001",
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{next(_ids):08d}",
        "event_time": int(time.time()),
        "authorizations": [{"team_id": TEAM_ID, "user_id": "UBOT", "is_bot": True}],
    }


def dm(text: str, *, user: str = "U100", ts: str | None = None, thread_ts: str | None = None,
       channel: str = "D100") -> dict[str, Any]:
    event = {"type": "message", "channel": channel, "channel_type": "im", "user": user,
             "text": text, "ts": ts or f"1699999999.{next(_ids):06d}", "team": TEAM_ID}
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def mention(text: str, *, user: str = "U100", channel: str = "C100",
            thread_ts: str | None = None, ts: str | None = None) -> dict[str, Any]:
    event = {"type": "app_mention", "channel": channel, "user": user,
             "text": f"<@UBOT> {text}", "ts": ts or f"1699999998.{next(_ids):06d}",
             "team": TEAM_ID}
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def channel_message(text: str, *, user: str = "U100", channel: str = "C100",
                    thread_ts: str | None = None, ts: str | None = None,
                    channel_type: str = "channel") -> dict[str, Any]:
    """A ``message.channels`` (``channel_type="group"``: ``message.groups``) event."""
    event = {"type": "message", "channel": channel, "channel_type": channel_type,
             "user": user, "text": text, "ts": ts or f"1699999997.{next(_ids):06d}",
             "team": TEAM_ID}
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


def block_action(message: dict[str, Any], *, channel: str, action_id: str,
                 user: str = "U100") -> dict[str, Any]:
    """A click on the button ``action_id`` of a message the bot posted."""
    button = next(
        (element, block["block_id"])
        for block in message["blocks"] if block["type"] == "actions"
        for element in block["elements"] if element["action_id"] == action_id
    )
    return _block_actions(message, channel=channel, user=user, action={
        "action_id": action_id, "block_id": button[1], "value": button[0]["value"],
        "type": "button", "text": button[0]["text"],
    })


def block_select(message: dict[str, Any], *, channel: str, label: str,
                 user: str = "U100") -> dict[str, Any]:
    """Picking the option whose text starts with ``label`` in a select menu of a message."""
    block, select, option = next(
        (block, element, option)
        for block in message["blocks"] if block["type"] == "actions"
        for element in block["elements"] if element["type"] == "static_select"
        for option in element["options"] if option["text"]["text"].startswith(label)
    )
    return _block_actions(message, channel=channel, user=user, action={
        "action_id": select["action_id"], "block_id": block["block_id"],
        "type": "static_select", "selected_option": option,
        "placeholder": select.get("placeholder"),
    })


def _block_actions(message: dict[str, Any], *, channel: str, user: str,
                   action: dict[str, Any]) -> dict[str, Any]:
    """The ``block_actions`` payload of one action on a message the bot posted."""
    trigger_id = f"trig.{next(_ids)}"
    return {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "team_id": TEAM_ID},
        "api_app_id": "A0001",
        "team": {"id": TEAM_ID, "domain": "test"},
        "container": {"type": "message", "message_ts": message["ts"], "channel_id": channel,
                      "is_ephemeral": False},
        "trigger_id": trigger_id,
        "channel": {"id": channel, "name": "directmessage"},
        "message": message,
        "actions": [{**action, "action_ts": f"1700000100.{next(_ids):06d}"}],
    }


def view_submission(view: dict[str, Any], values: dict[str, str], *,
                    user: str = "U100") -> dict[str, Any]:
    """Submitting a modal the bot opened, with ``values`` typed into its inputs."""
    state = {
        block["block_id"]: {"value": {"type": "plain_text_input", "value": values.get(
            block["block_id"], block["element"].get("initial_value"))}}
        for block in view["blocks"] if block["type"] == "input"
    }
    return {
        "type": "view_submission",
        "team": {"id": TEAM_ID, "domain": "test"},
        "user": {"id": user, "username": user.lower(), "team_id": TEAM_ID},
        "api_app_id": "A0001",
        "trigger_id": f"trig.{next(_ids)}",
        "view": {**view, "id": view.get("id", "V1"), "hash": f"h{next(_ids)}",
                 "state": {"values": state}, "team_id": TEAM_ID, "app_id": "A0001"},
    }


def slash_command(text: str, *, user: str = "U100", channel: str = "C100") -> dict[str, str]:
    return {"token": "legacy", "team_id": TEAM_ID, "team_domain": "test",
            "channel_id": channel, "channel_name": "general", "user_id": user,
            "user_name": user.lower(), "command": "/soudan", "text": text, "api_app_id": "A0001",
            "response_url": "https://hooks.slack.invalid/commands/1",
            "trigger_id": f"trig.{next(_ids)}"}


def message_shortcut(text: str, *, user: str = "U100", channel: str = "C100",
                     ts: str = "1699990000.000100") -> dict[str, Any]:
    return {"type": "message_action", "callback_id": "soudan_consult",
            "team": {"id": TEAM_ID, "domain": "test"},
            "user": {"id": user, "name": user.lower(), "team_id": TEAM_ID},
            "channel": {"id": channel, "name": "general"}, "api_app_id": "A0001",
            "trigger_id": f"trig.{next(_ids)}", "message_ts": ts,
            "message": {"type": "message", "user": "U200", "text": text, "ts": ts},
            "response_url": "https://hooks.slack.invalid/actions/1"}


def home_opened(user: str = "U100") -> dict[str, Any]:
    return {"type": "app_home_opened", "user": user, "channel": "D100", "tab": "home",
            "event_ts": f"1700000200.{next(_ids):06d}"}
