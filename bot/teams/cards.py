"""The core's outbound parts -> Teams message activities (text and Adaptive Cards).

Parts are grouped so that one turn becomes few messages (Teams throttles a bot at
about seven messages a second per conversation, and one card reads better than a
stream of fragments): display parts (text, citations, sheet summaries) collect
until an interactive part (choices, a form, feedback buttons) closes the group.
A group of plain text only is one Markdown message; any other group is one
Adaptive Card (schema 1.4) whose ``fallbackText`` says the same in plain text.
Each card holds at most one interactive part, so a button never submits inputs
that belong to something else.

Buttons are ``Action.Submit`` whose data carries the core's
:class:`~bot.core.messages.Action` under :data:`~bot.teams.inbound.ACTION_KEY`, so
a click comes back as one Inbound.

Example:
    >>> [len(a.attachments or []) for a in render_parts([Text("回答"), FeedbackRequest("m1")])]
    [1]
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from botbuilder.core import CardFactory, MessageFactory
from botbuilder.schema import Activity, TextFormatTypes

from bot.core.messages import (
    FIELD_PICK_INPUT,
    Action,
    Choices,
    CitationList,
    FeedbackRequest,
    Form,
    Memo,
    Part,
    SheetSummary,
    Text,
)
from bot.teams.inbound import ACTION_KEY

CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
CARD_VERSION = "1.4"
FEEDBACK_QUESTION = "この回答は役に立ちましたか？"
FIELD_PICK_PLACEHOLDER = "修正する項目を選択"
FIELD_PICK_BUTTON = "この項目を修正する"
_BUTTONS_PER_ROW = 5
"""Teams squeezes more buttons than this into an overflow menu; wrap to a new row."""
_STYLES = {"default": "default", "primary": "positive", "danger": "destructive"}
_SUMMARY_CHARS = 120
_INTERACTIVE = (Choices, Form, FeedbackRequest)

Element = dict[str, Any]


def render_parts(parts: Iterable[Part]) -> list[Activity]:
    """Render the core's parts, in order, as few Teams message activities."""
    activities: list[Activity] = []
    group: list[Part] = []
    for part in parts:
        group.append(part)
        if isinstance(part, _INTERACTIVE):
            activities.append(_render_group(group))
            group = []
    if group:
        activities.append(_render_group(group))
    return activities


def submit_data(action: Action) -> dict[str, Any]:
    """``Action.Submit`` data that comes back as ``action`` when the button is pressed."""
    return {ACTION_KEY: {"kind": action.kind, "value": action.value, "ref": action.ref}}


def _render_group(group: list[Part]) -> Activity:
    if all(isinstance(part, Text) for part in group):
        texts = [part.text for part in group if isinstance(part, Text)]
        activity = MessageFactory.text("\n\n".join(texts))
        activity.text_format = TextFormatTypes.markdown
        return activity
    body: list[Element] = []
    fallback: list[str] = []
    for part in group:
        elements, plain = _elements(part)
        if body:
            elements[0] = elements[0] | {"spacing": "Medium", "separator": True}
        body += elements
        fallback.append(plain)
    plain = "\n\n".join(fallback)
    card: Element = {
        "type": "AdaptiveCard",
        "$schema": CARD_SCHEMA,
        "version": CARD_VERSION,
        "fallbackText": plain,
        "msteams": {"width": "Full"},
        "body": body,
    }
    activity = MessageFactory.attachment(CardFactory.adaptive_card(card))
    # Notification previews and clients without card support show the summary.
    activity.summary = (plain.splitlines() or [""])[0][:_SUMMARY_CHARS]
    return activity


def _elements(part: Part) -> tuple[list[Element], str]:
    """Card elements for one part, and the same in plain text."""
    match part:
        case Text():
            return _text_elements(part.text), part.text
        case CitationList():
            return _citation_elements(part)
        case SheetSummary():
            return _sheet_elements(part)
        case Choices():
            return _choice_elements(part)
        case Form():
            return _form_elements(part)
        case FeedbackRequest():
            return _feedback_elements(part)
        case Memo():
            title = _text_block(part.title, weight="Bolder", size="Medium")
            return [title, *_text_elements(part.text)], f"{part.title}\n\n{part.text}"
    raise TypeError(f"unknown outbound part: {type(part).__name__}")


def _text_block(text: str, **style: Any) -> Element:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def _text_elements(text: str) -> list[Element]:
    # One block per line: Teams clients disagree on single line breaks inside a block.
    blocks: list[Element] = []
    blank_before = False
    for line in text.splitlines() or [""]:
        if not line.strip():
            blank_before = True
            continue
        spacing = "Default" if blank_before or not blocks else "None"
        blocks.append(_text_block(line, spacing=spacing))
        blank_before = False
    return blocks or [_text_block(" ")]


def _submit(title: str, action: Action, style: str = "default") -> Element:
    return {
        "type": "Action.Submit",
        "title": title,
        "style": _STYLES.get(style, "default"),
        "data": submit_data(action),
    }


def _button_rows(buttons: list[Element]) -> list[Element]:
    return [
        {"type": "ActionSet", "actions": buttons[start : start + _BUTTONS_PER_ROW]}
        for start in range(0, len(buttons), _BUTTONS_PER_ROW)
    ]


def _choice_elements(part: Choices) -> tuple[list[Element], str]:
    elements = _text_elements(part.prompt) if part.prompt else []
    elements += _button_rows([_submit(c.label, c.action, c.style) for c in part.options])
    lines = [part.prompt] if part.prompt else []
    lines += [f"{number}. {choice.label}" for number, choice in enumerate(part.options, 1)]
    return elements, "\n".join(lines)


def _citation_elements(part: CitationList) -> tuple[list[Element], str]:
    lines = [
        f"[{number}] {citation.title} > {citation.section}"
        for number, citation in enumerate(part.citations, start=1)
    ]
    elements = [_text_block("出典", size="Small", weight="Bolder", isSubtle=True)]
    elements += [_text_block(line, size="Small", isSubtle=True, spacing="None") for line in lines]
    return elements, "\n".join(["出典", *lines])


def _field_pick_elements(part: Form) -> tuple[list[Element], str]:
    """A field chooser: the fields in a drop-down, and a button that opens the one picked."""
    assert part.pick is not None
    choices = [
        {"title": " ".join(f"{field.label}: {field.value or '—'}".split()), "value": field.name}
        for field in part.fields
    ]
    elements: list[Element] = [
        _text_block(part.title, weight="Bolder", size="Medium"),
        {
            "type": "Input.ChoiceSet",
            "id": FIELD_PICK_INPUT,
            "style": "compact",
            "placeholder": FIELD_PICK_PLACEHOLDER,
            "isRequired": True,
            "errorMessage": "修正する項目を選んでください。",
            "choices": choices,
        },
        *_button_rows([_submit(FIELD_PICK_BUTTON, part.pick)]),
    ]
    lines = [part.title] + [f"{f.label}: {f.value}" for f in part.fields]
    return elements, "\n".join(lines)


def _form_elements(part: Form) -> tuple[list[Element], str]:
    if part.pick is not None:
        return _field_pick_elements(part)
    elements: list[Element] = [_text_block(part.title, weight="Bolder", size="Medium")]
    for field in part.fields:
        text_input: Element = {
            "type": "Input.Text",
            "id": field.name,
            "label": field.label,
            "value": field.value,
            "isMultiline": field.multiline,
        }
        if field.required:
            text_input |= {"isRequired": True, "errorMessage": f"{field.label}を入力してください。"}
        elements.append(text_input)
    elements += _button_rows([_submit(part.submit_label, part.submit, "primary")])
    lines = [part.title] + [f"{f.label}: {f.value}" for f in part.fields]
    return elements, "\n".join(lines)


def _sheet_elements(part: SheetSummary) -> tuple[list[Element], str]:
    elements = [
        _text_block(f"相談シート {part.reference}", weight="Bolder", size="Medium"),
        _text_block(f"状態: {part.status}", isSubtle=True, spacing="None"),
        {
            "type": "FactSet",
            "facts": [{"title": label, "value": value or "—"} for label, value in part.rows],
        },
    ]
    lines = [f"相談シート {part.reference}（{part.status}）"]
    lines += [f"{label}: {value or '—'}" for label, value in part.rows]
    return elements, "\n".join(lines)


def _feedback_elements(part: FeedbackRequest) -> tuple[list[Element], str]:
    buttons = [
        _submit("👍 役に立った", Action("feedback", "up", part.answer_id)),
        _submit("👎 役に立たなかった", Action("feedback", "down", part.answer_id)),
    ]
    elements = [_text_block(FEEDBACK_QUESTION, size="Small", isSubtle=True), *_button_rows(buttons)]
    return elements, FEEDBACK_QUESTION
