"""Each validation rule rejects a broken flow with its own error type and a readable message."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from flows import (
    BadConditionError,
    CycleWithoutExitError,
    DuplicateFlowIdError,
    DuplicateStepIdError,
    FlowDefinitionError,
    FlowSchemaError,
    InvalidOptionsError,
    MissingFieldError,
    MissingPromptError,
    UnknownFieldError,
    UnknownNextStepError,
    UnknownSlotError,
    UnknownStepKindError,
    UnreachableStepError,
    YamlSyntaxError,
    load_flow_text,
    load_flows,
)

HEADER = """\
id: sample
title: サンプル
steps:
"""


def flow(steps: str, outcomes: str = "") -> str:
    text = HEADER + textwrap.indent(textwrap.dedent(steps), "  ")
    if outcomes:
        text += "outcomes:\n" + textwrap.indent(textwrap.dedent(outcomes), "  ")
    return text


VALID = flow(
    """
    - id: cost
      kind: money
      slot: cost
      prompt: 費用は？
      next:
        - if: cost >= 3000000
          then: law
        - else: done
    - id: law
      kind: yes_no
      slot: law
      prompt: 法令による導入ですか？
      next: done
    - id: done
      kind: confirm
      prompt: 確認してください
    """,
    """
    - name: big
      when: cost >= 3000000 and not law
      if_true: 大きい
    """,
)


def test_valid_flow_loads() -> None:
    definition = load_flow_text(VALID, source="sample.yaml")
    assert definition.id == "sample"
    assert [s.id for s in definition.steps] == ["cost", "law", "done"]
    assert definition.outcomes[0].condition.names() == {"cost", "law"}


def test_unknown_next_step() -> None:
    text = VALID.replace("next: done", "next: finish", 1)
    with pytest.raises(UnknownNextStepError) as err:
        load_flow_text(text, source="sample.yaml")
    message = str(err.value)
    assert "sample.yaml" in message and "「sample」" in message and "「law」" in message
    assert "「finish」" in message


def test_unknown_branch_target() -> None:
    with pytest.raises(UnknownNextStepError, match="「lawz」"):
        load_flow_text(VALID.replace("then: law", "then: lawz"))


def test_unreachable_step() -> None:
    text = flow(
        """
        - id: a
          kind: text
          slot: a
          prompt: A?
          next: end
        - id: orphan
          kind: text
          slot: b
          prompt: B?
          next: end
        """
    )
    with pytest.raises(UnreachableStepError) as err:
        load_flow_text(text)
    assert err.value.step_id == "orphan"
    assert "どこからも進めません" in str(err.value)


def test_cycle_without_exit() -> None:
    text = flow(
        """
        - id: a
          kind: yes_no
          slot: a
          prompt: A?
          next: b
        - id: b
          kind: yes_no
          slot: b
          prompt: B?
          next:
            - if: b
              then: a
            - else: a
        """
    )
    with pytest.raises(CycleWithoutExitError) as err:
        load_flow_text(text)
    assert "「a」" in str(err.value) and "「b」" in str(err.value)


def test_cycle_with_exit_is_allowed() -> None:
    text = flow(
        """
        - id: item
          kind: text
          slot: item
          prompt: 品目は？
          next: more
        - id: more
          kind: yes_no
          slot: more
          prompt: まだありますか？
          next:
            - if: more
              then: item
            - else: end
        """
    )
    assert load_flow_text(text).start == "item"


def test_unknown_slot_in_branch_condition() -> None:
    with pytest.raises(UnknownSlotError) as err:
        load_flow_text(VALID.replace("if: cost >= 3000000", "if: costs >= 3000000"))
    assert "「costs」" in str(err.value) and err.value.step_id == "cost"


def test_unknown_slot_in_outcome_condition() -> None:
    with pytest.raises(UnknownSlotError, match="「mandated」"):
        load_flow_text(VALID.replace("and not law", "and not mandated"))


def test_outcome_may_refer_to_an_earlier_outcome() -> None:
    text = VALID + "  - name: bigger\n    when: big and cost > 5000000\n    if_true: もっと大きい\n"
    assert [o.name for o in load_flow_text(text).outcomes] == ["big", "bigger"]


def test_step_without_prompt() -> None:
    with pytest.raises(MissingPromptError) as err:
        load_flow_text(VALID.replace("    prompt: 法令による導入ですか？\n", ""))
    assert err.value.step_id == "law" and "prompt" in str(err.value)


def test_step_with_empty_prompt() -> None:
    with pytest.raises(MissingPromptError):
        load_flow_text(VALID.replace("prompt: 法令による導入ですか？", 'prompt: "  "'))


@pytest.mark.parametrize(
    "expression",
    ["cost >=", "cost = 3", "(cost > 1", "cost 3", "cost && law", "law in 1", ""],
)
def test_bad_condition_expression(expression: str) -> None:
    with pytest.raises(BadConditionError) as err:
        load_flow_text(VALID.replace("cost >= 3000000 and not law", f'"{expression}"'))
    assert "条件式" in str(err.value) and "文字目" in str(err.value)


def test_unknown_step_kind() -> None:
    with pytest.raises(UnknownStepKindError) as err:
        load_flow_text(VALID.replace("kind: money", "kind: currency"))
    assert "currency" in str(err.value) and "money" in str(err.value)


def test_duplicate_step_id() -> None:
    with pytest.raises(DuplicateStepIdError, match="「cost」"):
        load_flow_text(VALID.replace("- id: law", "- id: cost"))


def test_missing_required_field() -> None:
    with pytest.raises(MissingFieldError) as err:
        load_flow_text(VALID.replace("title: サンプル\n", ""))
    assert "title" in str(err.value)


def test_missing_slot() -> None:
    with pytest.raises(MissingFieldError, match="slot"):
        load_flow_text(VALID.replace("    slot: law\n", ""))


def test_branch_list_without_else() -> None:
    with pytest.raises(MissingFieldError, match="else"):
        load_flow_text(VALID.replace("      - else: done\n", ""))


def test_misspelt_field() -> None:
    with pytest.raises(UnknownFieldError, match="promt"):
        load_flow_text(VALID.replace("prompt: 費用は？", "prompt: 費用は？\n    promt: x"))


def test_misspelt_prompt_is_reported_as_the_typo() -> None:
    with pytest.raises(UnknownFieldError) as err:
        load_flow_text(VALID.replace("prompt: 費用は？", "promt: 費用は？"))
    assert "promt" in str(err.value) and "prompt" in str(err.value)


def test_choice_needs_two_distinct_options() -> None:
    text = flow(
        """
        - id: pick
          kind: choice
          slot: pick
          prompt: 選んでください
          options:
            - {value: a, label: A}
            - {value: a, label: B}
        """
    )
    with pytest.raises(InvalidOptionsError, match="重複"):
        load_flow_text(text)


def test_yaml_syntax_error_names_the_line() -> None:
    with pytest.raises(YamlSyntaxError, match="行目"):
        load_flow_text("id: x\nsteps:\n  - id: a\n   kind: text\n", source="broken.yaml")


def test_not_a_mapping() -> None:
    with pytest.raises(FlowSchemaError):
        load_flow_text("- just\n- a list\n")


def test_every_error_is_a_flow_definition_error() -> None:
    for error in (UnknownNextStepError, UnreachableStepError, CycleWithoutExitError,
                  UnknownSlotError, MissingPromptError, BadConditionError, UnknownStepKindError,
                  DuplicateStepIdError, MissingFieldError, YamlSyntaxError):  # fmt: skip
        assert issubclass(error, FlowDefinitionError)


def test_duplicate_flow_id_across_files(tmp_path) -> None:
    (tmp_path / "a.yaml").write_text(VALID, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(VALID, encoding="utf-8")
    with pytest.raises(DuplicateFlowIdError, match=r"a\.yaml"):
        load_flows(tmp_path)


def test_shipped_flows_load() -> None:
    flows = load_flows()
    assert {"ict_adoption"} <= set(flows)


def test_a_follow_up_must_name_a_flow_of_the_same_directory(tmp_path: Path) -> None:
    from flows import load_flows
    from flows.errors import UnknownFieldError

    (tmp_path / "a.yaml").write_text(
        "id: a\ntitle: A\nsheet:\n  follow_ups:\n    - flow: missing\n      label: 続ける\n"
        "steps:\n  - id: q\n    kind: text\n    slot: q\n    prompt: 質問\n",
        encoding="utf-8",
    )
    with pytest.raises(UnknownFieldError) as raised:
        load_flows(tmp_path)
    assert "missing" in str(raised.value)
    assert list(load_flows(tmp_path / "a.yaml")) == ["a"]  # one file alone is checked by itself


def _with_parts(parts: str) -> str:
    return (
        "id: a\ntitle: A\nsheet:\n  parts:\n"
        + parts
        + "steps:\n  - id: q\n    kind: text\n    slot: q\n    prompt: 質問\n"
    )


def test_sheet_parts_map_document_parts_to_the_flows_own_slots() -> None:
    from flows import load_flow_text
    from flows.document_parts import part_values

    definition = load_flow_text(_with_parts("    business: q\n"))
    assert definition.sheet.parts == {"business": "q"}
    assert part_values(definition, {"q": "窓口業務", "other": 1}) == {"business": "窓口業務"}


@pytest.mark.parametrize(
    ("parts", "named"),
    [
        ("    business: missing_slot\n", "missing_slot"),
        ("    no_such_part: q\n", "no_such_part"),
    ],
)
def test_sheet_parts_with_an_unknown_slot_or_part_are_refused(parts: str, named: str) -> None:
    from flows import load_flow_text
    from flows.errors import UnknownFieldError

    with pytest.raises(UnknownFieldError) as raised:
        load_flow_text(_with_parts(parts))
    assert named in str(raised.value) and "sheet.parts" in str(raised.value)


def test_no_slot_name_of_a_shipped_flow_is_written_in_the_document_builders() -> None:
    import flows.outline_document
    import flows.rfi_document

    slots = {s.slot for f in load_flows().values() for s in f.steps if s.slot}
    parts = {p for f in load_flows().values() for p in f.sheet.parts}
    for module in (flows.rfi_document, flows.outline_document):
        source = Path(module.__file__ or "").read_text(encoding="utf-8")
        quoted = {name for name in slots - parts if f'"{name}"' in source or f"'{name}'" in source}
        assert not quoted, f"{module.__name__} reads slots by name: {sorted(quoted)}"
