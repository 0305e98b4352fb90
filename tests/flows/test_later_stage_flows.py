"""The later-stage flows decide as the guidelines say (table-driven): 所管課概要案 (outline),
調達準備 (procurement_prep), 事後評価 (post_evaluation) of 木更津市, and 葛飾区's
運用保守ガイドライン適用可否 (katsushika_operations)."""

from __future__ import annotations

from datetime import date

import pytest

from flows import FlowDefinition, ScriptedAnswerError, load_flows, run_with_answers
from flows.document_parts import part_values
from flows.outline_document import build_outline_draft
from flows.rfi_document import render_docx, render_markdown

TODAY = date(2026, 11, 21)
FLOWS = load_flows()


def outline_answers(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "outline_business": "保育所入所申請の受付を電子申請にする",
        "work_breakdown": "受付（年間 1,200 件）、審査（年間 1,200 件）",
        "introduction_start": "2027年7月",
        "ict_start": "令和10年度",
        "budget_amount": "450万円",
        "budget_basis": "ライセンス 月5万円 × 12か月、初期設定 120万円、研修 2回 × 15万円",
        "reference_quotes": "はい",
        "quote_vendors": "3社",
        "quote_basis_shown": "はい",
        "proposal_planned": "いいえ",
        "personal_information": "はい",
        "privacy_notes": "申請者と児童の氏名・住所。クラウドに保存",
        "other_notes": "特にない",
    }
    base.update(overrides)
    return base


# --- 所管課概要案 -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({}, {"outline_ready": True, "quotes_not_collected": False, "quotes_too_few": False,
              "quote_basis_missing": False}),
        ({"reference_quotes": "いいえ"}, {"outline_ready": False, "quotes_not_collected": True}),
        ({"quote_vendors": "1"}, {"outline_ready": False, "quotes_too_few": True}),
        ({"quote_vendors": "2社"}, {"outline_ready": True, "quotes_too_few": False}),
        ({"quote_basis_shown": "いいえ"}, {"outline_ready": False, "quote_basis_missing": True}),
        ({"proposal_planned": "はい", "quote_spec_level": "いいえ"},
         {"outline_ready": False, "proposal_quote_spec": True}),
        ({"proposal_planned": "はい", "quote_spec_level": "はい"},
         {"outline_ready": True, "proposal_quote_spec": False}),
        ({"personal_information": "いいえ"}, {"privacy_review": False}),
        ({}, {"privacy_review": True, "next_cio_review": True}),
    ],
)
def test_outline_decisions(overrides: dict[str, object], expected: dict[str, bool]) -> None:
    run = run_with_answers(FLOWS["outline"], outline_answers(**overrides), TODAY)
    for name, value in expected.items():
        assert run.outcomes[name] is value, name


def test_outline_skips_quote_questions_without_quotes() -> None:
    run = run_with_answers(FLOWS["outline"], outline_answers(reference_quotes="いいえ",
                                                             proposal_planned="はい"), TODAY)
    assert "quote_vendors" not in run.slots and "quote_spec_level" not in run.slots


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [("令和10年度", "2028-04-01", "2029-03-31"), ("R9", "2027-04-01", "2028-03-31"),
     ("2027年7月", "2027-07-01", "2027-07-31"), ("来年度", "2027-04-01", "2028-03-31"),
     ("2028/4/1", "2028-04-01", "2028-04-01")],
)  # fmt: skip
def test_outline_schedule_reads_dates_and_reiwa_fiscal_years(text: str, start: str, end: str) -> None:
    run = run_with_answers(FLOWS["outline"], outline_answers(ict_start=text), TODAY)
    assert run.slots["ict_start"]["start"] == start and run.slots["ict_start"]["end"] == end


@pytest.mark.parametrize(
    ("slot", "text"),
    [("ict_start", "そのうち"), ("introduction_start", "未定"), ("budget_amount", "未定"),
     ("budget_amount", "300〜400万円"), ("budget_basis", "はい"), ("quote_vendors", "いくつか")],
)
def test_outline_refuses_unreadable_schedule_budget_and_basis(slot: str, text: str) -> None:
    with pytest.raises(ScriptedAnswerError) as caught:
        run_with_answers(FLOWS["outline"], outline_answers(**{slot: text}), TODAY)
    assert caught.value.slot == slot


def test_outline_budget_basis_is_required() -> None:
    step = next(s for s in FLOWS["outline"].steps if s.slot == "budget_basis")
    assert not step.optional
    answers = outline_answers()
    del answers["budget_basis"]
    with pytest.raises(ScriptedAnswerError) as caught:
        run_with_answers(FLOWS["outline"], answers, TODAY)
    assert caught.value.slot == "budget_basis"


def test_outline_draft_has_the_four_items_the_cio_adviser_examines() -> None:
    run = run_with_answers(FLOWS["outline"], outline_answers(), TODAY)
    draft = build_outline_draft(part_values(FLOWS["outline"], run.slots), issued_on=TODAY,
                                department="子育て支援課")
    markdown = render_markdown(draft)
    headings = [line for line in markdown.splitlines() if line.startswith("## ")]
    assert headings == ["## 1. 想定している業務内容", "## 2. スケジュール",
                        "## 3. 予算額（積算根拠）", "## 4. その他（個人情報保護など）"]
    assert "予算額: 4,500,000円（450万円）" in markdown
    assert "積算根拠: ライセンス 月5万円 × 12か月" in markdown
    assert "参考見積: 3社から徴収（積算根拠の明示あり）" in markdown
    assert "ICT 活用の開始時期: 令和10年度" in markdown
    assert "申請者と児童の氏名・住所" in markdown
    import io

    import docx
    from docx.oxml.ns import qn

    document = docx.Document(io.BytesIO(render_docx(draft)))
    normal = document.styles["Normal"].element.rPr
    assert normal.find(qn("w:rFonts")).get(qn("w:eastAsia")) == "游明朝"
    assert normal.find(qn("w:lang")).get(qn("w:eastAsia")) == "ja-JP"
    assert [p.text for p in document.paragraphs if p.style.name == "Heading 1"][2] == "3. 予算額（積算根拠）"


# --- 調達準備 ----------------------------------------------------------------------------

SPEC_ITEMS = [s.slot for s in FLOWS["procurement_prep"].steps if s.slot and s.slot.startswith("spec_")
              and s.slot not in ("spec_open_for_proposals", "spec_level_stated")]


def prep_answers(method: str, **overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "proc_business": "電子申請システム導入業務委託", "method": method, "consulted_cio": "はい",
        "spec_open_for_proposals": "はい", "guide_overview": "はい", "guide_eligibility": "はい",
        "guide_schedule": "はい", "guide_documents": "はい", "selection_criteria": "はい",
        "spec_level_stated": "はい", **{slot: "はい" for slot in SPEC_ITEMS},
    }
    base.update(overrides)
    return base


def test_the_spec_checklist_has_the_fourteen_items_of_the_guideline() -> None:
    labels = [s.label for s in FLOWS["procurement_prep"].steps if s.slot in SPEC_ITEMS]
    assert len(labels) == 14
    assert labels[0] == "仕様書 1. 業務の対象" and labels[13] == "仕様書 14. その他"


@pytest.mark.parametrize(
    ("method", "overrides", "expected"),
    [
        ("公募型プロポーザル", {}, {"proposal_implies": True, "bid_implies": False,
                                    "spec_items_complete": True, "consult_cio_first": False}),
        ("指名競争入札", {}, {"proposal_implies": False, "bid_implies": True, "bid_level_missing": False}),
        ("指名競争入札", {"spec_level_stated": "いいえ"}, {"bid_level_missing": True}),
        ("公募型プロポーザル", {"spec_open_for_proposals": "いいえ"}, {"proposal_spec_too_fixed": True}),
        ("公募型プロポーザル", {"guide_eligibility": "いいえ"},
         {"missing_guide_eligibility": True, "missing_guide_overview": False}),
        ("公募型プロポーザル", {"guide_documents": "いいえ"}, {"missing_guide_documents": True}),
        ("公募型プロポーザル", {"selection_criteria": "いいえ"}, {"missing_selection_criteria": True}),
        ("その他（一般競争入札など）", {"consulted_cio": "いいえ"},
         {"consult_cio_first": True, "proposal_implies": False, "bid_implies": False}),
        ("指名競争入札", {"spec_service_level": "いいえ"},
         {"missing_spec_service_level": True, "spec_items_complete": False}),
        ("公募型プロポーザル", {"spec_copyright": "いいえ", "spec_period": "いいえ"},
         {"missing_spec_copyright": True, "missing_spec_period": True, "missing_spec_place": False,
          "spec_items_complete": False}),
    ],
)
def test_procurement_prep_decisions(method: str, overrides: dict[str, object],
                                    expected: dict[str, bool]) -> None:
    run = run_with_answers(FLOWS["procurement_prep"], prep_answers(method, **overrides), TODAY)
    for name, value in expected.items():
        assert run.outcomes[name] is value, name


def test_a_bid_is_not_asked_the_proposal_questions() -> None:
    run = run_with_answers(FLOWS["procurement_prep"], prep_answers("指名競争入札"), TODAY)
    assert "guide_overview" not in run.slots and "spec_open_for_proposals" not in run.slots
    assert "missing_guide_overview" not in {d.name for d in run.decisions}


# --- 事後評価 ----------------------------------------------------------------------------

VIEWPOINTS = [s.slot for s in FLOWS["post_evaluation"].steps if s.slot and s.slot.startswith("rating_")]


def evaluation_answers(**ratings: str) -> dict[str, object]:
    base: dict[str, object] = {"eval_system": "電子申請システム（令和6年4月〜令和9年3月）"}
    for slot in VIEWPOINTS:
        base[slot] = ratings.get(slot, "問題なし")
        base["note_" + slot.removeprefix("rating_")] = "特にない"
    return base


def test_every_viewpoint_of_the_guideline_table_gets_a_rating_and_a_note() -> None:
    steps = FLOWS["post_evaluation"].steps
    assert len(VIEWPOINTS) == 14
    for slot in VIEWPOINTS:
        note = next(s for s in steps if s.slot == "note_" + slot.removeprefix("rating_"))
        assert note.optional
    rating = next(s for s in steps if s.slot == "rating_security")
    assert [o.label for o in rating.options] == ["問題なし", "課題あり", "該当なし"]
    assert rating.cites[0].section == "【Ⅵ.評価】 > 1.所管課による評価"


@pytest.mark.parametrize(
    ("ratings", "expected"),
    [
        ({}, {"evaluation_summary": False, "cost_review": False, "issue_security": False}),
        ({"rating_security": "課題あり"}, {"evaluation_summary": True, "issue_security": True,
                                          "cost_review": False}),
        ({"rating_licenses": "課題あり"}, {"evaluation_summary": True, "cost_review": True}),
        ({"rating_response": "該当なし"}, {"evaluation_summary": False, "issue_response": False}),
    ],
)
def test_post_evaluation_summary(ratings: dict[str, str], expected: dict[str, bool]) -> None:
    run = run_with_answers(FLOWS["post_evaluation"], evaluation_answers(**ratings), TODAY)
    for name, value in expected.items():
        assert run.outcomes[name] is value, name


def test_the_evaluation_notes_reach_the_sheet() -> None:
    answers = evaluation_answers(rating_incidents="課題あり")
    answers["note_incidents"] = "保守業者の駆け付けに平均 6 時間かかった"
    run = run_with_answers(FLOWS["post_evaluation"], answers, TODAY)
    rows = dict(run.rows)
    assert rows["11. 障害対応状況（評価）"] == "課題あり"
    assert rows["11. 障害対応状況（所見）"] == "保守業者の駆け付けに平均 6 時間かかった"


# --- 葛飾区 運用保守ガイドライン適用可否 -------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "pattern", "applies"),
    [
        ({"has_om_design": "はい", "builder_does_om": "いいえ"}, "pattern_a", True),
        ({"has_om_design": "いいえ", "system_kind": "運用・保守を必要とするシステム",
          "builder_does_om": "いいえ"}, "pattern_b", True),
        ({"has_om_design": "いいえ", "system_kind": "ASP・SaaS など外部サービスの利用"}, "pattern_c", True),
        ({"has_om_design": "いいえ", "system_kind": "ソフトウェア・ハードウェアの個別導入",
          "builder_does_om": "いいえ"}, "pattern_d", True),
        ({"has_om_design": "いいえ", "system_kind": "保守・運用を必要としないシステム"}, None, False),
    ],
)
def test_katsushika_patterns(answers: dict[str, str], pattern: str | None, applies: bool) -> None:
    flow: FlowDefinition = FLOWS["katsushika_operations"]
    run = run_with_answers(flow, {"ko_system": "住民記録システム", **answers}, TODAY)
    assert run.outcomes["guideline_applies"] is applies
    patterns = {p for p in ("pattern_a", "pattern_b", "pattern_c", "pattern_d") if run.outcomes.get(p)}
    assert patterns == ({pattern} if pattern else set())
    decision = next(d for d in run.decisions if d.name == "guideline_applies")
    assert decision.cites[0].doc == "katsushika-system-guideline-operations.md"
    assert decision.cites[0].section == "I 運用保守ガイドラインについて > 4 運用保守ガイドライン適用可否判断"


def test_katsushika_notes_for_external_services_and_builders() -> None:
    flow = FLOWS["katsushika_operations"]
    saas = run_with_answers(flow, {"ko_system": "電子申請サービス", "has_om_design": "いいえ",
                                   "system_kind": "ASP・SaaS など外部サービスの利用"}, TODAY)
    assert saas.outcomes["external_service_scope"] is True and "builder_does_om" not in saas.slots
    builder = run_with_answers(flow, {"ko_system": "住民記録システム", "has_om_design": "はい",
                                      "builder_does_om": "はい"}, TODAY)
    assert builder.outcomes["builder_procurement_guideline"] is True


def test_a_second_municipality_cites_only_its_own_guideline() -> None:
    flow = FLOWS["katsushika_operations"]
    assert set(flow.documents) == {"katsushika-system-guideline-operations.md"}
    cites = [c for s in flow.steps for c in s.cites] + [c for o in flow.outcomes for c in o.cites]
    assert cites and {c.doc for c in cites} == {"katsushika-system-guideline-operations.md"}
