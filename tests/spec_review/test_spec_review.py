"""Draft 仕様書 review: judgements on drafts written for the tests (``drafts/``, labelled by
hand in ``drafts/labels.yaml``), in Markdown, Word and PDF; refusals of unreadable files."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from knowledge.documents import DocumentError
from knowledge.spec_review import (
    SpecReview,
    SpecReviewer,
    check_upload,
    detect_method,
    parse_draft,
    read_draft,
    review_draft_bytes,
)
from knowledge.spec_review_eval import STATUSES, evaluate
from tests.spec_review.conftest import DRAFTS
from tests.spec_review.draft_files import make_docx, make_pdf, make_scanned_pdf

MAX = 20 * 1024 * 1024


def statuses(review: SpecReview) -> dict[str, str]:
    return {j.item.id: j.status for j in review.items}


def findings(review: SpecReview) -> set[str]:
    return {f.check for f in review.findings}


def test_a_complete_proposal_spec_has_every_item_and_no_finding(review_of) -> None:  # type: ignore[no-untyped-def]
    review = review_of("01_complete_proposal.md")
    assert set(statuses(review).values()) == {"present"}
    assert findings(review) == set()
    assert review.method == "proposal"
    period = next(j for j in review.items if j.item.id == "period")
    assert period.section == "5. 実施期間" and "令和8年6月1日" in period.excerpt


def test_a_bid_spec_with_other_headings_is_matched_by_meaning(review_of) -> None:  # type: ignore[no-untyped-def]
    review = review_of("02_complete_bid.md")
    assert set(statuses(review).values()) == {"present"}
    sections = {j.item.id: j.section for j in review.items}
    # none of these headings uses the guideline's word for the item
    assert sections["period"] == "第5 契約期間"
    assert sections["place"] == "第6 作業場所"
    assert sections["service_level"] == "第7 サービスレベル"
    assert sections["copyright"] == "第11 知的財産権"
    assert review.method == "bid" and findings(review) == set()


def test_items_the_draft_lacks_are_missing_with_the_clause_that_asks_for_them(review_of) -> None:  # type: ignore[no-untyped-def]
    review = review_of("03_missing_items.md")
    missing = {k for k, v in statuses(review).items() if v == "missing"}
    assert missing == {"place", "meetings", "best_effort", "change", "copyright", "infringement"}
    place = next(j for j in review.items if j.item.id == "place")
    assert place.item.cites[0].section == "【Ⅲ.調達】 > 1.仕様書・契約書などの作成"
    assert place.item.cites[0].quote == "6. 実施場所"
    assert findings(review) == {"personal_information", "security"}


def test_deferred_or_unmeasurable_items_are_weak_with_a_reason(review_of) -> None:  # type: ignore[no-untyped-def]
    review = review_of("04_weak_items.md")
    weak = {j.item.id: j for j in review.items if j.status == "weak"}
    assert set(weak) == {"preconditions", "organization", "period", "service_level",
                         "deliverables", "other"}
    assert "別途協議" in weak["period"].reason
    assert weak["service_level"].excerpt.startswith("受託者は、適切なサービス水準")
    # 実施場所 has a concrete sentence next to a 必要に応じて one: present
    assert statuses(review)["place"] == "present"
    assert findings(review) == {"evaluation_measurable", "sla"}
    criteria = next(f for f in review.findings if f.check == "evaluation_measurable")
    assert "総合的に評価" in criteria.evidence[0]
    assert criteria.cites[0].section == "【Ⅲ.調達】 > 2.受託事業者の選定"


def test_a_proposal_spec_fixing_products_and_capacities_is_flagged(review_of) -> None:  # type: ignore[no-untyped-def]
    review = review_of("05_proposal_overfixed.md")
    assert findings(review) == {"proposal_overfixed"}
    finding = next(f for f in review.findings if f.check == "proposal_overfixed")
    assert any("A 社製" in e for e in finding.evidence)
    assert any("変更は認めない" in e for e in finding.evidence)
    quotes = [c.quote for c in finding.cites]
    assert "公募型プロポーザル方式の場合、仕様書には詳細を書かず提案事項とする" in quotes


def test_a_bid_spec_without_a_stated_level_is_flagged(review_of) -> None:  # type: ignore[no-untyped-def]
    review = review_of("06_bid_unstated.md")
    assert review.method == "bid"
    assert {"bid_level_unstated", "sla"} <= findings(review)
    bid = next(f for f in review.findings if f.check == "bid_level_unstated")
    assert "仕様の水準（量・質）を明示" in bid.cites[0].quote


def test_a_critical_system_without_sla_cites_the_katsushika_clause(review_of) -> None:  # type: ignore[no-untyped-def]
    review = review_of("07_no_privacy_critical.md")
    assert statuses(review)["service_level"] == "missing"
    sla = next(f for f in review.findings if f.check == "sla")
    assert "戸籍" in sla.message
    assert [c.doc for c in sla.cites] == ["kisarazu-ict-guideline.md",
                                          "katsushika-system-guideline-operations.md"]
    assert {"personal_information", "security"} <= findings(review)
    assert review.method == "unknown"


def test_a_complete_spec_of_a_critical_system_gets_no_sla_finding(review_of) -> None:  # type: ignore[no-untyped-def]
    review = review_of("02_complete_bid.md")
    assert "住民記録" in review.title and "sla" not in findings(review)


@pytest.mark.parametrize(
    ("source", "suffix"),
    [("04_weak_items.md", ".docx"), ("03_missing_items.md", ".pdf"), ("02_complete_bid.md", ".docx"),
     ("05_proposal_overfixed.md", ".pdf")],
)
def test_word_and_pdf_copies_get_the_judgements_of_the_markdown(  # type: ignore[no-untyped-def]
    source: str, suffix: str, reviewer: SpecReviewer, review_of, tmp_path: Path
) -> None:
    markdown = (DRAFTS / source).read_text(encoding="utf-8")
    copy = tmp_path / Path(source).with_suffix(suffix).name
    copy.write_bytes(make_docx(markdown) if suffix == ".docx" else make_pdf(markdown))
    review = reviewer.review(read_draft(copy, max_bytes=MAX))
    assert statuses(review) == statuses(review_of(source))
    assert findings(review) == findings(review_of(source))


def test_the_labelled_drafts_meet_the_targets(reviewer: SpecReviewer) -> None:
    result = evaluate(reviewer, DRAFTS, max_bytes=MAX)
    assert result.drafts >= 8 and result.refusals_right == result.refusals_expected == 1
    for status in STATUSES:
        assert result.precision(status) >= 0.9, (status, result.errors)
        assert result.recall(status) >= 0.9, (status, result.errors)
    assert result.flags_precision >= 0.9 and result.flags_recall >= 0.9, result.errors
    assert result.methods_right == result.judged_drafts


def test_the_committed_word_and_pdf_copies_match_their_markdown(tmp_path: Path) -> None:
    import yaml

    labels = yaml.safe_load((DRAFTS / "labels.yaml").read_text(encoding="utf-8"))
    for name, source in labels["same_as"].items():
        markdown = (DRAFTS / source).read_text(encoding="utf-8")
        fresh = tmp_path / name
        fresh.write_bytes(make_pdf(markdown) if name.endswith(".pdf") else make_docx(markdown))
        assert read_draft(DRAFTS / name, max_bytes=MAX).text == read_draft(fresh, max_bytes=MAX).text


# --- refusals -------------------------------------------------------------------------------


def test_a_scanned_pdf_without_text_is_refused_with_the_ingest_reason(tmp_path: Path) -> None:
    path = tmp_path / "scan.pdf"
    path.write_bytes(make_scanned_pdf())
    with pytest.raises(DocumentError) as caught:
        read_draft(path, max_bytes=MAX)
    assert caught.value.reason == "本文を取り出せませんでした（文字のない文書、または画像だけの PDF です）。"


def test_an_unsupported_type_is_refused_before_the_file_is_opened(tmp_path: Path) -> None:
    # A named pipe: opening it for reading would block this test forever.
    pipe = tmp_path / "仕様書.xlsx"
    os.mkfifo(pipe)
    assert stat.S_ISFIFO(pipe.stat().st_mode)
    with pytest.raises(DocumentError) as caught:
        read_draft(pipe, max_bytes=MAX)
    assert "対応していない形式です" in caught.value.reason
    with pytest.raises(DocumentError, match="対応していない形式"):
        check_upload("仕様書.html", 100, max_bytes=MAX)


def test_a_file_over_the_limit_is_refused_by_its_size(tmp_path: Path) -> None:
    big = tmp_path / "big.docx"
    with big.open("wb") as handle:  # sparse: the size is on disk without writing it
        handle.truncate(MAX + 1)
    with pytest.raises(DocumentError) as caught:
        read_draft(big, max_bytes=MAX)
    assert "ファイルが大きすぎます" in caught.value.reason
    # a chat adapter checks the size the platform reports before downloading anything
    with pytest.raises(DocumentError, match="大きすぎます"):
        check_upload("仕様書.pdf", MAX + 1, max_bytes=MAX)


def test_a_corrupt_word_file_gets_the_ingest_reason() -> None:
    with pytest.raises(DocumentError, match="DOCX が壊れているため読めません"):
        parse_draft("仕様書.docx", b"PK\x03\x04 not a zip", max_bytes=MAX)


def test_the_bytes_entry_point_reviews_a_shared_file(reviewer: SpecReviewer, review_of) -> None:  # type: ignore[no-untyped-def]
    data = (DRAFTS / "04_weak_items.docx").read_bytes()
    review = review_draft_bytes(reviewer, "04_weak_items.docx", data, max_bytes=MAX)
    assert statuses(review) == statuses(review_of("04_weak_items.md"))


@pytest.mark.parametrize(
    ("text", "method"),
    [("公募型プロポーザル方式により選定する。", "proposal"), ("指名競争入札により決定する。", "bid"),
     ("一般競争入札（総合評価）", "bid"), ("受託者の選定方法は別に定める。", "unknown")],
)
def test_the_procurement_method_is_read_from_the_draft(text: str, method: str) -> None:
    assert detect_method(text) == method
