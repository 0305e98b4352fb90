"""What one flow contributes to a 相談シート, as plain JSON data.

A sheet stores one *section* per flow run on it (the ICT-adoption consultation,
then the RFI flow that continues it). A section carries every answer and outcome
with the labels, kinds and citations of the flow definition, so every reader
(review, exports, digest, Slack, Teams, terminal) renders any flow from the sheet
alone, without loading the flow file or knowing its slot names::

    {"flow": "<flow id>", "title": "<flow title>",
     "answers": [{"slot", "label", "kind", "value", "text"}],
     "decisions": [{"name", "label", "kind", "value", "value_label", "statement",
                    "digest", "cites": [{"doc", "title", "section", "quote"}]}],
     "outcomes": {name: bool, ...every determined outcome},
     "subject": "<text or null>", "cost": <int or null>, "document": "<name or null>"}

Example:
    >>> section = sheet_section(engine, state)          # doctest: +SKIP
    >>> section["answers"][0]["label"]                  # doctest: +SKIP
    '対象業務'
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flows.answer_reading import display_value
from flows.definition import Cite, FlowDefinition
from flows.engine import FlowEngine
from flows.expressions import ConditionTypeError, UndeterminedValueError
from flows.state import FlowState


def sheet_section(
    engine: FlowEngine, state: FlowState, titles: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """The section of ``engine``'s flow for the answers on ``state``'s current path.

    Args:
        titles: Document file name → citation title (``corpus.yaml``); preferred over
            the flow file's own ``documents`` titles.
    """
    definition = engine.definition
    slots = engine.effective_slots(state)
    answers: list[dict[str, Any]] = []
    for step_id in state.history:
        if not definition.has_step(step_id):
            continue
        step = definition.step(step_id)
        if step.slot is None or step.slot not in slots or any(
            a["slot"] == step.slot for a in answers
        ):
            continue
        answers.append({
            "slot": step.slot,
            "label": step.label,
            "kind": step.kind.value,
            "value": slots[step.slot],
            "text": display_value(step, slots[step.slot]),
        })
    values = engine.outcome_values(state)
    decisions = []
    for outcome in definition.outcomes:
        if outcome.name not in values:
            continue
        value = values[outcome.name]
        statement = outcome.when_true if value else outcome.when_false
        digest = outcome.name in definition.sheet.digest
        if not statement and outcome.kind != "decision" and not digest:
            continue
        decisions.append({
            "name": outcome.name,
            "label": outcome.label,
            "kind": outcome.kind,
            "value": value,
            "value_label": outcome.value_label(value),
            "statement": statement,
            "digest": digest,
            "cites": [cite_record(cite, titles) for cite in outcome.cites],
        })
    plan = definition.sheet
    subject = slots.get(plan.subject) if plan.subject else None
    cost = slots.get(plan.cost) if plan.cost else None
    return {
        "flow": definition.id,
        "title": definition.title,
        "answers": answers,
        "decisions": decisions,
        "outcomes": values,
        "subject": str(subject) if subject not in (None, "") else None,
        "cost": int(cost) if cost is not None else None,
        "document": plan.document,
    }


def cite_record(cite: Cite, titles: Mapping[str, str] | None = None) -> dict[str, str]:
    """A citation as stored on the sheet, titled from ``titles`` when it knows the document."""
    record = cite.to_dict()
    record["title"] = (titles or {}).get(cite.doc) or cite.title or cite.doc
    return record


def follow_ups(
    definition: FlowDefinition, section: Mapping[str, Any]
) -> list[tuple[str, str]]:
    """(flow id, button label) of the follow-up flows whose condition the section meets."""
    env: dict[str, Any] = {a["slot"]: a["value"] for a in section.get("answers", [])}
    env.update({d["name"]: d["value"] for d in section.get("decisions", [])})
    chosen = []
    for follow_up in definition.sheet.follow_ups:
        try:
            if follow_up.condition.evaluate(env):
                chosen.append((follow_up.flow_id, follow_up.label))
        except (UndeterminedValueError, ConditionTypeError):
            continue
    return chosen
