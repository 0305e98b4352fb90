"""数値 (counts and quantities) typed in Japanese.

``3人``, ``約10件``, ``1,200``, ``二十``, ``1万件``, ``12.5`` → a number. Integral
values come back as ``int``, others as ``float``.
"""

from __future__ import annotations

import re

from flows.parsing.answer_errors import AnswerNotUnderstood
from flows.parsing.normalize import normalize_answer
from flows.parsing.numerals import NUMERAL_RE, parse_numeral

_REASK = "数として読み取れませんでした。「12」「1,200」「約30人」のように数字で入力してください。"
_PREFIXES = ("約", "およそ", "概ね", "おおむね", "大体", "だいたい", "ほぼ", "年間", "月間", "毎年")
_SUFFIX_RE = re.compile(r"(?:くらい|ぐらい|程度|前後|ほど|位)?(?:です)?$")
_COUNTER_RE = re.compile(
    r"(?:事業者|業者|社|人|名|件|台|個|回|時間|日|か所|ヶ所|箇所|カ所|本|枚|部|課|校|施設|世帯|アカウント|ライセンス|ユーザー?)$"
)


def parse_number(text: str) -> int | float:
    """Read a count or quantity.

    Raises:
        AnswerNotUnderstood: Not one number; ``reask`` says what to type.

    Example:
        >>> parse_number("約1,200件")
        1200
    """
    body = normalize_answer(text)
    if body in {"なし", "無し", "ゼロ", "ない"}:
        return 0
    for prefix in _PREFIXES:
        if body.startswith(prefix):
            body = body[len(prefix) :]
    body = _SUFFIX_RE.sub("", body)
    body = _COUNTER_RE.sub("", body)
    body = _SUFFIX_RE.sub("", body)
    if not body or NUMERAL_RE.fullmatch(body) is None:
        raise AnswerNotUnderstood(_REASK)
    value = parse_numeral(body)
    if value is None:
        raise AnswerNotUnderstood(_REASK)
    if value == value.to_integral_value():
        return int(value)
    return float(value)
