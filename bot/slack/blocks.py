"""Rendering the core's outbound parts as Slack Block Kit.

Pure functions: parts in, JSON-ready dicts out. Slack's size limits (50 blocks a
message, 3,000 characters a text, 25 buttons an actions block, 10 fields a section)
are respected here so that no post is rejected for its shape.

Example:
    >>> from bot.core.messages import Text
    >>> [m.text for m in render_messages([Text("**RFI** とは情報提供依頼です。")])]
    ['**RFI** とは情報提供依頼です。']
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import count
from typing import Any

from bot.core.messages import (
    Action,
    Choice,
    Choices,
    CitationList,
    FeedbackRequest,
    Form,
    Memo,
    Part,
    SheetSummary,
    Text,
)
from bot.slack.action_values import action_id, decode_action, encode_action

SlackBlock = dict[str, Any]

FORM_CALLBACK_ID = "soudan.form"
FORM_INPUT_ACTION_ID = "value"
CHOICES_BLOCK_PREFIX = "soudan.choices."
FEEDBACK_BLOCK_PREFIX = "soudan.feedback."
FIELD_PICK_BLOCK_PREFIX = "soudan.pick."
"""Block id of a field chooser: the prefix, then the chooser's pick action (encoded)."""
FIELD_PICK_PLACEHOLDER = "修正する項目を選択"
FORM_OPENER_LABEL = "確認画面を開く"
FORM_UNAVAILABLE_NOTE = "ここでは入力画面を開けません。現在の内容は次のとおりです。"

_MAX_BLOCKS = 50
_MAX_VIEW_BLOCKS = 100
_MAX_TEXT = 3000
_MAX_HEADER = 150
_MAX_FIELD = 2000
_MAX_FIELDS = 10
_MAX_BUTTONS = 25
_MAX_BUTTON_LABEL = 75
_MAX_CONTEXT_ELEMENTS = 10
_MAX_MODAL_TITLE = 24
_MAX_OPTIONS = 100
_MAX_OPTION_TEXT = 75
_MAX_OPTION_VALUE = 150


@dataclass(frozen=True)
class SlackMessage:
    """One chat.postMessage worth of content: notification text and blocks."""

    text: str
    blocks: list[SlackBlock]


# --- text -------------------------------------------------------------------------------------


def to_mrkdwn(text: str) -> str:
    """Escape Slack control characters and turn simple Markdown into Slack mrkdwn."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    escaped = re.sub(r"^#{1,6}\s*(.+)$", r"*\1*", escaped, flags=re.MULTILINE)
    return re.sub(r"\*\*(.+?)\*\*", r"*\1*", escaped)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _plain(text: str, limit: int = _MAX_TEXT) -> dict[str, Any]:
    return {"type": "plain_text", "text": _clip(text, limit) or " ", "emoji": True}


def _sections(text: str) -> Iterator[SlackBlock]:
    body = to_mrkdwn(text)
    # Split long answers at line ends so no section exceeds Slack's 3,000 characters.
    chunk = ""
    for line in body.splitlines(keepends=True):
        while len(line) > _MAX_TEXT:
            if chunk:
                yield {"type": "section", "text": {"type": "mrkdwn", "text": chunk}}
                chunk = ""
            yield {"type": "section", "text": {"type": "mrkdwn", "text": line[:_MAX_TEXT]}}
            line = line[_MAX_TEXT:]
        if len(chunk) + len(line) > _MAX_TEXT:
            yield {"type": "section", "text": {"type": "mrkdwn", "text": chunk}}
            chunk = ""
        chunk += line
    if chunk.strip():
        yield {"type": "section", "text": {"type": "mrkdwn", "text": chunk}}


# --- parts ------------------------------------------------------------------------------------


def _button(label: str, action: Action, index: int, style: str = "default") -> SlackBlock:
    button: SlackBlock = {
        "type": "button",
        "text": _plain(label, _MAX_BUTTON_LABEL),
        "action_id": action_id(action.kind, index),
        "value": encode_action(action),
    }
    if style in ("primary", "danger"):
        button["style"] = style
    return button


def _choice_blocks(choices: Choices, ids: Iterator[int]) -> Iterator[SlackBlock]:
    if choices.prompt:
        yield from _sections(choices.prompt)
    options: Sequence[Choice] = choices.options
    for start in range(0, len(options), _MAX_BUTTONS):
        yield {
            "type": "actions",
            "block_id": f"{CHOICES_BLOCK_PREFIX}{next(ids)}",
            "elements": [
                _button(option.label, option.action, next(ids), option.style)
                for option in options[start : start + _MAX_BUTTONS]
            ],
        }


def _citation_block(citations: CitationList) -> SlackBlock:
    elements = []
    for number, citation in enumerate(citations.citations[:_MAX_CONTEXT_ELEMENTS], start=1):
        label = f"[{number}] {citation.title}"
        if citation.section:
            label += f" > {citation.section}"
        elements.append({"type": "mrkdwn", "text": _clip(to_mrkdwn(label), _MAX_TEXT)})
    return {"type": "context", "elements": elements}


def _sheet_blocks(sheet: SheetSummary) -> Iterator[SlackBlock]:
    yield {
        "type": "section",
        "text": {
            "type": "mrkdwn",
            "text": to_mrkdwn(f"**相談シート {sheet.reference}**（{sheet.status}）"),
        },
    }
    yield from _label_value_sections(sheet.rows)


def _label_value_sections(rows: Sequence[tuple[str, str]]) -> Iterator[SlackBlock]:
    """(label, value) pairs as section fields, at most 10 to a section."""
    fields = [
        {"type": "mrkdwn", "text": _clip(to_mrkdwn(f"**{label}**\n{value or '—'}"), _MAX_FIELD)}
        for label, value in rows
    ]
    for start in range(0, len(fields), _MAX_FIELDS):
        yield {"type": "section", "fields": fields[start : start + _MAX_FIELDS]}


def _feedback_block(request: FeedbackRequest, ids: Iterator[int]) -> SlackBlock:
    answer = request.answer_id
    return {
        "type": "actions",
        "block_id": f"{FEEDBACK_BLOCK_PREFIX}{next(ids)}",
        "elements": [
            _button("👍 役に立った", Action("feedback", "up", answer), next(ids)),
            _button("👎 役に立たなかった", Action("feedback", "down", answer), next(ids)),
        ],
    }


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _field_pick_blocks(form: Form, ids: Iterator[int]) -> Iterator[SlackBlock]:
    """A field chooser: the fields in a select menu; picking one opens its modal."""
    assert form.pick is not None
    options = []
    for field in form.fields[:_MAX_OPTIONS]:
        if len(field.name) > _MAX_OPTION_VALUE:
            continue
        options.append({
            "text": _plain(_one_line(f"{field.label}: {field.value or '—'}"), _MAX_OPTION_TEXT),
            "value": field.name,
        })
    if not options:
        return
    yield from _sections(f"**{form.title}**")
    yield {
        "type": "actions",
        "block_id": FIELD_PICK_BLOCK_PREFIX + encode_action(Action(form.pick.kind, "",
                                                                   form.pick.ref)),
        "elements": [{
            "type": "static_select",
            "action_id": action_id(form.pick.kind, next(ids)),
            "placeholder": _plain(FIELD_PICK_PLACEHOLDER, _MAX_OPTION_TEXT),
            "options": options,
        }],
    }


def picked_action(block_id: str, selected: str) -> Action | None:
    """The core action of a pick in a field chooser (``None``: not a chooser's block)."""
    if not block_id.startswith(FIELD_PICK_BLOCK_PREFIX):
        return None
    base = decode_action(block_id[len(FIELD_PICK_BLOCK_PREFIX):])
    return Action(base.kind, selected, base.ref)


def render_blocks(parts: Sequence[Part], ids: Iterator[int] | None = None) -> list[SlackBlock]:
    """Blocks for every part; a :class:`Form` is left out (it becomes a modal) unless it
    is a field chooser (``Form.pick``), which is a select menu in the message."""
    ids = ids if ids is not None else count()
    blocks: list[SlackBlock] = []
    for part in parts:
        if isinstance(part, Text):
            blocks.extend(_sections(part.text))
        elif isinstance(part, Choices):
            blocks.extend(_choice_blocks(part, ids))
        elif isinstance(part, CitationList) and part.citations:
            blocks.append(_citation_block(part))
        elif isinstance(part, SheetSummary):
            blocks.extend(_sheet_blocks(part))
        elif isinstance(part, FeedbackRequest):
            blocks.append(_feedback_block(part, ids))
        elif isinstance(part, Form) and part.pick is not None:
            blocks.extend(_field_pick_blocks(part, ids))
        elif isinstance(part, Memo):
            blocks.append({"type": "header", "text": _plain(part.title, _MAX_HEADER)})
            blocks.extend(_sections(part.text))
    return blocks


def fallback_text(parts: Sequence[Part]) -> str:
    """Notification text for a message (what a phone shows; also screen readers)."""
    pieces: list[str] = []
    for part in parts:
        if isinstance(part, Text):
            pieces.append(part.text)
        elif isinstance(part, Choices) and part.prompt:
            pieces.append(part.prompt)
        elif isinstance(part, SheetSummary):
            pieces.append(f"相談シート {part.reference}（{part.status}）")
        elif isinstance(part, Memo):
            pieces.append(part.title)
    return _clip("\n".join(pieces), _MAX_TEXT) or "soudan からの返信です。"


def render_messages(parts: Sequence[Part]) -> list[SlackMessage]:
    """Messages that show ``parts`` in order, each within Slack's 50-block limit.

    Forms are left out; see :func:`render_modal` and :func:`render_form_opener`.
    """
    blocks = render_blocks(parts)
    if not blocks:
        return []
    text = fallback_text(parts)
    return [
        SlackMessage(text=text, blocks=blocks[start : start + _MAX_BLOCKS])
        for start in range(0, len(blocks), _MAX_BLOCKS)
    ]


def forms_of(parts: Sequence[Part]) -> list[Form]:
    """The forms among ``parts`` that are shown as a modal (not the field choosers)."""
    return [part for part in parts if isinstance(part, Form) and part.pick is None]


# --- forms as modals --------------------------------------------------------------------------


def render_modal(form: Form, *, private_metadata: str) -> SlackBlock:
    """A modal with one text input per form field, pre-filled with its value."""
    blocks: list[SlackBlock] = []
    for field in form.fields[:_MAX_VIEW_BLOCKS]:
        element: SlackBlock = {
            "type": "plain_text_input",
            "action_id": FORM_INPUT_ACTION_ID,
            "multiline": field.multiline,
        }
        if field.value:
            element["initial_value"] = _clip(field.value, _MAX_TEXT)
        blocks.append(
            {
                "type": "input",
                "block_id": field.name,
                "optional": not field.required,
                "label": _plain(field.label, _MAX_FIELD),
                "element": element,
            }
        )
    return {
        "type": "modal",
        "callback_id": FORM_CALLBACK_ID,
        "title": _plain(form.title, _MAX_MODAL_TITLE),
        "submit": _plain(form.submit_label, _MAX_MODAL_TITLE),
        "close": _plain("閉じる"),
        "private_metadata": private_metadata,
        "blocks": blocks,
    }


def render_form_opener(form: Form) -> SlackMessage:
    """A message that stands in for a form when no modal can open.

    Slack opens a modal only in answer to a click. With ``form.reopen`` (set by the
    core) the message has one button carrying that action; its click brings the form
    back with a fresh trigger. Without it, the fields are shown as text, and the
    message says that the form cannot be opened here (the adapter never makes up an
    action of its own).
    """
    if form.reopen is not None:
        return SlackMessage(
            text=f"{form.title}：内容を確認して送信してください。",
            blocks=[
                *_sections(f"**{form.title}**\n内容を確認して送信してください。"),
                {
                    "type": "actions",
                    "block_id": f"{CHOICES_BLOCK_PREFIX}form",
                    "elements": [_button(FORM_OPENER_LABEL, form.reopen, 0, "primary")],
                },
            ],
        )
    blocks = [
        *_sections(f"**{form.title}**\n{FORM_UNAVAILABLE_NOTE}"),
        *_label_value_sections([(field.label, field.value) for field in form.fields]),
    ]
    return SlackMessage(
        text=f"{form.title}：{FORM_UNAVAILABLE_NOTE}", blocks=blocks[:_MAX_BLOCKS]
    )


def form_values(state: dict[str, Any]) -> dict[str, str]:
    """Field name → submitted text, from a ``view_submission`` payload's ``view.state``."""
    values: dict[str, str] = {}
    for block_id, inputs in state.get("values", {}).items():
        entry = inputs.get(FORM_INPUT_ACTION_ID) or {}
        values[block_id] = entry.get("value") or ""
    return values


# --- App Home ---------------------------------------------------------------------------------


def render_home(parts: Sequence[Part]) -> SlackBlock:
    """The App Home tab: the user's 相談シート as the core lists them."""
    blocks: list[SlackBlock] = [
        {"type": "header", "text": _plain("あなたの相談シート", 150)},
    ]
    body = render_blocks(parts)
    if not body:
        body = list(
            _sections(
                "まだ相談シートはありません。\n"
                "このアプリに DM で「相談を始める」と送るか、`/soudan 相談` で相談を始められます。"
            )
        )
    blocks.extend(body[: _MAX_VIEW_BLOCKS - len(blocks)])
    return {"type": "home", "blocks": blocks}


# --- after a click ----------------------------------------------------------------------------


def mark_clicked(blocks: list[SlackBlock], *, block_id: str, clicked: str) -> list[SlackBlock]:
    """The clicked message's blocks, showing which button was pressed.

    Choice buttons are replaced by the chosen label (an old step cannot be clicked
    twice); feedback buttons stay so that a user can change their mind, with the
    pressed one highlighted.
    """
    marked: list[SlackBlock] = []
    for block in blocks:
        if (block.get("block_id") != block_id or block.get("type") != "actions"
                or block_id.startswith(FIELD_PICK_BLOCK_PREFIX)):
            # A field chooser stays: a closed modal can be picked again.
            marked.append(block)
            continue
        elements = block.get("elements", [])
        if block_id.startswith(FEEDBACK_BLOCK_PREFIX):
            restyled = []
            for element in elements:
                element = {k: v for k, v in element.items() if k != "style"}
                if element.get("action_id") == clicked:
                    element["style"] = "primary"
                restyled.append(element)
            marked.append({**block, "elements": restyled})
            continue
        label = next(
            (e.get("text", {}).get("text", "") for e in elements if e.get("action_id") == clicked),
            "",
        )
        marked.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": to_mrkdwn(f"✅ {label}")}]}
        )
    return marked
