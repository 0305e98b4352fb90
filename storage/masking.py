"""Masking personal data in text that leaves the conversation: digests and exports.

One function, :func:`mask_personal_data`, replaces

* e-mail addresses with ``[メールアドレス]``;
* マイナンバー-like numbers (exactly 12 digits, in groups of 4 with or without hyphens
  or spaces) with ``[個人番号]``;
* telephone numbers (10 or 11 digits starting with 0, or +81, with or without hyphens,
  spaces or brackets) with ``[電話番号]``.

Amounts (``3,000,000円``, ``300万円``), dates (``2026-11-20``), 整理番号
(``2026-0001``), section numbers (``3.1.2``, ``第3条第2項``) and postal codes are left
as they are. Full-width digits and separators count like ASCII ones.

Example:
    >>> mask_personal_data("山田 090-1234-5678 yamada@example.jp 1234 5678 9012 に 300万円")
    '山田 [電話番号] [メールアドレス] [個人番号] に 300万円'
"""

from __future__ import annotations

import re

EMAIL_MASK = "[メールアドレス]"
MY_NUMBER_MASK = "[個人番号]"
PHONE_MASK = "[電話番号]"

_D = "[0-9０-９]"
_NOT_D = "[^0-9０-９]"
_SEP = "[-‐‑–—−－ー\\s　]"  # hyphens, dashes, 長音 typed as a hyphen, spaces
_UNITS = "(?:円|万|億|千|百|件|人|年|ヶ月|か月|カ月|月|日|時間|分|秒|%|％|倍|回|歳|才|名|社)"

_W = "A-Za-z0-9Ａ-Ｚａ-ｚ０-９"
_EMAIL = re.compile(
    rf"[{_W}._%+\-＿．－]+[@＠][{_W}\-－]+(?:[.．][{_W}\-－]+)*[.．][A-Za-zＡ-Ｚａ-ｚ]{{2,}}"
)
# Exactly 12 digits: 4-4-4 with optional separators, not part of a longer number and
# not an amount or a count (「300000000000円」).
_MY_NUMBER = re.compile(
    rf"(?<!{_D})(?<!{_D}[-‐－]){_D}{{4}}{_SEP}?{_D}{{4}}{_SEP}?{_D}{{4}}"
    rf"(?!{_D}|[-‐－]{_D}|[.,，．]{_D}|\s*{_UNITS})"
)
# 0 + 9 or 10 more digits (03-1234-5678, 090-1234-5678, 0120-123-456, 03(1234)5678,
# 0312345678), or +81 and 9 or 10 digits; one separator at most between two digits.
_PHONE_SEP = "[-‐‑–—−－ー\\s　()（）]"
_PHONE = re.compile(
    rf"(?<!{_D})(?<!{_D}[-‐－.,])"
    rf"(?:(?:[(（](?=[0０]{_D}{{0,4}}[)）]))?[0０]|[+＋][8８][1１]{_PHONE_SEP}{{0,2}}(?:[(（][0０][)）])?)"
    rf"{_D}(?:{_PHONE_SEP}?{_D}){{8,9}}"
    rf"(?!{_D}|[-‐－.,]{_D}|\s*{_UNITS})"
)


def mask_personal_data(text: str) -> str:
    """``text`` with e-mail addresses, マイナンバー-like numbers and phone numbers masked."""
    if not text:
        return text
    masked = _EMAIL.sub(EMAIL_MASK, text)
    masked = _MY_NUMBER.sub(MY_NUMBER_MASK, masked)
    return _PHONE.sub(_phone_mask, masked)


def _phone_mask(match: re.Match[str]) -> str:
    digits = sum(char.isdigit() for char in match.group(0))
    if match.group(0).lstrip("(（").startswith(("+", "＋")):
        return PHONE_MASK  # +81 and 9 or 10 national digits
    return PHONE_MASK if digits in (10, 11) else match.group(0)
