"""Drive a flow non-interactively from prepared answers (``soudan flow run``).

Example:
    >>> run = run_with_answers(load_flows()["ict_adoption"], answers, date(2026, 11, 21))
    >>> run.outcomes["dx_council_required"]   # doctest: +SKIP
    True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from flows.definition import Cite, FlowDefinition, StepKind
from flows.engine import FlowEngine, FlowInput
from flows.outputs import ConfirmView, Decision, Prompt
from flows.state import FlowState


class ScriptedAnswerError(ValueError):
    """An answer the path needs is missing or unreadable (Japanese message).

    Attributes:
        slot: The slot concerned.
        step_id: The step that asked for it.
    """

    def __init__(self, message: str, *, slot: str, step_id: str) -> None:
        self.slot = slot
        self.step_id = step_id
        super().__init__(message)


@dataclass(frozen=True)
class FlowRun:
    """The result of :func:`run_with_answers`.

    Attributes:
        state: The final (done) state.
        slots: Parsed values of the slots on the path (JSON values).
        outcomes: Every determined outcome by name (e.g. ``dx_council_required``).
        decisions: Outcomes with a statement, in definition order, with citations.
        citations: The distinct citations of ``decisions``, in order.
        rows: The 相談シート rows (label, value).
    """

    state: FlowState
    slots: dict[str, Any]
    outcomes: dict[str, bool]
    decisions: list[Decision]
    citations: list[Cite]
    rows: list[tuple[str, str]]

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly result (the core of ``soudan flow run --json``; add ``sheet_id``)."""
        return {
            "flow": self.state.flow_id,
            "slots": dict(self.slots),
            "outcomes": dict(self.outcomes),
            "decisions": [
                {
                    "name": d.name,
                    "label": d.label,
                    "kind": d.kind,
                    "value": d.value,
                    "statement": d.statement,
                    "citations": [c.to_dict() for c in d.cites],
                }
                for d in self.decisions
            ],
            "citations": [c.to_dict() for c in self.citations],
            "rows": [list(row) for row in self.rows],
        }


def _as_answer_text(value: object) -> str:
    # YAML turns はい-less answers such as `no` / `yes` into booleans, and 4500000 into an int.
    if isinstance(value, bool):
        return "はい" if value else "いいえ"
    return str(value)


def run_with_answers(
    definition: FlowDefinition, answers: Mapping[str, object], today: date
) -> FlowRun:
    """Feed each asked step the answer for its slot and confirm at the end.

    Answers for slots the path does not ask are ignored.

    Args:
        definition: The flow.
        answers: Slot name → what the user would type (``"450万円くらい"``, ``"いいえ"``);
            booleans and numbers are accepted too.
        today: Date for relative answers (来年度).

    Raises:
        ScriptedAnswerError: A step on the path has no answer, or its answer cannot
            be read; the message names the slot and says what to type.
    """
    engine = FlowEngine(definition)
    turn = engine.start(today=today)
    # Each step is answered once per visit; a loop in the flow could revisit, so bound it.
    for _ in range(10 * len(definition.steps) + 10):
        state = turn.state
        if state.done or state.current is None:
            break
        step = definition.step(state.current)
        if step.kind is StepKind.CONFIRM:
            turn = engine.step(state, FlowInput(choice="submit", step_id=step.id))
            continue
        assert step.slot is not None
        if step.slot not in answers:
            raise ScriptedAnswerError(
                f"スロット「{step.slot}」（{step.label}）の回答がありません。質問: {step.prompt}",
                slot=step.slot,
                step_id=step.id,
            )
        text = _as_answer_text(answers[step.slot])
        turn = engine.step(state, FlowInput(text=text, step_id=step.id))
        if not turn.accepted:
            reason = next(
                (o.error for o in turn.outputs if isinstance(o, Prompt | ConfirmView) and o.error),
                "",
            )
            raise ScriptedAnswerError(
                f"スロット「{step.slot}」（{step.label}）の回答「{text}」を読み取れません。{reason}",
                slot=step.slot,
                step_id=step.id,
            )
    else:
        raise ScriptedAnswerError(
            "回答を入力してもフローが終わりません（繰り返しのある質問の回答を確認してください）。",
            slot="",
            step_id=turn.state.current or "",
        )
    final = turn.state
    decisions = engine.outcomes(final)
    citations: list[Cite] = []
    for decision in decisions:
        for cite in decision.cites:
            if cite not in citations:
                citations.append(cite)
    return FlowRun(
        state=final,
        slots=engine.effective_slots(final),
        outcomes=engine.outcome_values(final),
        decisions=decisions,
        citations=citations,
        rows=engine.summary(final),
    )
