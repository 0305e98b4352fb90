"""金額 (money amounts) typed in Japanese, to an integer number of yen.

Accepted forms include ``450万円``, ``4,500,000円``, ``約300万``, ``299万円（税込）``,
``４５０万円``, ``0.3億円``, ``三百万円``, ``千二百万円``, ``1億2000万円``,
``300万円くらい``, ``3百万円``, ``¥3,000,000``, ``3,000千円`` (千円単位), ``12.5万円``,
``年間120万円`` and ``なし`` / ``0円`` (→ 0).

A range such as ``300〜400万円`` is rejected with a re-ask rather than guessed: the
amount decides whether DX推進本部 must be consulted (300万円以上), so the user must
state the one design amount themselves. ``300万円未満`` / ``300万円以上`` are rejected
for the same reason. ``300万円以内`` / ``上限300万円`` are read as that amount.
"""

from __future__ import annotations

import re
from decimal import Decimal

from flows.parsing.answer_errors import AnswerNotUnderstood
from flows.parsing.normalize import normalize_answer
from flows.parsing.numerals import NUMERAL_RE, parse_numeral

MONEY_EXAMPLES = "「450万円」「4,500,000円」「0.3億円」"
_REASK = f"金額として読み取れませんでした。{MONEY_EXAMPLES}のように入力してください。"

_ZERO_WORDS = {
    "なし", "無し", "無", "ない", "ありません", "ゼロ", "ぜろ", "0", "不要", "かからない",
    "かかりません", "特にない", "特になし", "発生しない", "発生しません",
}  # fmt: skip
_UNKNOWN_WORDS = (
    "未定",
    "わからない",
    "分からない",
    "わかりません",
    "分かりません",
    "わかんない",
    "不明",
    "検討中",
)
_MONTHLY_MARKERS = ("月額", "毎月", "/月", "月々", "ひと月", "1か月", "1ヶ月", "1カ月", "月あたり")
# 「月3万円」「年30万円」: a bare 月 / 年 in front of the amount says per month / per year.
_PER_MONTH_RE = re.compile(r"^月(?=[\d〇一二三四五六七八九十])")
_PER_YEAR_RE = re.compile(r"^1?年(?=[\d〇一二三四五六七八九十])")
_RANGE_RE = re.compile(
    r"(?:\d|[〇一二三四五六七八九十百千万億])円?\s*(?:〜|~|-|ー|−|から)\s*[\d約〇一二三四五六七八九十百千]"
)
_BOUND_REJECT = ("未満", "以上", "超え", "超", "を超える", "を下回る")
_UNIT_MARKS = ("円", "¥", "\\", "万", "千", "百", "十", "億", "兆")
_PAREN_RE = re.compile(r"\([^)]*\)|\[[^]]*\]|【[^】]*】")
# Words around an amount that do not change it. Longest first so 税込み beats 税込.
_NOISE_WORDS = sorted(
    [
        "約",
        "およそ",
        "おおよそ",
        "概ね",
        "おおむね",
        "大体",
        "だいたい",
        "ほぼ",
        "概算で",
        "概算",
        "くらい",
        "ぐらい",
        "位",
        "程度",
        "前後",
        "ほど",
        "見込み",
        "見込",
        "予定",
        "の予定",
        "税込み",
        "税込",
        "税抜き",
        "税抜",
        "消費税込み",
        "消費税込",
        "税別",
        "込み",
        "以内",
        "以下",
        "まで",
        "上限",
        "最大",
        "最高",
        "年間",
        "年額",
        "毎年",
        "/年",
        "年あたり",
        "1年あたり",
        "初期費用",
        "初期",
        "です",
        "でした",
        "になります",
        "となります",
        "ぐらいです",
        "くらいです",
        "の",
        "で",
        "設計額",
        "金額",
        "費用",
        "合計",
        "総額",
        "計",
    ],
    key=len,
    reverse=True,
)


def parse_money(text: str) -> int:
    """Read an amount of money as an integer number of yen.

    Args:
        text: What the user typed, e.g. ``"450万円くらい"``.

    Returns:
        The amount in yen, e.g. ``4500000``.

    Raises:
        AnswerNotUnderstood: The text is not one amount; ``reask`` says what to type.

    Example:
        >>> parse_money("1億2000万円")
        120000000
        >>> parse_money("3,000千円")
        3000000
    """
    normalized = normalize_answer(text)
    if not normalized:
        raise AnswerNotUnderstood(f"金額を入力してください。{MONEY_EXAMPLES}のように入力できます。")
    if normalized in _ZERO_WORDS or normalized in {"0円", "ゼロ円", "〇円"}:
        return 0
    if any(word in normalized for word in _UNKNOWN_WORDS):
        raise AnswerNotUnderstood(
            "金額が未定の場合も、現時点の見込み額を1つ入力してください"
            f"（例: {MONEY_EXAMPLES}）。後から変更できます。"
        )
    if any(marker in normalized for marker in _MONTHLY_MARKERS) or _PER_MONTH_RE.match(normalized):
        raise AnswerNotUnderstood(
            "月額ではなく年額（12か月分）で入力してください（例: 月10万円なら「120万円」）。"
        )
    if _RANGE_RE.search(normalized):
        raise AnswerNotUnderstood(
            "金額に幅があると判定できません。見込みの上限額を1つの金額で入力してください"
            "（例: 「300〜400万円」なら「400万円」）。"
        )
    if any(word in normalized for word in _BOUND_REJECT):
        raise AnswerNotUnderstood(
            "「未満」「以上」などの範囲ではなく、設計額を1つの金額で入力してください"
            f"（例: {MONEY_EXAMPLES}）。"
        )
    amount = _read_amount(normalized)
    if amount is None:
        raise AnswerNotUnderstood(_REASK)
    if amount < 10_000 and not any(unit in normalized for unit in _UNIT_MARKS):
        # A bare 「450」 is more likely 450万円 than 450円: ask rather than guess.
        raise AnswerNotUnderstood(
            f"単位が分かりません。「{normalized}万円」「{normalized}円」のように単位を付けて入力してください。"
        )
    if amount != amount.to_integral_value():
        raise AnswerNotUnderstood(
            f"1円未満の端数は入力できません。{MONEY_EXAMPLES}のように入力してください。"
        )
    return int(amount)


def _read_amount(normalized: str) -> Decimal | None:
    body = _PER_YEAR_RE.sub("", _PAREN_RE.sub("", normalized))
    body = body.replace("¥", "").replace("\\", "").replace("円", "")
    for word in _NOISE_WORDS:
        body = body.replace(word, "")
    body = body.strip(",.")
    # Exactly one numeral must remain, with nothing else around it.
    match = NUMERAL_RE.fullmatch(body)
    if match is None:
        return None
    value = parse_numeral(body)
    if value is None or value < 0:
        return None
    return value
