"""Hedges at a step (「わからない」「検討中」「まだちゃんとは」) are re-asked with help,
never read as an answer or a question; questions without 「？」 are recognised."""

from __future__ import annotations

from datetime import date

import pytest

from bot.core.commands import asks_something
from flows import load_flows
from flows.answer_reading import read_answer
from flows.parsing import AnswerNotUnderstood
from flows.parsing.hedge import is_hedge

FLOW = load_flows()["ict_adoption"]
TODAY = date(2026, 11, 20)

# The three the issue names, and others of the same kinds it does not.
HEDGES = [
    "まだちゃんとは", "わからない", "検討中",
    "分かりません", "知りません", "まだ決めていません", "見当がつかない", "調整中です",
    "未定", "未確認です", "不明", "たぶん", "なんとも言えない", "そこまでは", "一応は",
]
ANSWERS = ["はい", "いいえ", "ある", "ない", "450万円", "年50万円", "なし", "特にない",
           "住民票の窓口交付", "2027年1月", "3社", "検討した", "実績はありません"]


@pytest.mark.parametrize("text", HEDGES)
def test_hedges_are_recognised(text: str) -> None:
    assert is_hedge(text)
    assert not asks_something(text)


@pytest.mark.parametrize("text", ANSWERS)
def test_answers_are_not_hedges(text: str) -> None:
    assert not is_hedge(text)


@pytest.mark.parametrize(("step_id", "said"), [
    ("review_considered", "今の時点でより近いほう（「はい」か「いいえ」）"),
    ("initial_cost", "今の時点の見込み額（概算）"),
])
@pytest.mark.parametrize("text", ["まだちゃんとは", "わからない", "検討中"])
def test_a_hedge_at_a_step_is_reasked_with_help(step_id: str, said: str, text: str) -> None:
    with pytest.raises(AnswerNotUnderstood) as raised:
        read_answer(FLOW.step(step_id), text, TODAY)
    assert said in raised.value.reask


def test_a_hedge_is_an_answer_at_a_free_text_step() -> None:
    assert read_answer(FLOW.step("current_problem"), "まだわからない", TODAY) == "まだわからない"


@pytest.mark.parametrize("text", [
    "相場はどれくらい", "いくらくらいが妥当なのか", "なぜ初期費用だけで判断する",
    "ランニングコストも含めるのかな", "イニシャルコストとは",
])
def test_questions_without_a_question_mark(text: str) -> None:
    assert asks_something(text)


@pytest.mark.parametrize("text", ["450万円", "はい", "まだちゃんとは", "わからない"])
def test_answers_and_hedges_are_not_questions(text: str) -> None:
    assert not asks_something(text)
