"""Translating Slack payloads into turns for the conversation core.

A :class:`Turn` is what one Slack request asks of the core (an :class:`Inbound`
still missing the display name) plus where the reply goes. Pure functions: a
payload dict in, a turn (or ``None`` when the payload is not for us) out.

Conversation key: ``"{channel_id}:{root_ts}"``; a thread is one conversation, and a
top-level DM message starts a new one keyed on its own ``ts``.

Slack Connect: a user of another workspace or enterprise can write in a shared
channel. Each turn reports the user's own team (:attr:`Turn.home`) when the payload
names one that is not the app's installation (``event.user_team`` / ``event.team``
for events, ``user.team_id`` for clicks, modals and shortcuts); the core's access
policy decides what such a user may do. Slash commands report no separate user team.

In channels the app is spoken to with ``@soudan``. A reply without the mention in a
channel thread becomes a turn flagged :attr:`Turn.only_in_active_flow` (an
``Inbound`` with ``addressed=False``): the core takes it only from the person running
the consultation in that thread (typed answers) and answers anyone else with nothing,
so people talking among themselves are never answered.

Example:
    >>> event = {"type": "message", "channel": "D1", "channel_type": "im",
    ...          "user": "U1", "text": "RFI とは？", "ts": "10.1"}
    >>> turn = turn_from_message({"event_id": "Ev1", "event": event}, tenant="T1")
    >>> turn.thread.conversation, turn.inbound_id, turn.text
    ('D1:10.1', 'Ev1', 'RFI とは？')
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, replace
from typing import Any

from bot.core.commands import Command, command_word, parse_command
from bot.core.messages import Action, Attachment, Inbound
from bot.slack.action_values import decode_action, encode_action
from bot.slack.blocks import SlackBlock, form_values, mark_clicked, picked_action
from bot.slack.files import attachment_of

CONSULTATION_FLOW_ID = ""
"""Flow the message shortcut 「この内容で相談する」 starts: empty, the entry flow
(the flow file with ``sheet.entry: true``)."""

# /soudan <word> [rest]: a word alone that spells one of the core's commands
# (bot.core.commands) becomes that command's usual word; 「質問 …」 asks the rest.
_QUESTION_WORDS = ("質問",)
_USER_MESSAGE_SUBTYPES = (None, "file_share", "thread_broadcast")
_CHANNEL_TYPES = ("channel", "group")  # public and private channels (message.channels/.groups)
_MENTION = re.compile(r"<@([A-Z0-9]+)>")


@dataclass(frozen=True)
class Thread:
    """Where a reply goes.

    ``root_ts`` is None when the reply starts a new thread at the top level of
    ``channel``; ``channel`` is None when it goes to a DM with the user (a click on
    the App Home tab has no channel).
    """

    channel: str | None
    root_ts: str | None = None

    @property
    def conversation(self) -> str:
        if self.channel is None or self.root_ts is None:
            raise ValueError("the thread has no root message yet")
        return f"{self.channel}:{self.root_ts}"


@dataclass(frozen=True)
class Clicked:
    """The message a button was clicked in, re-rendered to show the click."""

    channel: str
    ts: str
    text: str
    blocks: list[SlackBlock]


@dataclass(frozen=True)
class Turn:
    """One Slack request for the core, and how to acknowledge and answer it."""

    tenant: str
    user_id: str
    thread: Thread
    inbound_id: str
    text: str | None = None
    action: Action | None = None
    form: dict[str, str] | None = None
    trigger_id: str | None = None
    react_to: str | None = None
    """``ts`` of the user's message to mark with a reaction while the answer is prepared."""
    clicked: Clicked | None = None
    response_url: str | None = None
    """Where to answer privately when the channel cannot be posted to (slash command)."""
    only_in_active_flow: bool = False
    """A channel thread reply without ``@soudan``: a turn only if the sender runs the
    consultation in this thread, which the core decides (``Inbound.addressed`` False);
    otherwise nothing is shown or posted."""
    home: str | None = None
    """The user's own team / enterprise when it is not the installation's (Slack Connect)."""
    attachment: Attachment | None = None
    """A file shared with the message (its download is bound when the turn is applied)."""

    def inbound(self, thread: Thread, user_name: str | None) -> Inbound:
        """The core's inbound message, once the thread has a root message."""
        return Inbound(
            channel="slack",
            tenant=self.tenant,
            conversation=thread.conversation,
            user_id=self.user_id,
            user_name=user_name,
            text=self.text,
            action=self.action,
            form=self.form,
            inbound_id=self.inbound_id,
            home_tenant=self.home,
            addressed=not self.only_in_active_flow,
            attachment=self.attachment,
        )

    @property
    def lane(self) -> str:
        """The conversation the inbox orders this turn in.

        A turn that opens a new thread (a slash command, a click on the App Home tab)
        has no conversation yet: a command gets a lane of its own, App Home clicks
        queue per user.
        """
        if self.thread.channel is not None and self.thread.root_ts is not None:
            return self.thread.conversation
        if self.thread.channel is not None:
            return f"{self.thread.channel}:new:{self.inbound_id}"
        return f"home:{self.user_id}"

    def stored(self) -> tuple[Inbound, dict[str, Any]]:
        """What the inbox keeps of this turn: the inbound message (in :attr:`lane`) and
        the JSON delivery context :func:`restore_turn` reads back."""
        inbound = Inbound(
            channel="slack",
            tenant=self.tenant,
            conversation=self.lane,
            user_id=self.user_id,
            text=self.text,
            action=self.action,
            form=self.form,
            inbound_id=self.inbound_id,
            home_tenant=self.home,
            addressed=not self.only_in_active_flow,
            attachment=self.attachment,
        )
        delivery: dict[str, Any] = {
            "thread": [self.thread.channel, self.thread.root_ts],
            "trigger_id": self.trigger_id,
            "react_to": self.react_to,
            "clicked": asdict(self.clicked) if self.clicked is not None else None,
            "response_url": self.response_url,
            "only_in_active_flow": self.only_in_active_flow,
        }
        return inbound, delivery


def restore_turn(inbound: Inbound, delivery: dict[str, Any]) -> Turn:
    """The turn :meth:`Turn.stored` kept (with the thread a placeholder may have opened).

    Raises:
        ValueError: the delivery context is not one :meth:`Turn.stored` wrote.
    """
    try:
        channel, root_ts = delivery["thread"]
        clicked = delivery.get("clicked")
        return Turn(
            tenant=inbound.tenant,
            user_id=inbound.user_id,
            thread=Thread(channel, root_ts),
            inbound_id=inbound.inbound_id or "",
            text=inbound.text,
            action=inbound.action,
            form=inbound.form,
            trigger_id=delivery.get("trigger_id"),
            react_to=delivery.get("react_to"),
            clicked=Clicked(**clicked) if clicked is not None else None,
            response_url=delivery.get("response_url"),
            only_in_active_flow=bool(delivery.get("only_in_active_flow")),
            home=inbound.home_tenant,
            attachment=inbound.attachment,
        )
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError("not a stored Slack turn") from error


def _unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _plain_text(text: str, bot_user_id: str | None) -> str:
    without_bot = _MENTION.sub(lambda m: "" if m.group(1) == bot_user_id else m.group(0), text)
    return _unescape(without_bot).strip()


def _installation(body: dict[str, Any], tenant: str) -> set[str]:
    """Team and enterprise ids the payload gives for the app's own installation."""
    ids: list[Any] = [tenant, body.get("team_id"), body.get("enterprise_id"),
                      body.get("context_team_id"), body.get("context_enterprise_id")]
    view = body.get("view")
    if isinstance(view, dict):
        ids.append(view.get("app_installed_team_id"))
    for authorization in body.get("authorizations") or []:
        if isinstance(authorization, dict):
            ids += [authorization.get("team_id"), authorization.get("enterprise_id")]
    for key in ("team", "enterprise"):
        value = body.get(key)
        if isinstance(value, dict):
            ids.append(value.get("id"))
    return {str(i) for i in ids if i}


def user_home(body: dict[str, Any], user_team: object, *, tenant: str) -> str | None:
    """The user's own team when the payload reports one outside the installation.

    ``None`` when no team is reported, when it is the installation's team or
    enterprise, or when the event says the channel is not shared with another
    organisation (``is_ext_shared_channel: false``).

    Example:
        >>> body = {"team_id": "T1", "is_ext_shared_channel": True}
        >>> user_home(body, "T9", tenant="T1"), user_home(body, "T1", tenant="T1")
        ('T9', None)
    """
    if not isinstance(user_team, str) or not user_team:
        return None
    if body.get("is_ext_shared_channel") is False:
        return None
    return None if user_team in _installation(body, tenant) else user_team


def _event_user_team(event: dict[str, Any]) -> object:
    profile = event.get("user_profile")
    return (
        event.get("user_team")
        or (profile.get("team") if isinstance(profile, dict) else None)
        or event.get("team")
    )


def _clicker_team(body: dict[str, Any]) -> object:
    user = body.get("user")
    return user.get("team_id") if isinstance(user, dict) else None


def turn_from_message(
    body: dict[str, Any], *, tenant: str, bot_user_id: str | None = None
) -> Turn | None:
    """A DM to the app, or a reply without a mention in a channel thread.

    ``None`` for edits, joins, bot posts, top-level channel messages, and messages
    that mention the app (their ``app_mention`` event is the turn).
    """
    event = body.get("event", {})
    if event.get("bot_id") or event.get("subtype") not in _USER_MESSAGE_SUBTYPES:
        return None  # bot posts, edits, deletions, joins ...
    channel_type = event.get("channel_type")
    if channel_type == "im":
        return _turn_from_user_message(body, event, tenant=tenant, bot_user_id=bot_user_id)
    if channel_type not in _CHANNEL_TYPES or bot_user_id is None:
        return None
    thread_ts = event.get("thread_ts")
    if not thread_ts or thread_ts == event.get("ts"):
        return None  # top level of the channel: not addressed to the app
    if f"<@{bot_user_id}>" in (event.get("text") or ""):
        return None
    turn = _turn_from_user_message(body, event, tenant=tenant, bot_user_id=bot_user_id)
    return replace(turn, only_in_active_flow=True) if turn is not None else None


def turn_from_mention(
    body: dict[str, Any], *, tenant: str, bot_user_id: str | None = None
) -> Turn | None:
    """An ``@soudan`` mention in a channel; the reply goes in the message's thread."""
    event = body.get("event", {})
    if event.get("bot_id"):
        return None
    return _turn_from_user_message(body, event, tenant=tenant, bot_user_id=bot_user_id)


def _turn_from_user_message(
    body: dict[str, Any], event: dict[str, Any], *, tenant: str, bot_user_id: str | None
) -> Turn | None:
    text = _plain_text(event.get("text") or "", bot_user_id)
    attachment = attachment_of(event)
    if (not text and attachment is None) or not event.get("user"):
        return None
    return Turn(
        tenant=tenant,
        user_id=event["user"],
        thread=Thread(event["channel"], event.get("thread_ts") or event["ts"]),
        inbound_id=body.get("event_id") or f"message:{event['channel']}:{event['ts']}",
        text=text or None,
        react_to=event["ts"],
        home=user_home(body, _event_user_team(event), tenant=tenant),
        attachment=attachment,
    )


def turn_from_click(body: dict[str, Any], *, tenant: str) -> Turn:
    """A click on one of our buttons (a flow choice, feedback, the form opener)."""
    clicked = body["actions"][0]
    user_id = body["user"]["id"]
    message = body.get("message")
    channel = (body.get("channel") or {}).get("id") or body.get("container", {}).get("channel_id")
    shown: Clicked | None = None
    if message is not None and channel:
        thread = Thread(channel, message.get("thread_ts") or message["ts"])
        shown = Clicked(
            channel=channel,
            ts=message["ts"],
            text=message.get("text", ""),
            blocks=mark_clicked(
                message.get("blocks", []),
                block_id=clicked.get("block_id", ""),
                clicked=clicked["action_id"],
            ),
        )
    else:  # the App Home tab: answer in a DM
        thread = Thread(None)
    return Turn(
        tenant=tenant,
        user_id=user_id,
        thread=thread,
        inbound_id=f"click:{user_id}:{clicked['action_id']}:{clicked['action_ts']}",
        action=_clicked_action(clicked),
        trigger_id=body.get("trigger_id"),
        clicked=shown,
        home=user_home(body, _clicker_team(body), tenant=tenant),
    )


def _clicked_action(clicked: dict[str, Any]) -> Action:
    """The core action of a button click or a pick in a field chooser's select menu."""
    selected = clicked.get("selected_option")
    if isinstance(selected, dict):
        picked = picked_action(str(clicked.get("block_id") or ""), str(selected.get("value")))
        if picked is None:
            raise ValueError("a select menu that is not a field chooser")
        return picked
    return decode_action(clicked["value"])


def form_metadata(submit: Action, thread: Thread) -> str:
    """``private_metadata`` of a modal: the submit action and where to answer."""
    return json.dumps(
        {"a": encode_action(submit), "c": thread.channel, "t": thread.root_ts},
        ensure_ascii=False,
        separators=(",", ":"),
    )


def turn_from_submission(body: dict[str, Any], *, tenant: str) -> Turn:
    """A modal submit: the edited fields go to the core with the form's submit action."""
    view = body["view"]
    metadata = json.loads(view.get("private_metadata") or "{}")
    user_id = body["user"]["id"]
    return Turn(
        tenant=tenant,
        user_id=user_id,
        thread=Thread(metadata.get("c"), metadata.get("t")),
        inbound_id=f"view:{view['id']}:{view.get('hash', '')}",
        action=decode_action(metadata["a"]),
        form=form_values(view.get("state", {})),
        trigger_id=body.get("trigger_id"),
        home=user_home(body, _clicker_team(body), tenant=tenant),
    )


def command_text(text: str) -> str:
    """What ``/soudan <text>`` says to the core.

    Example:
        >>> command_text("相談"), command_text("質問 RFI とは？"), command_text("")
        ('相談を始める', 'RFI とは？', 'ヘルプ')
    """
    word, _, rest = text.strip().partition(" ")
    word = word.strip().lower()
    if not word:
        return command_word(Command.HELP)
    if word in _QUESTION_WORDS:
        return rest.strip() or command_word(Command.HELP)
    command = parse_command(word)
    if command is not None and not rest.strip():
        return command_word(command)
    return text.strip()


def turn_from_command(body: dict[str, Any], *, tenant: str) -> Turn:
    """``/soudan …``: the reply starts a new thread in the channel it was typed in."""
    return Turn(
        tenant=tenant,
        user_id=body["user_id"],
        thread=Thread(body["channel_id"]),
        inbound_id=f"command:{body['trigger_id']}",
        text=command_text(_unescape(body.get("text") or "")),
        trigger_id=body["trigger_id"],
        response_url=body.get("response_url"),
    )


def turn_from_shortcut(body: dict[str, Any], *, tenant: str) -> Turn:
    """「この内容で相談する」: start a consultation with the message as its description."""
    message = body.get("message", {})
    channel = body["channel"]["id"]
    return Turn(
        tenant=tenant,
        user_id=body["user"]["id"],
        thread=Thread(channel, message.get("thread_ts") or message.get("ts")),
        inbound_id=f"shortcut:{body['trigger_id']}",
        text=_unescape(message.get("text") or "").strip() or None,
        action=Action("flow.start", CONSULTATION_FLOW_ID),
        trigger_id=body["trigger_id"],
        response_url=body.get("response_url"),
        home=user_home(body, _clicker_team(body), tenant=tenant),
    )
