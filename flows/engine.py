"""フローエンジン (the flow engine): a pure step function over a validated definition.

``FlowEngine`` holds no conversation state; every call takes a :class:`FlowState`
and returns a new one with the outputs to show, so any process can take the next turn.

Example:
    >>> engine = FlowEngine(load_flows()["ict_adoption"])
    >>> turn = engine.start(today=date(2026, 11, 21))
    >>> turn = engine.step(turn.state, FlowInput(text="住民票の窓口交付"))
    >>> turn.outputs[-1].step_id
    'current_problem'
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any, Literal

from flows.answer_reading import (
    SUBMIT_WORDS,
    display_value,
    hint_for,
    is_back_command,
    read_answer,
)
from flows.definition import END, FlowDefinition, Option, Step, StepKind
from flows.expressions import ConditionTypeError, UndeterminedValueError
from flows.outputs import (
    AnswerField,
    Completed,
    ConfirmView,
    Decision,
    FlowOutput,
    Notice,
    Prompt,
)
from flows.parsing import AnswerNotUnderstood
from flows.parsing.normalize import normalize_answer
from flows.state import FlowState

YES_NO_OPTIONS = (Option("yes", "はい"), Option("no", "いいえ"))
CONFIRM_OPTIONS = (Option("submit", "この内容で確定する"), Option("back", "戻って修正する"))


@dataclass(frozen=True)
class FlowInput:
    """One user input to the flow.

    Attributes:
        text: What the user typed.
        choice: A button value (option value, ``yes``/``no``, ``submit``/``back``).
        step_id: The step the button was shown for; a different (stale) step id is
            not applied: the pending step is re-asked instead.
        command: ``back`` (戻る).
        today: Date for relative answers (来年度); defaults to the state's start date.
    """

    text: str | None = None
    choice: str | None = None
    step_id: str | None = None
    command: Literal["back"] | None = None
    today: date | None = None


@dataclass(frozen=True)
class Turn:
    """The result of one engine call: the new state and what to show.

    ``accepted`` is False when the input was not applied (unreadable answer, stale
    button, nothing to do); the state is then unchanged.
    """

    state: FlowState
    outputs: list[FlowOutput]
    accepted: bool = True


class FlowEngine:
    """Runs one :class:`FlowDefinition`."""

    def __init__(self, definition: FlowDefinition) -> None:
        self.definition = definition

    # --- starting and prompting -----------------------------------------------------

    def start(self, *, today: date) -> Turn:
        """Begin the flow at its first step."""
        state = FlowState(
            flow_id=self.definition.id,
            definition_version=self.definition.version,
            definition_hash=self.definition.definition_hash,
            current=self.definition.start,
            today=today.isoformat(),
        )
        return Turn(state, self.prompt(state))

    def prompt(self, state: FlowState) -> list[FlowOutput]:
        """What to show for the pending step (to resume, or after a mid-flow question)."""
        state = self.resync(state)
        if state.done or state.current is None:
            return [self._completed(state)]
        return [self._ask(state, self.definition.step(state.current))]

    def resync(self, state: FlowState) -> FlowState:
        """Make a saved state fit this definition.

        A state saved under an edited definition whose pending step no longer exists
        is replayed from the first step with the answers it has.
        """
        if state.flow_id != self.definition.id:
            raise ValueError(f"state of flow {state.flow_id!r} given to {self.definition.id!r}")
        current_ok = state.current is None or self.definition.has_step(state.current)
        if current_ok and all(self.definition.has_step(s) for s in state.history):
            return state
        return self._replay(state)

    # --- stepping --------------------------------------------------------------------

    def step(self, state: FlowState, flow_input: FlowInput) -> Turn:
        """Apply one input: an answer, a button press, or 戻る.

        Returns:
            The new state and outputs. An unreadable answer returns the same state
            with the step re-asked (``Prompt.error`` says what to type).
        """
        state = self.resync(state)
        if state.done or state.current is None:
            return Turn(
                state, [Notice("この相談はすでに確定しています。"), self._completed(state)], False
            )
        step = self.definition.step(state.current)
        if flow_input.step_id is not None and flow_input.step_id != step.id:
            notice = Notice("前の質問のボタンが押されました。今の質問に答えてください。", "warning")
            return Turn(state, [notice, self._ask(state, step)], accepted=False)
        if self._means_back(step, flow_input):
            return self.back(state)
        raw = flow_input.choice if flow_input.choice is not None else flow_input.text
        if raw is None:
            return Turn(state, [self._ask(state, step)], accepted=False)
        if step.kind is StepKind.CONFIRM:
            if normalize_answer(raw) in SUBMIT_WORDS:
                return self._finish(state)
            return Turn(state, [self._ask(state, step, error=hint_for(step))], accepted=False)
        today = flow_input.today or date.fromisoformat(state.today)
        try:
            value = read_answer(step, raw, today)
        except AnswerNotUnderstood as err:
            return Turn(state, [self._ask(state, step, error=err.reask)], accepted=False)
        assert step.slot is not None
        answered = replace(
            state,
            slots={**state.slots, step.slot: value},
            answers={**state.answers, step.slot: raw},
            history=(*state.history, step.id),
        )
        if state.fast_forward:
            moved = self._replay(answered)
            if moved.done:
                return self._finish(moved)
            return Turn(moved, self.prompt(moved))
        target = self._next(step, self.effective_slots(answered))
        if target == END:
            return self._finish(replace(answered, current=None))
        moved = replace(answered, current=target)
        return Turn(moved, self.prompt(moved))

    def back(self, state: FlowState) -> Turn:
        """戻る: re-ask the previous question (its old answer is shown)."""
        if not state.history:
            notice = Notice("最初の質問です。これより前には戻れません。", "warning")
            return Turn(state, [notice, *self.prompt(state)], accepted=False)
        previous = state.history[-1]
        moved = replace(
            state, current=previous, history=state.history[:-1], done=False, fast_forward=False
        )
        return Turn(moved, [Notice("ひとつ前の質問に戻ります。"), *self.prompt(moved)])

    def set_answer(
        self, state: FlowState, slot: str, text: str, *, today: date | None = None
    ) -> Turn:
        """Change an earlier answer (e.g. from the confirm form).

        The path is re-evaluated from the first step: answers stay as given, a
        question the new path needs and that has no answer yet becomes pending,
        answers the new path no longer asks are ignored (kept, not shown). A flow that
        was done must be confirmed again.

        Raises:
            KeyError: No step of this flow collects ``slot``.
        """
        steps = self.definition.steps_for_slot(slot)
        if not steps:
            raise KeyError(f"flow {self.definition.id!r} has no slot {slot!r}")
        state = self.resync(state)
        on_path = [s for s in steps if s.id in state.history]
        step = on_path[0] if on_path else steps[0]
        try:
            value = read_answer(step, text, today or date.fromisoformat(state.today))
        except AnswerNotUnderstood as err:
            notice = Notice(f"「{step.label}」を変更できませんでした。{err.reask}", "warning")
            return Turn(state, [notice], accepted=False)
        before = self.outcome_values(state)
        changed = self._replay(
            replace(
                state,
                slots={**state.slots, slot: value},
                answers={**state.answers, slot: text},
                fast_forward=True,
            )
        )
        outputs: list[FlowOutput] = [
            Notice(f"「{step.label}」を「{display_value(step, value)}」に変更しました。")
        ]
        after = self.outcome_values(changed)
        if any(before.get(name) != after.get(name) for name in after):
            outputs.append(Notice("回答の変更により、判断結果が変わりました。"))
        if slot not in self.effective_slots(changed):
            outputs.append(Notice("この項目は、今の回答内容では相談シートに使われません。"))
        if changed.current is not None and not self._is_confirm(changed.current):
            outputs.append(Notice("回答の変更により、追加で確認したい質問があります。"))
        return Turn(changed, [*outputs, *self.prompt(changed)])

    # --- results ----------------------------------------------------------------------

    def effective_slots(self, state: FlowState) -> dict[str, Any]:
        """Slots of the steps answered on the current path (others are ignored)."""
        slots: dict[str, Any] = {}
        for step_id in state.history:
            if not self.definition.has_step(step_id):
                continue
            slot = self.definition.step(step_id).slot
            if slot is not None and slot in state.slots:
                slots[slot] = state.slots[slot]
        return slots

    def outcome_values(self, state: FlowState) -> dict[str, bool]:
        """Every outcome that the answers so far determine, by name."""
        env: dict[str, Any] = self.effective_slots(state)
        values: dict[str, bool] = {}
        for outcome in self.definition.outcomes:
            try:
                values[outcome.name] = outcome.condition.evaluate(env)
            except (UndeterminedValueError, ConditionTypeError):
                continue
            env[outcome.name] = values[outcome.name]
        return values

    def outcomes(self, state: FlowState) -> list[Decision]:
        """Determined outcomes that have something to say, with their citations."""
        values = self.outcome_values(state)
        decisions = []
        for outcome in self.definition.outcomes:
            if outcome.name not in values:
                continue
            value = values[outcome.name]
            statement = outcome.when_true if value else outcome.when_false
            if statement:
                decisions.append(
                    Decision(
                        outcome.name, outcome.label, outcome.kind, value, statement, outcome.cites
                    )
                )
        return decisions

    def answer_fields(self, state: FlowState) -> list[AnswerField]:
        """The answers on the current path as editable fields, in question order."""
        fields: dict[str, AnswerField] = {}
        for step_id in state.history:
            if not self.definition.has_step(step_id):
                continue
            step = self.definition.step(step_id)
            if step.slot is None or step.slot not in state.slots:
                continue
            value = state.slots[step.slot]
            if step.kind is StepKind.DATE:
                text = state.answers.get(step.slot, "")
            else:
                text = display_value(step, value)
            fields[step.slot] = AnswerField(
                slot=step.slot,
                label=step.label,
                kind=step.kind,
                value=text,
                multiline=step.kind is StepKind.TEXT,
                options=YES_NO_OPTIONS if step.kind is StepKind.YES_NO else step.options,
            )
        return list(fields.values())

    def summary(self, state: FlowState) -> list[tuple[str, str]]:
        """(label, value) rows of the answers on the current path, in question order."""
        rows: dict[str, tuple[str, str]] = {}
        for step_id in state.history:
            if not self.definition.has_step(step_id):
                continue
            step = self.definition.step(step_id)
            if step.slot is not None and step.slot in state.slots:
                rows[step.slot] = (step.label, display_value(step, state.slots[step.slot]))
        return list(rows.values())

    # --- internals --------------------------------------------------------------------

    def _means_back(self, step: Step, flow_input: FlowInput) -> bool:
        if flow_input.command == "back":
            return True
        if flow_input.choice is not None:
            return step.kind is StepKind.CONFIRM and flow_input.choice == "back"
        return flow_input.text is not None and is_back_command(flow_input.text)

    def _is_confirm(self, step_id: str) -> bool:
        return self.definition.step(step_id).kind is StepKind.CONFIRM

    def _next(self, step: Step, env: dict[str, Any]) -> str:
        for branch in step.next:
            if branch.condition is None:
                return branch.target
            try:
                if branch.condition.evaluate(env):
                    return branch.target
            except (UndeterminedValueError, ConditionTypeError):
                continue  # a condition on an unanswered slot counts as false
        return END

    def _replay(self, state: FlowState) -> FlowState:
        """Walk from the first step through the stored answers to the first open question."""
        history: list[str] = []
        current = self.definition.start
        while current != END:
            step = self.definition.step(current)
            if step.kind is StepKind.CONFIRM or step.id in history or step.slot not in state.slots:
                keep_going = state.fast_forward and step.kind is not StepKind.CONFIRM
                return replace(
                    state,
                    current=current,
                    history=tuple(history),
                    done=False,
                    fast_forward=keep_going,
                )
            history.append(step.id)
            partial = replace(state, history=tuple(history))
            current = self._next(step, self.effective_slots(partial))
        return replace(state, current=None, history=tuple(history), done=True, fast_forward=False)

    def _finish(self, state: FlowState) -> Turn:
        done = replace(state, done=True, current=None)
        if state.current is not None:
            done = replace(done, history=(*state.history, state.current))
        return Turn(done, [self._completed(done)])

    def _completed(self, state: FlowState) -> Completed:
        return Completed(tuple(self.summary(state)), tuple(self.outcomes(state)))

    def _ask(
        self, state: FlowState, step: Step, *, error: str | None = None
    ) -> Prompt | ConfirmView:
        if step.kind is StepKind.CONFIRM:
            return ConfirmView(
                step_id=step.id,
                text=step.prompt,
                rows=tuple(self.summary(state)),
                decisions=tuple(self.outcomes(state)),
                options=CONFIRM_OPTIONS,
                help=step.help,
                cites=step.cites,
                error=error,
                can_go_back=bool(state.history),
                fields=tuple(self.answer_fields(state)),
            )
        current = None
        if step.slot is not None and step.slot in state.slots:
            current = display_value(step, state.slots[step.slot])
        return Prompt(
            step_id=step.id,
            kind=step.kind,
            text=step.prompt,
            slot=step.slot,
            label=step.label,
            options=YES_NO_OPTIONS if step.kind is StepKind.YES_NO else step.options,
            help=step.help,
            cites=step.cites,
            error=error,
            hint=hint_for(step),
            optional=step.optional,
            current_answer=current,
            can_go_back=bool(state.history),
            position=len(state.history) + 1,
        )
