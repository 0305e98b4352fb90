"""Reading an answer for a step of a given kind, and displaying a stored value.

One place knows, per step kind, how typed text or a button value becomes a slot
value, how to re-ask, and how the value reads on the 相談シート.
"""

from __future__ import annotations

import unicodedata
from datetime import date
from typing import Any

from flows.definition import Step, StepKind
from flows.parsing import (
    AnswerNotUnderstood,
    Period,
    parse_money,
    parse_number,
    parse_period,
    parse_yes_no,
)
from flows.parsing.hedge import is_hedge
from flows.parsing.money import MONEY_EXAMPLES
from flows.parsing.normalize import normalize_answer

NOTHING_WORDS = {
    "特にない", "特になし", "とくにない", "とくになし", "なし", "無し", "ない", "ありません",
    "特にありません", "該当なし", "該当しない", "none", "n/a", "-", "ー", "不要",
}  # fmt: skip
BACK_WORDS = {
    "戻る",
    "もどる",
    "戻って",
    "前に戻る",
    "ひとつ前",
    "一つ前",
    "ひとつ前に戻る",
    "一つ前に戻る",
    "back",
    "戻ります",
}
SUBMIT_WORDS = {
    "submit",
    "確定",
    "確定する",
    "この内容で確定する",
    "はい",
    "ok",
    "送信",
    "提出",
    "yes",
    "y",
    "これでよい",
    "これでいい",
}
MAX_TEXT_LENGTH = 2000

HINTS = {
    StepKind.MONEY: f"例: {MONEY_EXAMPLES}",
    StepKind.NUMBER: "例: 「12」「1,200」「約30人」",
    StepKind.DATE: "例: 「2027年4月」「令和9年度」「R9」「来年度」",
    StepKind.YES_NO: "「はい」か「いいえ」で答えてください。",
    StepKind.CONFIRM: (
        "内容がよければ「確定」、直す場合は「戻る」と入力するか、ボタンを押してください。"
    ),
}


def is_back_command(text: str) -> bool:
    """Whether typed text means 戻る (go back one question)."""
    return normalize_answer(text) in BACK_WORDS


def hint_for(step: Step) -> str:
    """How to answer this step, in Japanese."""
    if step.kind is StepKind.CHOICE:
        return f"ボタンを押すか、番号（1〜{len(step.options)}）を入力してください。"
    if step.kind is StepKind.TEXT:
        return "特にない場合は「特にない」と入力してください。" if step.optional else ""
    return HINTS.get(step.kind, "")


def read_answer(step: Step, raw: str, today: date) -> Any:
    """Turn typed text or a button value into the slot value for ``step``.

    Returns:
        bool (yes_no), int (money), int | float (number), str (choice value, text;
        ``""`` for 「特にない」 on an optional text step), or a period dict (date).

    Raises:
        AnswerNotUnderstood: ``reask`` says what to type.
    """
    try:
        return _read(step, raw, today)
    except AnswerNotUnderstood:
        if step.kind is not StepKind.TEXT and is_hedge(raw):
            raise AnswerNotUnderstood(HEDGE_REASKS.get(step.kind, HEDGE_REASK)) from None
        raise


HEDGE_REASK = (
    "まだはっきりしない場合も、今の時点の見込みで答えてください（後で確認画面から変更できます）。"
)
HEDGE_REASKS = {
    StepKind.YES_NO: "まだはっきりしない場合は、今の時点でより近いほう（「はい」か「いいえ」）を"
    "選んでください。後で確認画面から変更できます。",
    StepKind.MONEY: "金額が未定の場合も、今の時点の見込み額（概算）を入力してください"
    "（例: 300万円くらい）。後で確認画面から変更できます。",
    StepKind.DATE: "日付が未定の場合も、今の時点の見込み（例: 2027年1月）を入力してください。"
    "後で確認画面から変更できます。",
}
"""What to say when a reply is a hedge (「わからない」「検討中」) rather than an answer."""


def _read(step: Step, raw: str, today: date) -> Any:
    if step.kind is StepKind.YES_NO:
        value = parse_yes_no(raw)
        if value is None:
            raise AnswerNotUnderstood("「はい」か「いいえ」で答えてください（ボタンも使えます）。")
        return value
    if step.kind is StepKind.MONEY:
        return parse_money(raw)
    if step.kind is StepKind.NUMBER:
        return parse_number(raw)
    if step.kind is StepKind.DATE:
        return parse_period(raw, today).to_dict()
    if step.kind is StepKind.CHOICE:
        return _read_choice(step, raw)
    if step.kind is StepKind.TEXT:
        return _read_text(step, raw)
    raise AnswerNotUnderstood(HINTS[StepKind.CONFIRM])  # confirm has no slot value


def _read_choice(step: Step, raw: str) -> str:
    answer = normalize_answer(raw)
    for index, option in enumerate(step.options, start=1):
        if answer in (normalize_answer(option.value), normalize_answer(option.label), str(index)):
            return option.value
    labels = "」「".join(option.label for option in step.options)
    raise AnswerNotUnderstood(
        f"選択肢から選んでください: 「{labels}」"
        f"（ボタンを押すか、番号 1〜{len(step.options)} を入力）。"
    )


def _read_text(step: Step, raw: str) -> str:
    text = unicodedata.normalize("NFKC", raw).strip()
    if step.optional and normalize_answer(raw) in NOTHING_WORDS:
        return ""
    if not text:
        extra = "特にない場合は「特にない」と入力してください。" if step.optional else ""
        raise AnswerNotUnderstood(f"回答が空です。文章で入力してください。{extra}")
    if len(text) > MAX_TEXT_LENGTH:
        raise AnswerNotUnderstood(
            f"{MAX_TEXT_LENGTH}文字以内で入力してください（今は{len(text)}文字です）。"
        )
    if len(text) <= 4 and parse_yes_no(text) is not None:
        # A bare はい / いいえ answers a yes/no question, not this one (likely a stray click).
        raise AnswerNotUnderstood(f"「{step.label}」を具体的な言葉で入力してください。")
    return raw.strip()


def display_value(step: Step, value: Any) -> str:
    """The slot value as it reads on the 相談シート (Japanese)."""
    if value is None:
        return "（未回答）"
    if step.kind is StepKind.YES_NO:
        return "はい" if value else "いいえ"
    if step.kind is StepKind.MONEY:
        return format_yen(int(value))
    if step.kind is StepKind.DATE:
        return Period.from_dict(value).label if isinstance(value, dict) else str(value)
    if step.kind is StepKind.CHOICE:
        for option in step.options:
            if option.value == value:
                return option.label
        return str(value)
    if step.kind is StepKind.TEXT and value == "":
        return "特になし"
    if step.kind is StepKind.NUMBER:
        return f"{value:,}"
    return str(value)


def format_yen(amount: int) -> str:
    """``4500000`` → ``4,500,000円（450万円）``."""
    text = f"{amount:,}円"
    if amount >= 10_000 and amount % 10_000 == 0:
        text += f"（{short_yen(amount)}）"
    return text


def short_yen(amount: int | None) -> str:
    """The way people say an amount: ``4500000`` → ``450万円``, ``120000000`` → ``1億2000万円``.

    Amounts that are not whole 万 are written out (``1,234,567円``); ``None`` is 未記入.
    """
    if amount is None:
        return "（未記入）"
    if amount < 10_000 or amount % 10_000:
        return f"{amount:,}円"
    oku, man = divmod(amount // 10_000, 10_000)
    return (f"{oku:,}億" if oku else "") + (f"{man}万" if man else "") + "円"
