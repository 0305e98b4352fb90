"""Structure-aware chunking on real excerpts of the corpus and on small made-up texts."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest

from knowledge.chunking import chunk_document, join_lines, normalize_for_match
from knowledge.documents import SourceDocument, read_document
from knowledge.types import Passage

from .conftest import CORPUS, SHARED


def _chunk(name: str) -> list[Passage]:
    return chunk_document(read_document(CORPUS / name, max_bytes=10**8), title=name)


def _text_document(text: str) -> list[Passage]:
    return chunk_document(SourceDocument(Path("t.md"), "t.md", "0123abcd", text), title="T")


@pytest.fixture(scope="module")
def corpus_passages() -> list[Passage]:
    return [p for path in sorted(CORPUS.glob("*.md")) for p in _chunk(path.name)]


def _containing(passages: list[Passage], fragment: str) -> list[Passage]:
    needle = normalize_for_match(fragment)
    return [p for p in passages if needle in normalize_for_match(p.text)]


def test_clause_has_its_numbered_section_path(corpus_passages: list[Passage]) -> None:
    [passage] = _containing(
        corpus_passages, "新規 ICT ツール導入に係るイニシャルコスト部分の設計額"
    )
    assert passage.section == "【Ⅰ. 検討】 > 3. ICT 活用に関する協議"
    # the exclusions listed right after the rule stay in the same passage
    assert "基幹系情報システム" in passage.text


def test_repeated_subheadings_carry_their_parent_path(corpus_passages: list[Passage]) -> None:
    sections = {
        p.section
        for p in corpus_passages
        if p.doc.startswith("katsushika") and p.section.endswith("(1) 実施者")
    }
    assert any("1.5 仕様の確定 > (1) 実施者" in s for s in sections)
    assert any("1.6 契約 > (1) 実施者" in s for s in sections)
    assert len(sections) >= 5


def test_broken_lines_are_joined_without_spaces(corpus_passages: list[Passage]) -> None:
    # kofu: "…更新を行うために策定するものであり、本" / "" / "市の情報システム…"
    assert _containing(corpus_passages, "本市の情報システムの更新を行うために策定するものであり")
    assert any("本市の情報システムの更新" in p.text for p in corpus_passages)


def test_table_stays_whole_with_its_heading(corpus_passages: list[Passage]) -> None:
    [passage] = _containing(corpus_passages, "生産性向上に向けた人材の問題点と改善の方向性は")
    for row in (
        "職員の時間管理行動の不徹底",
        "サボタージュ職員の存在",
        "業務量に対し計画性が不足した職員体制",
    ):
        assert row in passage.text


def test_passages_are_short_and_hold_every_evidence_whole(corpus_passages: list[Passage]) -> None:
    assert statistics.median(len(p.text) for p in corpus_passages) <= 600
    for line in (SHARED / "eval" / "questions.dev.jsonl").read_text("utf-8").splitlines():
        row = json.loads(line)
        for evidence in row["evidence"]:
            assert _containing([p for p in corpus_passages if p.doc == row["doc"]], evidence), (
                evidence
            )


def test_ids_are_stable_and_unique(corpus_passages: list[Passage]) -> None:
    again = [p for path in sorted(CORPUS.glob("*.md")) for p in _chunk(path.name)]
    assert [p.id for p in again] == [p.id for p in corpus_passages]
    assert len({p.id for p in corpus_passages}) == len(corpus_passages)


def test_numbering_decides_the_hierarchy_not_the_hash_marks() -> None:
    passages = _text_document(
        "# 【Ⅰ. 検討】\n#### 1. 見直し\n見直す。\n# (1) 実施者\n所管課が行う。\n"
        "## 2. 協議\n### (1) 実施者\nCIO補佐が行う。\n## 【Ⅱ. 予算】\n### 1. 概要案\n作成する。\n"
    )
    assert [(p.section, p.text.splitlines()[-1]) for p in passages] == [
        ("【Ⅰ. 検討】 > 1. 見直し", "見直す。"),
        ("【Ⅰ. 検討】 > 1. 見直し > (1) 実施者", "所管課が行う。"),
        ("【Ⅰ. 検討】 > 2. 協議 > (1) 実施者", "CIO補佐が行う。"),
        ("【Ⅱ. 予算】 > 1. 概要案", "作成する。"),
    ]


def test_bare_numbering_and_interleaved_footnotes() -> None:
    passages = _text_document(
        "現状と課題\n\n1.1 状況\n\n本\n\n市の情報化は、スマートフォンやクラウドサービスに加えてIoT\n"
        "2 モノのインターネット\nの普及で大きく進んだ。\n\n1.2 課題\n\n人材が不足している。\n"
    )
    assert [p.section for p in passages] == ["", "1.1 状況", "1.2 課題"]
    assert "本市の情報化は、スマートフォンやクラウドサービスに加えてIoTの普及で大きく進んだ。" in (
        passages[1].text
    )
    assert passages[1].text.endswith("2 モノのインターネット")


def test_long_paragraph_is_split_between_sentences_only() -> None:
    sentences = [
        f"第{i}の文は、調達の手続において確認すべき事項を説明するものである。" for i in range(40)
    ]
    passages = _text_document("# 1. 手続\n" + "".join(sentences))
    assert len(passages) > 1
    assert all(p.text.endswith("。") for p in passages)
    body = "".join(p.text for p in passages).replace("1. 手続\n", "").replace("\n", "")
    assert body == "".join(sentences)


def test_join_lines_spaces_only_between_latin_words() -> None:
    assert join_lines("ICT 活用の", "検討を行う") == "ICT 活用の検討を行う"
    assert join_lines("data", "migration") == "data migration"
    assert join_lines("本", "市の") == "本市の"


def test_an_introduction_keeps_its_list_of_sub_headings() -> None:
    passages = _text_document(
        "## 5 体制\n### (1) 管理者\n統括する。\n### (2) 担当者\n作業する。\n"
        "## 6 成果物\n本業務における成果物を以下に示す。\n### (1) 報告書\n月次で提出する。\n"
        "### (2) 提言書\n年度末に提出する。\n"
    )
    assert all(p.section != "5 体制" for p in passages)  # no text, no introduction: nothing
    [intro] = [p for p in passages if p.section == "6 成果物"]
    assert intro.text.splitlines()[-3:] == ["本業務における成果物を以下に示す。", "- (1) 報告書", "- (2) 提言書"]
    assert len({p.id for p in passages}) == len(passages)


def test_a_decimal_heading_continues_its_sequence_past_a_parenthesised_one() -> None:
    """(3) 基本要件 > 3.3 > 3.3.1 > (3) 上記以外 … then 3.4 is 3.3's sibling, not (3)'s child."""
    passages = _text_document(
        "## (3) 基本要件\n## 3.3 運用保守体制\n### 3.3.1 関連事業者の役割\n#### (3) 上記以外\n"
        "その他の事業者。\n## 3.4 システム運用業務内容\n### 3.4.7 構成管理\n#### (3) 資源の管理\n"
        "資源を管理する。\n### 3.4.8 オペレーション\nバッチを運用する。\n"
    )
    sections = {p.text.splitlines()[-1]: p.section for p in passages}
    assert sections["バッチを運用する。"] == "(3) 基本要件 > 3.4 システム運用業務内容 > 3.4.8 オペレーション"
    assert sections["資源を管理する。"] == (
        "(3) 基本要件 > 3.4 システム運用業務内容 > 3.4.7 構成管理 > (3) 資源の管理"
    )


def test_a_bullet_continuing_a_headings_numbering_is_its_sibling() -> None:
    """「#### (1) …」 then 「- (2) …」: the conversion lost the second heading's ``#``; its
    text belongs under (2), not under (1). A numbered bullet that is a sentence, or one
    that does not continue an open heading, stays an item."""
    passages = _text_document(
        "## 1. 総則\n前文。\n## 2. 委託内容\n## 2.3 随時業務\n"
        "#### (1) セキュリティ対策支援業務(庁内 LAN パソコン)\n① 監視作業を行う。\n"
        "- (2) セキュリティ対策支援業務(業務系パソコン)\n  - ① 申請を受け付ける。\n"
        "- (3) パソコンサポート (庁内 LAN パソコン)\n  - ① 問い合わせに対応する。\n"
        "## 2.4 ドキュメント作成・管理\n- (1) マニュアルを整備する。\n"
        "- (2) 作業日報を作成し提出すること。\n"
    )
    sections = {p.text.splitlines()[-1].lstrip("- "): p.section for p in passages}
    assert sections["① 申請を受け付ける。"].endswith(
        "2.3 随時業務 > (2) セキュリティ対策支援業務(業務系パソコン)"
    )
    assert sections["① 問い合わせに対応する。"].endswith(
        "2.3 随時業務 > (3) パソコンサポート (庁内 LAN パソコン)"
    )
    assert sections["(2) 作業日報を作成し提出すること。"].endswith("2.4 ドキュメント作成・管理")


def test_a_wrapped_table_cell_is_joined_to_its_row() -> None:
    [passage] = _text_document(
        "# 4.5 業務場所\n各作業の業務場所を以下に示す。\n\n"
        "業務\t業務場所\n"
        "ヘルプデスク対応\t基本的には、本市が指定する場所。\n"
        "\t※受託者が用意する場所も可とするが、リモートアクセ\n"
        "\tスによる各システムは利用できないものとする。\n"
        "その他の業務\t本市が指定する場所。\n"
    )
    assert passage.text.splitlines()[2:] == [
        "業務\t業務場所",
        "ヘルプデスク対応\t基本的には、本市が指定する場所。※受託者が用意する場所も可とするが、"
        "リモートアクセスによる各システムは利用できないものとする。",
        "その他の業務\t本市が指定する場所。",
    ]


def test_a_row_under_a_merged_first_cell_stays_a_row() -> None:
    [passage] = _text_document(
        "# 2 適用範囲\n区分ごとの適用は次のとおり。\n\n"
        "分類\t記号\t内容\t適用\n"
        "情報システム\tA\t業務システムの構築\t適用\n"
        "\tC\tASP、SaaSなど、外部サービスの利用\t適用\n"
        "\t-\t保守・運用を必要としないシステム\t不要\n"
    )
    rows = passage.text.splitlines()[2:]
    assert rows[2:] == ["C\tASP、SaaSなど、外部サービスの利用\t適用", "-\t保守・運用を必要としないシステム\t不要"]


def test_a_numbered_prose_line_is_not_a_heading_and_a_line_broken_in_brackets_is_joined() -> None:
    passages = _text_document(
        "3.3.1 12年間の包括アウトソーシング\n\n"
        "運営管理期間を 10年に設定した理由は次の 2点である。\n\n"
        "1 つは、現場の負担を減らすことである。システムの構築を 2 年、システム導入後の安\n\n"
        "定期間を 1 年と想定している。\n\n"
        "調整は PMO（事務局：\n\n情報課）を主体として行う。\n"
    )
    assert [p.section for p in passages] == ["3.3.1 12年間の包括アウトソーシング"]
    text = passages[0].text
    assert "システム導入後の安定期間を 1 年と想定している。" in text
    assert "調整は PMO（事務局：情報課）を主体として行う。" in text


def test_table_rule_rows_are_layout_not_text() -> None:
    [passage] = _text_document(
        "# 1.1 保守調達の概要\n保守の区分は次のとおり。\n\n"
        "区分\t内容\n-----\t---\n\n"
        "定常保守\t定期点検\n-------\t--\n\n"
        "- |  ||--||\n\n・1. 業務計画書（提出時期：業務開始時）\n||--|\n"
    )
    lines = passage.text.splitlines()
    assert lines[2:] == ["区分\t内容", "定常保守\t定期点検", "・1. 業務計画書（提出時期：業務開始時）"]


def test_no_passage_of_the_corpus_holds_a_rule_line(corpus_passages: list[Passage]) -> None:
    rules = [
        line
        for p in corpus_passages
        for line in p.text.splitlines()
        if line.strip() and set(line.strip()) <= set("-|:\t =_*")
    ]
    assert rules == []
