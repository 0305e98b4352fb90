"""The extractive composer's reading of lists and conversion artefacts (no model needed)."""

from __future__ import annotations

from knowledge.composer import ExtractiveComposer, _introduced
from knowledge.lexical import JapaneseTokenizer
from knowledge.types import Hit, Passage

HOLIDAYS = Passage(
    id="p1",
    doc="spec.md",
    title="運用業務委託仕様書",
    section="作業時間",
    text=(
        "作業時間は、開庁日の8:30~17:15までとする。\n"
        "なお、開庁日とは以下の日を除いたものとする。\n"
        "- ① 日曜日および土曜日\n"
        "- ②祝日(国民の祝日に関する法律に規定する休日)\n"
        "- ③1月2日、1月3日および12月29日から12月31日までの日\n"
    ),
)


def _compose(question: str, *passages: Passage) -> str:
    composer = ExtractiveComposer(JapaneseTokenizer())
    return composer.compose(question, [Hit(p, 1.0) for p in passages]).text


def test_any_following_list_introduced_by_ika_no_comes_with_its_items() -> None:
    text = _compose("開庁日ってどの日？年末年始の扱いは？", HOLIDAYS)
    assert "以下の日を除いたもの" in text
    assert "12月29日から12月31日まで" in text and "日曜日および土曜日" in text


def test_a_plain_sentence_after_ika_no_is_not_taken_as_an_item() -> None:
    plain = ["報告書は以下の様式で提出する。", "受託者は、障害の発生時には直ちに電話で連絡すること。"]
    assert _introduced(plain, 0) == []
    listed = ["開庁日とは以下の日を除いたものとする。", "- ① 日曜日および土曜日", "- ②祝日", "次の文。"]
    assert _introduced(listed, 0) == ["- ① 日曜日および土曜日", "- ②祝日"]


def test_runs_of_hashes_from_the_conversion_are_never_shown() -> None:
    passage = Passage(
        id="p3", doc="g.md", title="ガイドライン", section="外部サービス",
        text="####主管課は、外部サービスについて定期的に履行状況の監視を行う。\n",
    )
    text = _compose("外部サービスの履行状況の監視は？", passage)
    assert "主管課は、外部サービス" in text and "#" not in text
