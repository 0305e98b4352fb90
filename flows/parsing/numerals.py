"""漢数字・位取り (Japanese numerals with unit characters) to exact numbers.

Handles Arabic digits with decimals and thousands separators, kanji digits, the small
units 十・百・千 and the large units 万・億・兆, mixed freely as budget documents write
them: ``1億2000万``, ``千二百万``, ``3百万``, ``0.3億``, ``3,000千``, ``二〇〇万``.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_KANJI_DIGITS = {
    "〇": 0, "零": 0, "一": 1, "壱": 1, "二": 2, "弐": 2, "三": 3, "参": 3, "四": 4,
    "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
}  # fmt: skip
_SMALL_UNITS = {"十": 10, "拾": 10, "百": 100, "千": 1000, "阡": 1000}
_LARGE_UNITS = {"万": 10**4, "萬": 10**4, "億": 10**8, "兆": 10**12}
_ARABIC_RE = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?|\.\d+")
NUMERAL_CHARS = "".join(_KANJI_DIGITS) + "".join(_SMALL_UNITS) + "".join(_LARGE_UNITS)
NUMERAL_RE = re.compile(rf"(?:\d[\d,]*(?:\.\d+)?|[{NUMERAL_CHARS}])+")


def parse_numeral(text: str) -> Decimal | None:
    """Read a numeral (no other characters) as an exact :class:`~decimal.Decimal`.

    Returns ``None`` when ``text`` is not a well-formed numeral.

    Example:
        >>> parse_numeral("1億2000万")
        Decimal('120000000')
        >>> parse_numeral("千二百万")
        Decimal('12000000')
    """
    if not text:
        return None
    total = Decimal(0)  # sum of completed large-unit groups
    group = Decimal(0)  # value below the current large unit
    current: Decimal | None = None  # digits read, waiting for a unit
    last_large: int | None = None
    position = 0
    while position < len(text):
        char = text[position]
        arabic = _ARABIC_RE.match(text, position)
        if arabic:
            if current is not None:
                return None
            try:
                current = Decimal(arabic.group().replace(",", ""))
            except InvalidOperation:
                return None
            position = arabic.end()
            continue
        if char in _KANJI_DIGITS:
            if current is not None:
                # 二〇〇 style: positional kanji digits.
                current = current * 10 + _KANJI_DIGITS[char]
            else:
                current = Decimal(_KANJI_DIGITS[char])
        elif char in _SMALL_UNITS:
            group += (current if current is not None else Decimal(1)) * _SMALL_UNITS[char]
            current = None
        elif char in _LARGE_UNITS:
            unit = _LARGE_UNITS[char]
            if last_large is not None and unit >= last_large:
                return None  # 万億 or 万万: out of order
            amount = group + (current if current is not None else Decimal(0))
            if amount == 0:
                amount = Decimal(1)  # 万円 alone reads as 一万円
            total += amount * unit
            group = Decimal(0)
            current = None
            last_large = unit
        else:
            return None
        position += 1
    return total + group + (current if current is not None else Decimal(0))
