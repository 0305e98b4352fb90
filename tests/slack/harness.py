"""Running the real Slack app on 127.0.0.1 for a test: settings and the served app."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.settings import Settings
from bot.slack import SlackApp
from tests.slack.mock_web_api import MockSlackApi
from tests.slack.slack_requests import (
    SlackSender,
    block_action,
    block_select,
    channel_message,
    dm,
    event_envelope,
    view_submission,
)
from tests.slack.slack_requests import mention as mention_event

SIGNING_SECRET = "test-signing-secret-0123456789"
BOT_TOKEN = "xoxb-test-token"


def slack_settings(data_dir: Path, api: MockSlackApi, **overrides: Any) -> Settings:
    """Settings with test credentials and the Web API pointed at the mock."""
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "slack_bot_token": BOT_TOKEN,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_base_url": api.base_url,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@dataclass
class SlackHarness:
    """One running app ("one process"): its bolt app and a signed-request sender."""

    app: SlackApp
    sender: SlackSender


StartApp = Callable[[Settings, Any], Awaitable[SlackHarness]]
"""The ``start_app`` fixture: serve a new app for (settings, services)."""


# --- reading what the bot shows, and acting on it like a user ----------------------------


@dataclass
class ShownMessage:
    """A bot message as the user sees it now (posts with their later updates applied)."""

    channel: str
    ts: str
    thread_ts: str | None
    text: str
    blocks: list[dict[str, Any]]

    def as_payload(self) -> dict[str, Any]:
        return {"type": "message", "user": "UBOT", "ts": self.ts, "text": self.text,
                "thread_ts": self.thread_ts or self.ts, "blocks": self.blocks}

    def button_labels(self) -> list[str]:
        return [e["text"]["text"] for b in self.blocks if b["type"] == "actions"
                for e in b["elements"] if e["type"] == "button"]

    def select_options(self) -> list[str]:
        """The option texts of the select menus in this message (a field chooser)."""
        return [o["text"]["text"] for b in self.blocks if b["type"] == "actions"
                for e in b["elements"] if e["type"] == "static_select" for o in e["options"]]

    def body(self) -> str:
        """Every text the blocks show, in order (mrkdwn as sent)."""
        texts: list[str] = []
        for block in self.blocks:
            if isinstance(block.get("text"), dict):
                texts.append(block["text"]["text"])
            for item in block.get("fields", []) + block.get("elements", []):
                text = item.get("text")
                texts.append(text["text"] if isinstance(text, dict) else str(text or ""))
        return "\n".join(texts) or self.text


def shown_messages(api: MockSlackApi) -> list[ShownMessage]:
    """The bot's messages in posting order, as they look after every update."""
    shown: dict[str, ShownMessage] = {}
    for call in api.calls:
        if call.args.get("_status") != 200:
            continue
        if call.method == "chat.postMessage":
            ts = call.result["ts"]
            shown[ts] = ShownMessage(call.args["channel"], ts, call.args.get("thread_ts"),
                                     call.args.get("text", ""), call.args.get("blocks") or [])
        elif call.method == "chat.update" and call.args["ts"] in shown:
            message = shown[call.args["ts"]]
            message.text = call.args.get("text", "")
            message.blocks = call.args.get("blocks") or []
        elif call.method == "chat.delete":
            shown.pop(call.args["ts"], None)
    return list(shown.values())


@dataclass
class SlackUser:
    """A staff member talking to the app in one thread, through signed requests.

    In a DM (``channel`` starting with ``D``) every message is a ``message.im``
    event. In a channel the first message mentions the app (``app_mention``) and
    starts the thread; later ones are plain thread replies (``message.channels``)
    unless ``say(..., mention=True)``.
    """

    slack: SlackHarness
    api: MockSlackApi
    user: str = "U100"
    channel: str = "D100"
    root: str | None = None

    def thread(self) -> list[ShownMessage]:
        """The bot's messages in this user's thread."""
        return [m for m in shown_messages(self.api)
                if m.channel == self.channel and self.root in (m.thread_ts, m.ts)]

    async def say(self, text: str, *, mention: bool = False) -> list[ShownMessage]:
        """Type ``text`` (the first message starts the thread); returns the new bot messages."""
        before = len(self.thread())
        if self.channel.startswith("D"):
            event = dm(text, user=self.user, channel=self.channel, thread_ts=self.root)
        elif mention or self.root is None:
            event = mention_event(text, user=self.user, channel=self.channel,
                                  thread_ts=self.root)
        else:
            event = channel_message(text, user=self.user, channel=self.channel,
                                    thread_ts=self.root)
        self.root = self.root or event["ts"]
        status, _ = await self.slack.sender.event(event_envelope(event))
        assert status == 200
        await self.slack.app.drain()
        return self.thread()[before:]

    async def click(self, label: str) -> list[ShownMessage]:
        """Press the newest button labelled ``label`` in the thread."""
        message = next(m for m in reversed(self.thread()) if label in m.button_labels())
        button = next(e for b in message.blocks if b["type"] == "actions"
                      for e in b["elements"] if e["type"] == "button"
                      and e["text"]["text"] == label)
        before = len(self.thread())
        payload = block_action(message.as_payload(), channel=self.channel,
                               action_id=button["action_id"], user=self.user)
        status, _ = await self.slack.sender.interaction(payload)
        assert status == 200
        await self.slack.app.drain()
        return self.thread()[before:]

    async def pick(self, label: str) -> list[ShownMessage]:
        """Pick the option starting with ``label`` in the newest select menu that has one."""
        message = next(m for m in reversed(self.thread())
                       if any(o.startswith(label) for o in m.select_options()))
        before = len(self.thread())
        payload = block_select(message.as_payload(), channel=self.channel, label=label,
                               user=self.user)
        status, _ = await self.slack.sender.interaction(payload)
        assert status == 200
        await self.slack.app.drain()
        return self.thread()[before:]

    async def submit(self, view: dict[str, Any], values: dict[str, str]) -> list[ShownMessage]:
        """Submit a modal the bot opened, with ``values`` typed over the shown ones."""
        before = len(self.thread())
        status, body = await self.slack.sender.interaction(
            view_submission(view, values, user=self.user))
        assert (status, body) == (200, "")
        await self.slack.app.drain()
        return self.thread()[before:]
