"""Personal data masked in digests and exports: what is masked, and what must stay."""

from __future__ import annotations

import pytest

from storage.masking import EMAIL_MASK, MY_NUMBER_MASK, PHONE_MASK, mask_personal_data

MASKED = [
    # マイナンバー-like: 12 digits, any grouping of 4-4-4
    ("番号は123456789012です", f"番号は{MY_NUMBER_MASK}です"),
    ("1234-5678-9012", MY_NUMBER_MASK),
    ("1234 5678 9012", MY_NUMBER_MASK),
    ("１２３４－５６７８－９０１２", MY_NUMBER_MASK),
    ("個人番号:1234　5678　9012。", f"個人番号:{MY_NUMBER_MASK}。"),
    # telephone numbers
    ("03-1234-5678", PHONE_MASK),
    ("090-1234-5678に電話", f"{PHONE_MASK}に電話"),
    ("09012345678", PHONE_MASK),
    ("0312345678", PHONE_MASK),
    ("0120-123-456", PHONE_MASK),
    ("03(1234)5678", PHONE_MASK),
    ("(03)1234-5678", PHONE_MASK),
    ("０４３８－２３－１１１１", PHONE_MASK),
    ("+81-90-1234-5678", PHONE_MASK),
    ("+81 3 1234 5678", PHONE_MASK),
    ("050 1234 5678", PHONE_MASK),
    # e-mail addresses
    ("yamada.hanako@city.kisarazu.lg.jp まで", f"{EMAIL_MASK} まで"),
    ("連絡先 a_b+c@example.com", f"連絡先 {EMAIL_MASK}"),
    ("ｙａｍａｄａ＠ｅｘａｍｐｌｅ．ｊｐ です", f"{EMAIL_MASK} です"),
    ("yamada＠example.jp", EMAIL_MASK),
    # several at once
    (
        "山田(090-1234-5678, yamada@example.jp)の番号 123456789012",
        f"山田({PHONE_MASK}, {EMAIL_MASK})の番号 {MY_NUMBER_MASK}",
    ),
]

KEPT = [
    "3,000,000円",
    "300万円以上は協議が必要ですか？",
    "1,000,000,000,000円",
    "300000000000円",
    "2026-11-20",
    "2026/11/20",
    "2026年11月20日",
    "整理番号 2026-0001",
    "2026-0001 と 2026-0002",
    "第3条第2項",
    "3.1.2 の規定",
    "【Ⅰ. 検討】 > 3. ICT 活用に関する協議",
    "〒292-8501",
    "060-0001",
    "令和8年度",
    "R9",
    "12345678901",  # 11 digits not starting with 0
    "1234567890123",  # 13 digits (法人番号)
    "10:30〜12:00",
    "123456789012345",
    "0円",
    "年間120万円、5年で600万円",
    "RFI とは何ですか",
    "",
]


@pytest.mark.parametrize(("text", "expected"), MASKED)
def test_personal_data_is_masked(text: str, expected: str) -> None:
    assert mask_personal_data(text) == expected


@pytest.mark.parametrize("text", KEPT)
def test_amounts_dates_and_references_are_kept(text: str) -> None:
    assert mask_personal_data(text) == text


def test_masking_is_idempotent() -> None:
    once = mask_personal_data("090-1234-5678 / 123456789012 / a@example.jp")
    assert mask_personal_data(once) == once
