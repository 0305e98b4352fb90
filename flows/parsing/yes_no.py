"""はい／いいえ (yes/no) from a button value or free Japanese text.

Returns ``None`` when the answer is ambiguous (「わからない」, 「はい、ありません」,
anything unrecognised) so the caller re-asks.
"""

from __future__ import annotations

from flows.parsing.normalize import normalize_answer

_YES = {
    "yes", "y", "true", "ok", "okay", "はい", "うん", "ええ", "そう", "そうです", "そのとおり",
    "その通り", "ある", "あります", "あり", "有", "有り", "する", "します", "該当", "該当する",
    "該当します", "該当あり", "必要", "必要です", "した", "しました", "済み", "済", "実施済み",
    "検討済み", "検討した", "検討しました", "扱う", "扱います", "含む", "含みます", "〇", "○", "◯",
    "もちろん", "はいそうです", "正しい", "合っています", "いる", "います", "できている",
    "できています", "整理済み", "整理されている", "整理されています", "十分", "そうだ",
}  # fmt: skip
_NO = {
    "no", "n", "false", "いいえ", "いや", "ううん", "いえ", "ない", "ないです", "ありません",
    "なし", "無し", "無", "違う", "違います", "ちがう", "ちがいます", "特にない", "特になし",
    "とくにない", "特にありません", "該当しない", "該当しません", "非該当", "該当なし", "しない",
    "しません", "していない", "してない", "していません", "不要", "まだ", "未", "未実施", "未検討",
    "×", "✕", "x", "いない", "いません", "扱わない", "扱いません", "含まない", "含みません",
    "なかった", "無かった", "ありませんでした", "できていない", "不十分", "足りない", "不足", "不足している", "不足しています",
}  # fmt: skip
_UNSURE = (
    "わから",
    "分から",
    "わかりません",
    "分かりません",
    "わかんない",
    "知らない",
    "しらない",
    "不明",
    "どちら",
    "微妙",
    "たぶん",
    "多分",
    "かも",
)
_YES_ENDINGS = ("あります", "ある", "します", "する", "しました", "した", "います", "いる", "はい")
_NO_ENDINGS = ("ない", "ません", "なし", "無し", "いいえ", "違う", "違います", "不要", "不足")
_POLITE_TAILS = ("です", "でした", "よ", "ね")


def parse_yes_no(text: str) -> bool | None:
    """Read a yes/no answer.

    Args:
        text: A button value (``"yes"``/``"no"``) or what the user typed.

    Returns:
        ``True`` for yes, ``False`` for no, ``None`` when it cannot be told.

    Example:
        >>> parse_yes_no("はい、あります")
        True
        >>> parse_yes_no("特にない")
        False
        >>> parse_yes_no("わからない") is None
        True
    """
    answer = normalize_answer(text)
    if not answer:
        return None
    if answer in _YES:
        return True
    if answer in _NO:
        return False
    if any(word in answer for word in _UNSURE):
        return None
    core = answer
    for tail in _POLITE_TAILS:
        if core.endswith(tail) and len(core) > len(tail):
            core = core[: -len(tail)]
    if core in _YES:
        return True
    if core in _NO:
        return False
    starts_yes = answer.startswith(("はい", "うん", "ええ", "yes"))
    starts_no = answer.startswith(("いいえ", "いや", "ううん", "no"))
    ends_no = core.endswith(_NO_ENDINGS)
    ends_yes = core.endswith(_YES_ENDINGS) and not ends_no
    votes_yes = starts_yes or ends_yes
    votes_no = starts_no or ends_no
    if votes_yes == votes_no:
        return None
    return votes_yes
