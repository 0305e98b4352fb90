"""The terminal chat: the same core, numbered choices instead of buttons."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator

from rich.console import Console

import storage
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


def test_an_edit_that_flips_a_decision_is_shown_and_confirmed_again(
    make_services: Callable[..., Services],
) -> None:
    services = make_services()
    out = io.StringIO()
    chat = TerminalChat(services.assistant, console=Console(file=out, width=200))
    chat.run(scripted([
        "相談を始める", "市民課", "住民票の窓口交付", "待ち時間が長い", "はい", "電子申請",
        "450万円", "年50万円", "いいえ", "いいえ", "はい", "はい", "いいえ", "いいえ",
        # At the confirm step: 1 = the edit form; pick one field by number, type its value.
        "1", "5", "280万円",
    ]))
    text = out.getvalue()
    assert "原則として DX推進本部会議で ICT 活用に関する協議が必要です" in text
    assert "変更する項目の番号を入力してください" in text
    assert "  5. イニシャルコスト（設計額）: 4,500,000円（450万円）" in text
    assert "「イニシャルコスト（設計額）」を「2,800,000円（280万円）」に変更しました" in text
    assert "判断結果が変わったため、まだ提出していません" in text
    after_edit = text.split("まだ提出していません")[1]
    assert "DX推進本部会議での協議は原則として不要です" in after_edit
    assert "CIO補佐に提出しました" not in text

    # The user read the new decision; now they confirm (2 = この内容で確定する).
    chat.run(scripted(["2"]))
    assert "CIO補佐に提出しました" in out.getvalue()
    with services.database.session() as session:
        [sheet] = storage.list_sheets(session=session)
    assert sheet.status == storage.SheetStatus.SUBMITTED
    assert sheet.initial_cost == 2_800_000
    assert sheet.outcomes["dx_council_required"] is False
