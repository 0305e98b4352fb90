"""Terminal chat: the same conversation core, with numbered choices instead of buttons.

Example:
    $ soudan chat
    > DX推進本部で協議が必要なのはどんな場合？
    > 相談を始める
"""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from rich.console import Console

from bot.core.messages import (
    Action,
    Address,
    Choices,
    CitationList,
    FeedbackRequest,
    Form,
    Inbound,
    Memo,
    Notifier,
    Part,
    SheetSummary,
    Text,
)
from bot.core.outbox import Outbox
from bot.terminal_markdown import print_markdown
from storage import Database

InputFn = Callable[[str], str]
EXIT_WORDS = ("終了", "exit", "quit")
"""Typed alone, these end the terminal chat (never sent to the core)."""

_WELCOME = (
    "soudan（ICT 調達相談アシスタント）です。ガイドラインについて質問するか、"
    "「相談を始める」と入力してください。番号で選択肢を選べます。"
    "「ヘルプ」で使い方、「終了」または Ctrl-D で終わります。"
)


class _Handler(Protocol):
    """What the chat needs from the core (``bot.core.assistant.Assistant`` fits)."""

    def handle(self, inbound: Inbound) -> list[Part]: ...


@dataclass
class TerminalChat:
    """A read-eval-print loop over ``Assistant.handle``."""

    assistant: _Handler
    console: Console = field(default_factory=Console)
    user_id: str = "terminal-user"
    user_name: str = "端末ユーザー"
    conversation: str = field(default_factory=lambda: f"terminal-{uuid.uuid4().hex[:8]}")
    database: Database | None = None
    """Where notices for this user wait (review results); shown when the chat starts."""
    _options: list[Action] = field(default_factory=list)
    _form: Form | None = None

    def run(self, read: InputFn = input) -> None:
        """Loop until end of input or 「終了」."""
        self.console.print(_WELCOME, soft_wrap=True)
        self.show_pending_notices()
        while True:
            try:
                line = read("> ").strip()
            except (EOFError, KeyboardInterrupt):
                self.console.print("\n終了します。")
                return
            if not line:
                continue
            if line in EXIT_WORDS:
                self.console.print("終了します。進行中の相談は「続きから」で再開できます。")
                return
            self.show(self.assistant.handle(self.to_inbound(line, read)))

    def show_pending_notices(self) -> int:
        """Print the notices waiting in the outbox for this user (e.g. a 相談シート returned
        with ``soudan review return``); each is shown once. Returns how many."""
        if self.database is None:
            return 0
        outbox = Outbox(self.database, {"terminal": _ConsoleNotices(self)})
        return len(outbox.deliver_due(user=("local", self.user_id)).sent)

    def to_inbound(self, line: str, read: InputFn) -> Inbound:
        """Turn a typed line into an inbound message (a number picks a shown choice)."""
        action: Action | None = None
        form: dict[str, str] | None = None
        text: str | None = line
        if line.isdigit() and 1 <= int(line) <= len(self._options):
            action = self._options[int(line) - 1]
            text = None
            if self._form is not None and action == self._form.submit:
                form = self._fill_form(self._form, read)
        return Inbound(
            channel="terminal",
            tenant="local",
            conversation=self.conversation,
            user_id=self.user_id,
            user_name=self.user_name,
            text=text,
            action=action,
            form=form,
            inbound_id=uuid.uuid4().hex,
        )

    def _fill_form(self, form: Form, read: InputFn) -> dict[str, str]:
        """Pick one field by number and type its new value; the others stay as they are."""
        values = {f.name: f.value for f in form.fields}
        if len(form.fields) == 1:
            chosen = form.fields[0]
        else:
            self.console.print(
                f"{form.title}: 変更する項目の番号を入力してください（Enter で変更しません）",
                markup=False, highlight=False, soft_wrap=True,
            )
            for number, form_field in enumerate(form.fields, start=1):
                self.console.print(f"  {number}. {form_field.label}: {form_field.value}",
                                   markup=False, highlight=False, soft_wrap=True)
            try:
                typed = read("番号: ").strip()
            except EOFError:
                typed = ""
            typed = unicodedata.normalize("NFKC", typed)
            if not (typed.isdigit() and 1 <= int(typed) <= len(form.fields)):
                return values
            chosen = form.fields[int(typed) - 1]
        try:
            new_value = read(f"{chosen.label} [{chosen.value}]: ").strip()
        except EOFError:
            new_value = ""
        values[chosen.name] = new_value or chosen.value
        return values

    def show(self, parts: list[Part]) -> None:
        """Print parts; remember the numbered choices for the next line."""
        options: list[Action] = []
        form: Form | None = None
        for part in parts:
            if isinstance(part, Text):
                print_markdown(part.text, self.console)  # drawn on a terminal, else as is
                continue
            for line in render_lines(part, first_number=len(options) + 1):
                # soft_wrap: let the terminal wrap Japanese text instead of hard newlines.
                self.console.print(line, markup=False, highlight=False, soft_wrap=True)
            if isinstance(part, Choices):
                options.extend(choice.action for choice in part.options)
            elif isinstance(part, Form):
                form = part
                options.append(part.submit)
        self._options = options
        self._form = form


class _ConsoleNotices(Notifier):
    """The terminal's :class:`Notifier`: prints a notice before the first prompt."""

    channel = "terminal"

    def __init__(self, chat: TerminalChat) -> None:
        self._chat = chat

    def deliver(self, address: Address, parts: list[Part]) -> None:
        self._chat.console.print("【お知らせ】", markup=False, highlight=False)
        for part in parts:
            if isinstance(part, (Choices, Form)):
                continue  # nothing to press before the conversation has started
            if isinstance(part, Text):
                print_markdown(part.text, self._chat.console)
                continue
            for line in render_lines(part):
                self._chat.console.print(line, markup=False, highlight=False, soft_wrap=True)


def render_lines(part: Part, *, first_number: int = 1) -> list[str]:
    """Plain-text lines for one part; choices are numbered from ``first_number``."""
    if isinstance(part, Text):
        return [part.text]
    if isinstance(part, Choices):
        lines = [part.prompt] if part.prompt else []
        lines += [
            f"  {number}. {choice.label}"
            for number, choice in enumerate(part.options, start=first_number)
        ]
        return lines
    if isinstance(part, CitationList):
        lines = ["出典:"]
        for number, citation in enumerate(part.citations, start=1):
            lines.append(f"  [{number}] {citation.title} > {citation.section}")
        return lines
    if isinstance(part, SheetSummary):
        lines = [f"相談シート {part.reference}（{part.status}）"]
        lines += [f"  {label}: {value}" for label, value in part.rows]
        return lines
    if isinstance(part, Form):
        return [f"  {first_number}. {part.title}（変更する項目を番号で選んで、{part.submit_label}）"]
    if isinstance(part, FeedbackRequest):
        return []
    if isinstance(part, Memo):
        return [f"【{part.title}】", part.text]
    raise TypeError(f"unknown part {type(part).__name__}")
