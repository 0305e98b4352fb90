"""What the engine asks the core to show. Neutral: no channel, no bot message class.

The core maps these to its own parts: a :class:`Prompt` with ``buttons`` becomes
buttons (choice / yes_no), otherwise a typed question; a :class:`ConfirmView` becomes
the sheet summary with a submit button; :class:`Decision` carries its citations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from flows.definition import Cite, Option, StepKind


@dataclass(frozen=True)
class Prompt:
    """Ask (or re-ask) the pending step.

    Attributes:
        error: Why the last answer was not accepted and what to type; show it first.
        hint: How to answer, e.g. ``例: 「450万円」「4,500,000円」``.
        current_answer: Display text of the answer already given (after 戻る).
        position: 1-based number of this question on the current path.
    """

    step_id: str
    kind: StepKind
    text: str
    slot: str | None
    label: str
    options: tuple[Option, ...] = ()
    help: str = ""
    cites: tuple[Cite, ...] = ()
    error: str | None = None
    hint: str = ""
    optional: bool = False
    current_answer: str | None = None
    can_go_back: bool = False
    position: int = 1

    @property
    def buttons(self) -> bool:
        """True when the prompt should be rendered as buttons."""
        return self.kind.uses_buttons


@dataclass(frozen=True)
class Notice:
    """A short message (戻りました, 古いボタンです, 変更しました ...)."""

    text: str
    level: Literal["info", "warning"] = "info"


@dataclass(frozen=True)
class Decision:
    """判断 (a decision, caveat or next step) with the clauses it rests on."""

    name: str
    label: str
    kind: str
    """``decision`` | ``note`` | ``next_step``."""
    value: bool
    statement: str
    cites: tuple[Cite, ...] = ()


@dataclass(frozen=True)
class AnswerField:
    """An answer on the current path as an editable form field (for the confirm form).

    ``value`` is text that reads back to the same answer through
    ``FlowEngine.set_answer`` (e.g. ``4,500,000円（450万円）``, ``はい``).
    """

    slot: str
    label: str
    kind: StepKind
    value: str
    multiline: bool = False
    options: tuple[Option, ...] = ()


@dataclass(frozen=True)
class ConfirmView:
    """The confirm step: the whole sheet, the decisions, and submit / back buttons."""

    step_id: str
    text: str
    rows: tuple[tuple[str, str], ...]
    decisions: tuple[Decision, ...]
    options: tuple[Option, ...]
    help: str = ""
    cites: tuple[Cite, ...] = ()
    error: str | None = None
    can_go_back: bool = True
    kind: StepKind = StepKind.CONFIRM
    fields: tuple[AnswerField, ...] = ()
    """The answers as editable fields; a changed one goes to ``FlowEngine.set_answer``."""

    @property
    def buttons(self) -> bool:
        """Always rendered as buttons."""
        return True


@dataclass(frozen=True)
class Completed:
    """The flow is finished (confirm submitted, or the last step answered)."""

    rows: tuple[tuple[str, str], ...]
    decisions: tuple[Decision, ...]


FlowOutput = Prompt | Notice | Decision | ConfirmView | Completed
