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


MEETINGS = Passage(
    id="p4",
    doc="spec.md",
    title="運用業務委託仕様書",
    section="会議",
    text=(
        "会議体\t目的\t開催頻度\n"
        "月次報告会\t月次のサービス実績の報告\t1ヶ月に1度\n"
        "四半期報告会\t四半期のサービス実績の報告\t3ヶ月に1度\n"
        "年次報告会\t年次のサービス実績の報告\t1年に1度\n"
    ),
)


def test_a_table_header_is_never_the_answer_alone_and_brings_its_rows() -> None:
    # 「どのくらいの頻度」 matches only the header's 開催頻度: the rows are the answer
    text = _compose("ベンダーとの会議ってどのくらいの頻度でやるの？", MEETINGS)
    assert "会議体 / 目的 / 開催頻度" in text
    assert "1ヶ月に1度" in text and "3ヶ月に1度" in text and "1年に1度" in text


def test_a_row_of_a_long_table_is_shown_under_its_header() -> None:
    rows = "".join(
        f"指標{i}\t{'各業務システムの運用状況を確認する。' * 3}\t別途協議\n" for i in range(12)
    )
    table = Passage(
        id="p5", doc="spec.md", title="運用業務委託仕様書", section="サービスレベル",
        text="管理項目\t内容\t目標値\n" + rows + "重大障害件数\t重大障害の件数\t2回/1年以内\n",
    )
    lines = _compose("重大障害の件数の目標値は？", table).split("\n")
    assert any(line.startswith("重大障害件数 / 重大障害の件数 / 2回/1年以内") for line in lines)
    # the header once, right above the table's first row shown (no citation of its own)
    assert lines.count("管理項目 / 内容 / 目標値") == 1
    assert lines[lines.index("管理項目 / 内容 / 目標値") + 1].startswith(("指標", "重大障害件数"))
    assert sum(line.startswith("指標") for line in lines) < 12  # not the long table whole


def test_a_first_row_holding_sentences_is_a_row_not_a_header() -> None:
    table = [
        "会社概要 / 経営状況 / 会社の規模、財務、経営状況を確認し、安定した経営基盤を有しているか",
        "データ移行 / データ移行の考え方 / データ移行の考え方が明記されているか",
    ]
    assert _introduced(table, 0) == []
