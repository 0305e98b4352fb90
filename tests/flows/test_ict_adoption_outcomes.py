"""ict_adoption.yaml decides as 木更津市 ICT活用ガイドライン says, at the boundaries."""

from __future__ import annotations

import json
from datetime import date

import pytest

from flows import FlowDefinition, ScriptedAnswerError, load_flows, run_with_answers

TODAY = date(2026, 11, 21)


@pytest.fixture(scope="module")
def ict() -> FlowDefinition:
    return load_flows()["ict_adoption"]


def answers(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "business": "保育所入所申請の受付・審査",
        "current_problem": "紙の申請書の入力に時間がかかる",
        "review_considered": "はい",
        "envisaged_ict": "電子申請と AI-OCR",
        "initial_cost": "450万円",
        "running_cost": "年間120万円",
        "mandated_by_law": "いいえ",
        "existing_system_change": "いいえ",
        "ict_track_record": "ない",
        "info_sufficient": "いいえ",
        "has_concerns": "特にない",
        "personal_information": "はい",
    }
    base.update(overrides)
    return base


@pytest.mark.parametrize(
    ("initial_cost", "required"),
    [("2,999,999円", False), ("3,000,000円", True), ("299万円（税込）", False), ("300万円", True),
     ("0.3億円", True), ("なし", False)],
)  # fmt: skip
def test_council_threshold(ict: FlowDefinition, initial_cost: str, required: bool) -> None:
    run = run_with_answers(ict, answers(initial_cost=initial_cost), TODAY)
    assert run.outcomes["dx_council_required"] is required


def test_exception_mandated_by_law(ict: FlowDefinition) -> None:
    run = run_with_answers(ict, answers(mandated_by_law="はい"), TODAY)
    assert run.outcomes["dx_council_required"] is False
    assert run.outcomes["dx_exempt_mandated"] is True
    assert "existing_system_change" not in run.slots  # not asked once the first exception applies


def test_exception_existing_system_change(ict: FlowDefinition) -> None:
    run = run_with_answers(ict, answers(existing_system_change="はい"), TODAY)
    assert run.outcomes["dx_council_required"] is False
    assert run.outcomes["dx_exempt_existing_system"] is True


def test_exceptions_are_not_asked_below_the_threshold(ict: FlowDefinition) -> None:
    # A missing answer for a question the path skips is fine: slots it does not ask are ignored.
    given = answers(initial_cost="250万円")
    del given["mandated_by_law"], given["existing_system_change"]
    run = run_with_answers(ict, given, TODAY)
    assert run.outcomes["dx_council_required"] is False
    assert "mandated_by_law" not in run.slots


def test_running_cost_never_counts(ict: FlowDefinition) -> None:
    run = run_with_answers(ict, answers(initial_cost="100万円", running_cost="年間900万円"), TODAY)
    assert run.outcomes["dx_council_required"] is False
    assert run.outcomes["running_cost_not_counted"] is True
    assert any(d.name == "running_cost_not_counted" for d in run.decisions)


def test_answers_for_unasked_slots_are_ignored(ict: FlowDefinition) -> None:
    run = run_with_answers(ict, answers(initial_cost="100万円", mandated_by_law="はい"), TODAY)
    assert "mandated_by_law" not in run.slots
    assert run.outcomes["dx_exempt_mandated"] is False


@pytest.mark.parametrize(
    ("track_record", "info", "rfi", "caveat"),
    [("いいえ", "はい", True, False), ("いいえ", "いいえ", True, False),
     ("はい", "いいえ", True, True), ("はい", "はい", False, False)],
)  # fmt: skip
def test_rfi(ict: FlowDefinition, track_record: str, info: str, rfi: bool, caveat: bool) -> None:
    run = run_with_answers(ict, answers(ict_track_record=track_record, info_sufficient=info), TODAY)
    assert run.outcomes["rfi_recommended"] is rfi
    assert run.outcomes["rfi_track_record_caveat"] is caveat


def test_concerns_without_rfi_go_to_the_cio_adviser(ict: FlowDefinition) -> None:
    run = run_with_answers(
        ict,
        answers(
            ict_track_record="はい",
            info_sufficient="はい",
            has_concerns="はい",
            concerns="保守体制",
        ),
        TODAY,
    )
    assert run.outcomes["rfi_recommended"] is False
    assert run.outcomes["concerns_consultation_without_rfi"] is True
    assert run.slots["concerns"] == "保守体制"


def test_every_decision_shown_carries_a_citation(ict: FlowDefinition) -> None:
    run = run_with_answers(ict, answers(), TODAY)
    names = [d.name for d in run.decisions]
    assert names[:2] == ["dx_council_required", "rfi_recommended"]
    assert {"next_cio_consultation", "next_outline", "next_reference_quotes",
            "next_budget_request", "next_support_request"} <= set(names)  # fmt: skip
    for decision in run.decisions:
        assert decision.statement and decision.cites, decision.name
        assert all(c.title == "木更津市 ICT活用ガイドライン（案）" for c in decision.cites)
    council = next(d for d in run.decisions if d.name == "dx_council_required")
    assert council.cites[0].section == "【Ⅰ. 検討】 > 3. ICT 活用に関する協議"
    assert run.citations and len(run.citations) == len(set(run.citations))


def test_money_is_parsed_to_yen(ict: FlowDefinition) -> None:
    run = run_with_answers(ict, answers(initial_cost="450万円くらい"), TODAY)
    assert run.slots["initial_cost"] == 4_500_000
    assert ("イニシャルコスト（設計額）", "4,500,000円（450万円）") in run.rows


def test_yaml_booleans_are_accepted(ict: FlowDefinition) -> None:
    run = run_with_answers(ict, answers(mandated_by_law=False, existing_system_change=True), TODAY)
    assert run.slots["existing_system_change"] is True


def test_missing_answer_names_the_slot(ict: FlowDefinition) -> None:
    given = answers()
    del given["initial_cost"]
    with pytest.raises(ScriptedAnswerError) as err:
        run_with_answers(ict, given, TODAY)
    assert err.value.slot == "initial_cost" and "initial_cost" in str(err.value)


def test_unreadable_answer_names_the_slot_and_the_form(ict: FlowDefinition) -> None:
    with pytest.raises(ScriptedAnswerError) as err:
        run_with_answers(ict, answers(initial_cost="300〜400万円"), TODAY)
    assert err.value.slot == "initial_cost" and "400万円" in str(err.value)


def test_run_result_is_json(ict: FlowDefinition) -> None:
    data = json.loads(json.dumps(run_with_answers(ict, answers(), TODAY).to_dict()))
    assert data["flow"] == "ict_adoption"
    assert data["slots"]["initial_cost"] == 4_500_000
    assert data["outcomes"]["dx_council_required"] is True
    assert data["outcomes"]["rfi_recommended"] is True
    assert {"doc", "title", "section", "quote"} == set(data["citations"][0])
    assert data["decisions"][0]["citations"]
