"""Unanswered questions with personal data appear masked in every digest format."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta, timezone

import pytest
from openpyxl import load_workbook

from bot.review.digest import build_digest
from bot.review.digest_render import FORMATS, render, render_chat
from bot.review.records import QuestionRecord
from bot.review.weeks import IsoWeek

JST = timezone(timedelta(hours=9))
W47 = IsoWeek(2026, 47)
SECRETS = ("123456789012", "1234-5678-9012", "090-1234-5678", "yamada@example.jp")


def at(day: int, hour: int) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=JST).astimezone(UTC)


QUESTIONS = [
    QuestionRecord("マイナンバー 123456789012 の扱いは？", at(17, 9), answered=False, tenant="T1"),
    QuestionRecord("1234-5678-9012 を書いてよい？", at(18, 9), answered=False, tenant="T1"),
    QuestionRecord("090-1234-5678 に電話してほしい", at(18, 10), answered=False, tenant="T1"),
    QuestionRecord("yamada@example.jp へ送って", at(19, 9), answered=False, tenant="T1"),
    QuestionRecord("2026-0001 の 3,000,000円 は 2026-11-20 まで？", at(19, 10), answered=False,
                   tenant="T1"),
]


def _text(fmt: str) -> str:
    digest = build_digest(W47, "T1", [], QUESTIONS, now=at(25, 9))
    data = render(digest, fmt)
    if fmt == "xlsx":
        workbook = load_workbook(io.BytesIO(data))
        return "\n".join(
            str(cell) for sheet in workbook.worksheets
            for row in sheet.iter_rows(values_only=True) for cell in row if cell is not None
        )
    return data.decode("utf-8-sig")


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_masks_personal_data(fmt: str) -> None:
    text = _text(fmt)
    for secret in SECRETS:
        assert secret not in text
    assert "[個人番号]" in text and "[電話番号]" in text and "[メールアドレス]" in text
    # What is not personal data stays readable.
    assert "2026-0001 の 3,000,000円 は 2026-11-20 まで？" in text


def test_the_chat_post_masks_personal_data() -> None:
    digest = build_digest(W47, "T1", [], QUESTIONS, now=at(25, 9))
    text = "\n".join(str(part) for part in render_chat(digest))
    for secret in SECRETS:
        assert secret not in text
    assert "[個人番号]" in text
