"""Markdown is drawn for a person at a terminal and passes through unchanged into a pipe."""

from __future__ import annotations

import io

from rich.console import Console

from bot.chat import TerminalChat
from bot.core.messages import Inbound, Part, Text
from bot.terminal_markdown import hard_breaks, print_markdown

MARKDOWN = "# 情報提供依頼書（案）\n\n**回答**\n判断結果:\n■ 必要です\n\n- 見積書\n- `soudan flow document`"


def _console(*, terminal: bool) -> Console:
    return Console(
        file=io.StringIO(),
        force_terminal=terminal,
        width=100,
        color_system="standard" if terminal else None,
    )


def test_a_terminal_gets_bold_headings_lists_and_code_without_the_markers() -> None:
    console = _console(terminal=True)
    print_markdown(MARKDOWN, console)
    shown = console.file.getvalue()  # type: ignore[attr-defined]
    assert "\x1b[1m" in shown  # bold
    for marker in ("**", "# ", "`", "- 見積書"):
        assert marker not in shown
    assert "見積書" in shown and "回答" in shown and "•" in shown
    # Single line breaks stay: each decision line on its own line.
    lines = [line.strip() for line in shown.splitlines()]
    assert any(line.endswith("判断結果:") for line in lines)


def test_a_pipe_gets_the_markdown_as_it_is() -> None:
    console = _console(terminal=False)
    print_markdown(MARKDOWN, console)
    assert console.file.getvalue() == MARKDOWN + "\n"  # type: ignore[attr-defined]


def test_hard_breaks_keep_lines_but_leave_blocks_and_code_alone() -> None:
    assert hard_breaks("a\nb\n- c\n- d") == "a  \nb\n- c\n- d"
    assert hard_breaks("```\nx\ny\n```") == "```\nx\ny\n```"


class _Echo:
    def handle(self, inbound: Inbound) -> list[Part]:
        return [Text("**回答**\n`soudan` の使い方")]


def test_the_terminal_chat_draws_the_cores_markdown_on_a_terminal() -> None:
    console = _console(terminal=True)
    chat = TerminalChat(_Echo(), console=console)
    answers = iter(["ヘルプ"])

    def read(prompt: str) -> str:
        try:
            return next(answers)
        except StopIteration:
            raise EOFError from None

    chat.run(read)
    shown = console.file.getvalue()  # type: ignore[attr-defined]
    assert "回答" in shown and "**" not in shown and "`soudan`" not in shown
