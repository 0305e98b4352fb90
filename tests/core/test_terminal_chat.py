"""The terminal chat: the same core, numbered choices instead of buttons."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator

from rich.console import Console

from bot.chat import TerminalChat
from bot.wiring import Services


def scripted(lines: list[str]) -> Callable[[str], str]:
    feed: Iterator[str] = iter(lines)

    def read(prompt: str) -> str:
        try:
            return next(feed)
        except StopIteration:
            raise EOFError from None

    return read


def test_terminal_chat_answers_and_runs_a_flow_with_numbered_choices(
    make_services: Callable[..., Services],
) -> None:
    services = make_services()
    out = io.StringIO()
    chat = TerminalChat(services.assistant, console=Console(file=out, width=200))
    chat.run(scripted([
        "RFIとは何ですか？",
        "相談を始める",
        "情報政策課",
        "庁内の文書管理",
        "紙の保管場所が足りない",
        "1",  # はい: 業務の見直しを検討した
        "電子決裁",
    ]))
    text = out.getvalue()
    assert "出典:" in text
    assert "[1] " in text
    assert "  1. はい" in text
    assert "イニシャルコスト" in text  # the "1" chose はい and the flow moved on
    assert "終了します" in text
