"""The glossary reads abbreviations from the documents' own text (no model needed)."""

from __future__ import annotations

from knowledge.glossary import Glossary
from knowledge.types import Passage


def _passage(text: str, pid: str = "p1") -> Passage:
    return Passage(id=pid, doc="a.md", title="A市 ガイドライン", section="1 はじめに", text=text)


def test_a_term_written_with_its_abbreviation_in_brackets_is_read_both_ways() -> None:
    glossary = Glossary.from_passages([
        _passage("事業者からの情報提供招請（ＲＦＩ）を活用する。"),
        _passage("R F P（提案依頼書）を作成する。", "p2"),
    ])
    rfi = glossary.definition("RFIって何の略？")
    assert rfi is not None and (rfi.abbreviation, rfi.term) == ("RFI", "情報提供招請")
    rfp = glossary.definition("rfpの正式名称は")
    assert rfp is not None and (rfp.abbreviation, rfp.term) == ("RFP", "提案依頼書")
    assert rfp.passage.id == "p2"


def test_a_role_in_brackets_gives_way_to_a_term_that_the_abbreviation_follows() -> None:
    glossary = Glossary.from_passages([
        _passage("CIO（市長）が協議に加わる。"),
        _passage("副市長を情報統括監理者（CIO）とする。", "p2"),
    ])
    cio = glossary.definition("CIOって何の略？")
    assert cio is not None and cio.term == "情報統括監理者"
    assert "情報統括監理者（CIO）" in cio.sentence()


def test_only_a_question_about_what_it_stands_for_is_answered_from_the_glossary() -> None:
    glossary = Glossary.from_passages([_passage("情報提供招請（RFI）を行う。")])
    assert glossary.definition("RFIはいつ行う？") is None
    assert glossary.definition("ISMAPって何の略？") is None
