"""はい／いいえ from buttons and free text; ambiguous answers give None (re-ask)."""

from __future__ import annotations

import pytest

from flows.parsing import parse_yes_no

CASES = [
    ("yes", True), ("no", False), ("YES", True), ("Ｙｅｓ", True), ("y", True), ("n", False),
    ("はい", True), ("はい。", True), ("はい、あります", True), ("はいそうです", True),
    ("うん", True), ("ええ", True), ("ある", True), ("あります", True), ("あり", True),
    ("該当する", True), ("該当します", True), ("そうです", True), ("必要です", True),
    ("実績はあります", True), ("検討しました", True), ("扱います", True),
    ("いいえ", False), ("いいえ、違います", False), ("ない", False), ("ないです", False),
    ("ありません", False), ("違う", False), ("違います", False), ("特にない", False),
    ("特になし", False), ("該当しない", False), ("該当しません", False), ("なし", False),
    ("不要", False), ("まだ", False), ("実績はない", False), ("整理できていない", False),
    ("検討していません", False), ("いや", False), ("ううん", False),
    ("ありませんでした", False), ("なかった", False), ("予定なし", False), ("必要ない", False),
    ("わからない", None), ("分かりません", None), ("どちらとも言えない", None),
    ("はい、ありません", None), ("たぶん", None), ("", None), ("りんご", None),
    ("450万円", None),
]  # fmt: skip


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_yes_no(text: str, expected: bool | None) -> None:
    assert parse_yes_no(text) is expected
