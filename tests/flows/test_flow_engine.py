"""The pure engine, turn by turn: answers, re-asks, 戻る, stale buttons, edits, resume."""

from __future__ import annotations

import json
from datetime import date

import pytest

from flows import (
    Completed,
    ConfirmView,
    FlowEngine,
    FlowInput,
    FlowState,
    Notice,
    Prompt,
    StepKind,
    Turn,
    load_flow_text,
    load_flows,
)

TODAY = date(2026, 11, 21)


@pytest.fixture(scope="module")
def engine() -> FlowEngine:
    return FlowEngine(load_flows()["ict_adoption"])


def pending(turn: Turn) -> Prompt:
    prompt = turn.outputs[-1]
    assert isinstance(prompt, Prompt), turn.outputs
    return prompt


def say(engine: FlowEngine, turn: Turn, *texts: str) -> Turn:
    for text in texts:
        turn = engine.step(turn.state, FlowInput(text=text))
        assert turn.accepted, turn.outputs
    return turn


def test_start_asks_the_first_question(engine: FlowEngine) -> None:
    turn = engine.start(today=TODAY)
    prompt = pending(turn)
    assert prompt.step_id == "business" and prompt.kind is StepKind.TEXT
    assert not prompt.buttons and not prompt.can_go_back and prompt.position == 1


def test_yes_no_prompt_has_buttons_help_and_citation(engine: FlowEngine) -> None:
    turn = say(engine, engine.start(today=TODAY), "住民票の交付", "窓口が混む")
    prompt = pending(turn)
    assert prompt.step_id == "review_considered" and prompt.buttons
    assert [o.value for o in prompt.options] == ["yes", "no"]
    assert prompt.help and prompt.cites[0].section == "【Ⅰ. 検討】 > 1. 業務の見直し"


def test_unreadable_money_is_reasked_with_the_form_to_type(engine: FlowEngine) -> None:
    turn = say(engine, engine.start(today=TODAY), "住民票", "混雑", "はい", "電子申請")
    before = turn.state
    turn = engine.step(before, FlowInput(text="けっこう高い"))
    assert not turn.accepted and turn.state == before
    prompt = pending(turn)
    assert prompt.step_id == "initial_cost" and prompt.error and "450万円" in prompt.error


def test_ambiguous_yes_no_is_reasked(engine: FlowEngine) -> None:
    turn = say(engine, engine.start(today=TODAY), "住民票", "混雑")
    turn = engine.step(turn.state, FlowInput(text="わからない"))
    assert not turn.accepted and "はい" in (pending(turn).error or "")


def test_button_answer_and_stale_button(engine: FlowEngine) -> None:
    turn = say(engine, engine.start(today=TODAY), "住民票", "混雑")
    turn = engine.step(turn.state, FlowInput(choice="no", step_id="review_considered"))
    assert turn.accepted and turn.state.slots["review_considered"] is False
    assert pending(turn).step_id == "review_plan"  # the branch for 見直し未検討
    # The old button is pressed again: not applied, the pending step is re-asked.
    again = engine.step(turn.state, FlowInput(choice="yes", step_id="review_considered"))
    assert not again.accepted and again.state == turn.state
    assert isinstance(again.outputs[0], Notice) and pending(again).step_id == "review_plan"


def test_optional_text_accepts_nothing(engine: FlowEngine) -> None:
    turn = say(engine, engine.start(today=TODAY), "住民票", "混雑", "いいえ", "特にない")
    assert turn.state.slots["review_plan"] == ""
    assert ("業務見直しの予定", "特になし") in engine.summary(turn.state)


def test_back_reasks_the_previous_question_with_its_answer(engine: FlowEngine) -> None:
    turn = say(engine, engine.start(today=TODAY), "住民票", "混雑", "はい", "電子申請", "450万円")
    assert pending(turn).step_id == "running_cost"
    turn = engine.step(turn.state, FlowInput(command="back"))
    prompt = pending(turn)
    assert prompt.step_id == "initial_cost" and prompt.current_answer == "4,500,000円（450万円）"
    turn = engine.step(turn.state, FlowInput(text="戻る"))  # typed 戻る works too
    assert pending(turn).step_id == "envisaged_ict"
    turn = say(engine, turn, "RPA", "200万円", "なし")
    # 200万 < 300万: the exceptions are skipped
    assert pending(turn).step_id == "ict_track_record"


def test_back_at_the_first_question(engine: FlowEngine) -> None:
    turn = engine.step(engine.start(today=TODAY).state, FlowInput(command="back"))
    assert not turn.accepted and pending(turn).step_id == "business"


def full_run(engine: FlowEngine) -> Turn:
    return say(engine, engine.start(today=TODAY),
               "住民票", "混雑", "はい", "電子申請", "450万円", "なし", "いいえ", "いいえ",
               "ない", "いいえ", "いいえ", "はい")  # fmt: skip


def test_confirm_shows_the_sheet_and_decisions(engine: FlowEngine) -> None:
    turn = full_run(engine)
    view = turn.outputs[-1]
    assert isinstance(view, ConfirmView) and view.buttons
    assert ("イニシャルコスト（設計額）", "4,500,000円（450万円）") in view.rows
    assert [o.value for o in view.options] == ["submit", "back"]
    decisions = {d.name: d for d in view.decisions}
    assert decisions["dx_council_required"].value is True
    assert decisions["dx_council_required"].cites
    done = engine.step(turn.state, FlowInput(choice="submit", step_id="confirm"))
    assert done.state.done and isinstance(done.outputs[-1], Completed)
    assert engine.step(done.state, FlowInput(text="はい")).accepted is False


def test_back_button_on_confirm(engine: FlowEngine) -> None:
    turn = engine.step(full_run(engine).state, FlowInput(choice="back", step_id="confirm"))
    assert pending(turn).step_id == "personal_information"


def test_set_answer_changes_the_outcome(engine: FlowEngine) -> None:
    state = full_run(engine).state
    assert engine.outcome_values(state)["dx_council_required"] is True
    turn = engine.set_answer(state, "initial_cost", "250万円")
    assert engine.outcome_values(turn.state)["dx_council_required"] is False
    assert "mandated_by_law" not in engine.effective_slots(turn.state)  # no longer on the path
    assert isinstance(turn.outputs[-1], ConfirmView)
    assert any("判断結果が変わりました" in o.text for o in turn.outputs if isinstance(o, Notice))


def test_set_answer_can_open_a_new_question(engine: FlowEngine) -> None:
    state = say(engine, engine.start(today=TODAY),
                "住民票", "混雑", "はい", "電子申請", "100万円", "なし",
                "ない", "いいえ", "いいえ", "はい").state  # fmt: skip
    turn = engine.set_answer(state, "initial_cost", "500万円")
    assert pending(turn).step_id == "mandated_by_law"
    turn = say(engine, turn, "いいえ", "いいえ")
    assert isinstance(turn.outputs[-1], ConfirmView)  # the rest was answered already
    assert engine.outcome_values(turn.state)["dx_council_required"] is True


def test_set_answer_rejects_an_unreadable_value(engine: FlowEngine) -> None:
    state = full_run(engine).state
    turn = engine.set_answer(state, "initial_cost", "高い")
    assert not turn.accepted and turn.state == state
    with pytest.raises(KeyError):
        engine.set_answer(state, "no_such_slot", "x")


def test_state_round_trips_through_json(engine: FlowEngine) -> None:
    turn = say(engine, engine.start(today=TODAY), "住民票", "混雑", "いいえ", "特にない")
    restored = FlowState.from_dict(json.loads(json.dumps(turn.state.to_dict(), ensure_ascii=False)))
    assert restored == turn.state
    assert engine.prompt(restored) == [pending(turn)]
    assert engine.step(restored, FlowInput(text="RPA")).accepted


def test_resume_after_the_definition_changed() -> None:
    original = """\
id: small
title: 小さなフロー
steps:
  - {id: a, kind: text, slot: a, prompt: Aは？, next: b}
  - {id: b, kind: text, slot: b, prompt: Bは？, next: c}
  - {id: c, kind: money, slot: c, prompt: Cは？}
"""
    old = FlowEngine(load_flow_text(original))
    state = old.step(old.start(today=TODAY).state, FlowInput(text="窓口")).state
    assert state.current == "b"
    renamed = original.replace("id: b,", "id: b2,").replace("next: b}", "next: b2}")
    new = FlowEngine(load_flow_text(renamed))
    outputs = new.prompt(state)
    assert isinstance(outputs[0], Prompt) and outputs[0].step_id == "b2"


def test_choice_step_by_number_label_or_value() -> None:
    definition = load_flow_text("""\
id: pick
title: 選択
steps:
  - id: how
    kind: choice
    slot: how
    prompt: 方式は？
    options:
      - {value: proposal, label: 公募型プロポーザル}
      - {value: bid, label: 一般競争入札}
""")
    engine = FlowEngine(definition)
    start = engine.start(today=TODAY).state
    for text in ("2", "一般競争入札", "bid"):
        assert engine.step(start, FlowInput(text=text)).state.slots["how"] == "bid"
    rejected = engine.step(start, FlowInput(text="随意契約"))
    assert not rejected.accepted and "公募型プロポーザル" in (pending(rejected).error or "")
    done = engine.step(start, FlowInput(choice="proposal", step_id="how"))
    assert done.state.done and engine.summary(done.state) == [("how", "公募型プロポーザル")]


def test_date_step_uses_today_for_relative_answers() -> None:
    definition = load_flow_text(
        "id: d\ntitle: 時期\nsteps:\n  - {id: when, kind: date, slot: when, prompt: いつ？}\n"
    )
    engine = FlowEngine(definition)
    turn = engine.step(engine.start(today=TODAY).state, FlowInput(text="来年度"))
    assert turn.state.slots["when"]["start"] == "2027-04-01"
    assert engine.summary(turn.state) == [("when", "令和9年度（2027年4月〜2028年3月）")]


def test_loop_with_exit() -> None:
    definition = load_flow_text("""\
id: loop
title: 繰り返し
steps:
  - {id: item, kind: text, slot: item, prompt: 品目は？, next: more}
  - id: more
    kind: yes_no
    slot: more
    prompt: まだありますか？
    next:
      - {if: more, then: item}
      - {else: end}
""")
    engine = FlowEngine(definition)
    turn = say(engine, engine.start(today=TODAY), "PC", "はい", "プリンタ", "いいえ")
    assert turn.state.done and turn.state.slots["item"] == "プリンタ"


def test_confirm_fields_read_back_to_the_same_answers(engine: FlowEngine) -> None:
    state = say(engine, engine.start(today=TODAY),
                "住民票", "混雑", "いいえ", "特にない", "電子申請", "0.3億円", "年間120万円",
                "いいえ", "はい", "ある", "いいえ", "はい", "費用が読めない", "いいえ").state  # fmt: skip
    view = engine.prompt(state)[-1]
    assert isinstance(view, ConfirmView)
    fields = {f.slot: f for f in view.fields}
    assert fields["initial_cost"].value == "30,000,000円（3000万円）"
    assert fields["concerns"].multiline and fields["has_concerns"].options
    for field in view.fields:
        turn = engine.set_answer(state, field.slot, field.value)
        assert turn.accepted, field
        assert engine.effective_slots(turn.state) == engine.effective_slots(state), field.slot


def test_state_of_another_flow_is_refused(engine: FlowEngine) -> None:
    other = FlowEngine(load_flows()["rfi"]).start(today=TODAY).state
    with pytest.raises(ValueError, match="rfi"):
        engine.prompt(other)


def test_state_from_an_unknown_schema_is_refused(engine: FlowEngine) -> None:
    data = {**engine.start(today=TODAY).state.to_dict(), "schema": 99}
    with pytest.raises(ValueError, match="schema"):
        FlowState.from_dict(data)


def test_typed_answer_date_uses_the_input_today() -> None:
    definition = load_flow_text(
        "id: d\ntitle: 時期\nsteps:\n  - {id: when, kind: date, slot: when, prompt: いつ？}\n"
    )
    engine = FlowEngine(definition)
    state = engine.start(today=TODAY).state
    turn = engine.step(state, FlowInput(text="来年度", today=date(2027, 5, 1)))
    assert turn.state.slots["when"]["start"] == "2028-04-01"


def test_a_bare_yes_is_not_taken_as_a_text_answer() -> None:
    engine = FlowEngine(load_flows()["ict_adoption"])
    turn = engine.step(engine.start(today=TODAY).state, FlowInput(text="はい"))
    assert not turn.accepted
    prompt = turn.outputs[-1]
    assert isinstance(prompt, Prompt) and prompt.error and "具体的な言葉" in prompt.error


def test_folded_yaml_prose_has_no_spaces_between_japanese_words() -> None:
    definition = load_flow_text("""\
id: folded
title: 折り返し
steps:
  - id: a
    kind: text
    slot: a
    prompt: >-
      一行目の文章で、
      二行目に続く文章です。ICT
      活用
""")
    assert definition.step("a").prompt == "一行目の文章で、二行目に続く文章です。ICT 活用"
