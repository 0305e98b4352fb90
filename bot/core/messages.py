"""Neutral messages between the channels and the conversation core.

A channel adapter turns a Slack event or a Teams Activity into one :class:`Inbound`,
calls ``Assistant.handle(inbound)`` and renders the returned parts. Nothing here
knows about Slack or Teams.

Example:
    >>> inbound = Inbound(channel="terminal", tenant="local", conversation="c1",
    ...                   user_id="u1", text="RFI とは？")
    >>> [type(p).__name__ for p in assistant.handle(inbound)]   # doctest: +SKIP
    ['Text', 'CitationList', 'FeedbackRequest']
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

ChannelName = Literal["slack", "teams", "terminal", "web", "cli"]


@dataclass(frozen=True)
class Action:
    """A button press or card submit.

    ``kind`` says what the button does; ``value`` is its payload; ``ref`` ties the
    button to what it was shown for (a flow step id, an answer id, a sheet id) so
    that a click on an old button can be recognised.

    Kinds used by the core:
        ``flow.answer``  value = the option value, ref = "<session_id>:<step_id>"
        ``flow.start``   value = flow id
        ``flow.resume`` / ``flow.cancel`` / ``flow.back``  value = session id or ""
        ``flow.submit``  value = session id (confirm step), form fields may come along
        ``flow.edit_field``  value = the field (slot) picked at the confirm step (or in
            ``Inbound.form[FIELD_PICK_INPUT]``), ref = "<session_id>:<step_id>"
        ``feedback``     value = "up" | "down", ref = answer (message) id
        ``review.*``     review actions (CIO補佐), value = sheet id
    """

    kind: str
    value: str = ""
    ref: str | None = None


class AttachmentError(RuntimeError):
    """A shared file could not be fetched; ``reason`` is Japanese, for the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Attachment:
    """A file the user shared with the message (a draft 仕様書 to review).

    The channel reports ``name``, ``size`` and ``media_type`` before anything is
    downloaded, so the core can refuse a file by them without reading it; ``source``
    is the channel's own handle of the file (a Slack file id, a Teams download URL).
    ``fetch(max_bytes)`` downloads it: the adapter binds it just before the turn is
    applied (it is not stored with the turn) and raises :class:`AttachmentError` when
    the file cannot be fetched or turns out larger than ``max_bytes``.
    """

    name: str
    size: int | None
    """Bytes as the channel reports them; None when it does not (Teams): the download
    then stops at the limit."""
    media_type: str = ""
    source: str = ""
    fetch: Callable[[int], bytes] | None = field(
        default=None, compare=False, repr=False, metadata={"stored": False}
    )


@dataclass(frozen=True)
class Inbound:
    """One thing a user did: typed text, pressed a button, or submitted a form."""

    channel: ChannelName
    tenant: str
    """Slack enterprise/team id, Teams tenant id, or "local"."""
    conversation: str
    """One conversation: a Slack thread (channel:thread_ts), a Teams reply chain, a DM."""
    user_id: str
    user_name: str | None = None
    text: str | None = None
    action: Action | None = None
    form: dict[str, str] | None = None
    inbound_id: str | None = None
    """Delivery id (Slack event_id, Teams activity id) used to apply a delivery once."""
    received_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    home_tenant: str | None = None
    """The sender's own organisation (Slack team, Azure AD tenant) when the channel
    reports one that is not ``tenant``'s installation: a Slack Connect user from
    another workspace or enterprise, say. ``None``: the sender belongs to ``tenant``.
    The access policy decides whether such a sender counts as inside."""
    attachment: Attachment | None = None
    """A file shared with the message (Slack file share, Teams attachment)."""
    addressed: bool = True
    """False for a message that did not address the app (a Slack channel-thread reply
    without a mention): the core takes it only from the person running the consultation
    in ``conversation``, and otherwise answers nothing (nothing applied or recorded)."""
    find_name: Callable[[], str | None] | None = field(
        default=None, compare=False, repr=False, metadata={"stored": False}
    )
    """The channel's look-up of the sender's display name (Slack ``users.info``) when it
    leaves ``user_name`` to the core: the core uses the name it recorded and calls this
    only while none is recorded, outside its transaction (``None`` when it fails). The
    adapter binds it just before the turn is applied; it is not stored with the turn."""


ERROR_TEXT = (
    "申し訳ありません。処理中にエラーが発生しました。"
    "少し時間をおいてから、もう一度送ってください。"
    "続くようでしたら、情報政策課にお問い合わせください。"
)
"""The one apology for a turn that failed, whoever noticed (the core, Slack, Teams)."""


# --- outbound parts -------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    """Plain text (may contain simple Markdown: **bold**, lists)."""

    text: str


@dataclass(frozen=True)
class Choice:
    label: str
    action: Action
    style: Literal["default", "primary", "danger"] = "default"


@dataclass(frozen=True)
class Choices:
    """Buttons. ``prompt`` is the question they answer (may be empty)."""

    prompt: str
    options: tuple[Choice, ...]


@dataclass(frozen=True)
class Citation:
    """A clause an answer or a decision rests on."""

    doc: str
    """File name of the source document, e.g. ``kisarazu-ict-guideline.md``."""
    title: str
    """Citation title, e.g. ``木更津市 ICT活用ガイドライン（案）``."""
    section: str
    """Section path, e.g. ``【Ⅰ. 検討】 > 3. ICT 活用に関する協議``."""
    text: str = ""
    """The quoted passage, faithful to the source up to whitespace."""


@dataclass(frozen=True)
class CitationList:
    citations: tuple[Citation, ...]


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    value: str = ""
    multiline: bool = False
    required: bool = False


@dataclass(frozen=True)
class Form:
    """An editable form (Slack modal, Adaptive Card inputs, terminal prompts)."""

    title: str
    fields: tuple[FormField, ...]
    submit: Action
    submit_label: str = "送信"
    reopen: Action | None = None
    """What brings this form back when a channel cannot show it right away (Slack
    needs a fresh trigger to open a modal): the channel shows a button with this action."""
    pick: Action | None = None
    """Set: the form is a chooser — the user picks the ONE field to change. The channel
    shows the fields with their current values and sends ``Action(pick.kind, <field
    name>, pick.ref)`` for the picked one (or ``pick`` itself with the name in the input
    :data:`FIELD_PICK_INPUT`); the core answers with a form holding only that field. A
    channel that asks in place (the terminal) may instead ask for the new value and send
    ``submit`` with that one field."""

    def picked(self, name: str) -> Action:
        """The action that picks the field ``name`` of this chooser."""
        if self.pick is None:
            raise ValueError("not a field chooser")
        return Action(self.pick.kind, name, self.pick.ref)


FIELD_PICK_INPUT = "soudan_field"
"""Form input that carries the picked field's name where a channel collects the pick
as an input (a Teams ``Input.ChoiceSet``) rather than in the action's value."""


@dataclass(frozen=True)
class SheetSummary:
    """相談シート (consultation sheet) at a glance."""

    sheet_id: str
    reference: str
    status: str
    """Japanese status label, e.g. 下書き / 提出済み."""
    rows: tuple[tuple[str, str], ...]
    """(label, value) pairs in display order."""


@dataclass(frozen=True)
class FeedbackRequest:
    """Ask for 👍/👎 on the answer identified by ``answer_id``."""

    answer_id: str


@dataclass(frozen=True)
class Memo:
    """A document the core wrote for the user to read whole (a 仕様書（案） review memo).

    Channels show ``title`` as a heading and ``text`` (simple Markdown) below it:
    Slack blocks, a Teams card, the terminal as text.
    """

    title: str
    text: str


Part = Text | Choices | CitationList | Form | SheetSummary | FeedbackRequest | Memo


# --- delivering to a conversation the user is not in right now -----------------------------


@dataclass(frozen=True)
class Address:
    """Where to post later (review results, the weekly digest).

    ``conversation`` uses the same key as :attr:`Inbound.conversation` for that
    channel; ``user_id`` is set for a direct message to a person.
    """

    channel: ChannelName
    tenant: str
    conversation: str
    user_id: str | None = None


class Notifier:
    """Port: posts parts to an :class:`Address` of one channel (Slack, Teams, terminal).

    Implementations raise :class:`DeliveryError` when the post did not arrive, so
    the caller can keep it for a retry; nothing is dropped silently.
    """

    channel: ChannelName

    def deliver(self, address: Address, parts: list[Part]) -> None:  # pragma: no cover
        raise NotImplementedError


class DeliveryError(RuntimeError):
    """A post to a channel failed; the message is kept for a retry."""
