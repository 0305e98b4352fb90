"""フロー定義 (flow definitions): the small dataclasses a validated YAML file becomes.

Load them with :func:`flows.loader.load_flows`; never build them by hand outside tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from flows.expressions import Condition

END = "end"
"""Reserved ``next`` target meaning "the flow ends here"."""


class StepKind(StrEnum):
    """ステップの種類 (the kinds of question a step asks)."""

    CHOICE = "choice"
    YES_NO = "yes_no"
    MONEY = "money"
    NUMBER = "number"
    DATE = "date"
    TEXT = "text"
    CONFIRM = "confirm"

    @property
    def uses_buttons(self) -> bool:
        """True when a channel should render the prompt as buttons."""
        return self in (StepKind.CHOICE, StepKind.YES_NO, StepKind.CONFIRM)


@dataclass(frozen=True)
class Cite:
    """A clause of a source document that a prompt or decision rests on."""

    doc: str
    """File name of the document, e.g. ``kisarazu-ict-guideline.md``."""
    section: str
    """Section path, e.g. ``【Ⅰ. 検討】 > 3. ICT 活用に関する協議``."""
    quote: str = ""
    """A short verbatim quote from the document (checked by the tests)."""
    title: str = ""
    """Document title from the flow's ``documents`` map (or the file name)."""

    def to_dict(self) -> dict[str, str]:
        """JSON-friendly form: doc, title, section, quote."""
        return {"doc": self.doc, "title": self.title, "section": self.section, "quote": self.quote}


@dataclass(frozen=True)
class Option:
    """One button of a choice step."""

    value: str
    label: str


@dataclass(frozen=True)
class Branch:
    """``if: <condition>  then: <step>``; ``condition`` is None for the ``else`` branch."""

    target: str
    condition: Condition | None = None


@dataclass(frozen=True)
class Step:
    """One question of a flow."""

    id: str
    kind: StepKind
    prompt: str
    slot: str | None
    label: str
    """Short label for the 相談シート row (defaults to the slot name)."""
    next: tuple[Branch, ...]
    """Branches in order; the last one is unconditional. Empty means the flow ends."""
    help: str = ""
    cites: tuple[Cite, ...] = ()
    options: tuple[Option, ...] = ()
    optional: bool = False

    def targets(self) -> list[str]:
        """Every step id this step can lead to (``end`` included)."""
        return [branch.target for branch in self.next] or [END]


@dataclass(frozen=True)
class Outcome:
    """判断 (a decision or a note) derived from the slots.

    ``kind`` is ``decision`` (a rule of the guideline), ``note`` (a caveat) or
    ``next_step`` (what to do next). ``when_true`` / ``when_false`` are the Japanese
    statements shown to the user; an empty statement shows nothing for that value.
    """

    name: str
    label: str
    condition: Condition
    when_true: str
    when_false: str
    cites: tuple[Cite, ...]
    kind: str = "decision"
    yes_label: str = "該当"
    """How the 相談シート shows the outcome when true (e.g. 必要, 推奨)."""
    no_label: str = "非該当"
    """How the 相談シート shows the outcome when false (e.g. 不要)."""

    def value_label(self, value: bool) -> str:
        """The Japanese word for ``value`` (``yes_label`` / ``no_label``)."""
        return self.yes_label if value else self.no_label


@dataclass(frozen=True)
class FollowUp:
    """A flow that continues the same 相談シート when ``condition`` holds at the end."""

    flow_id: str
    label: str
    """Button text, e.g. 「RFI で確認する事項を整理する」."""
    condition: Condition


@dataclass(frozen=True)
class SheetPlan:
    """How a flow fills the 相談シート (the flow file's ``sheet:`` block).

    Every field is optional: a flow without the block still stores all its
    answers and outcomes on the sheet; these only name the report columns.
    """

    entry: bool = False
    """「相談を始める」 starts this flow."""
    subject: str | None = None
    """Slot shown as the sheet's 対象業務 (lists, digest lines)."""
    cost: str | None = None
    """Money slot stored as the sheet's initial cost (digest cost bands and totals)."""
    digest: tuple[str, ...] = ()
    """Outcomes the weekly digest lists sheets by (those that are true)."""
    follow_ups: tuple[FollowUp, ...] = ()
    document: str | None = None
    """Name of the document this flow produces (``rfi_request``), if any."""
    parts: dict[str, str] = field(default_factory=dict)
    """Document part (:data:`flows.document_parts.KNOWN_PARTS`) → the slot that fills it."""


@dataclass(frozen=True)
class FlowDefinition:
    """A validated flow."""

    id: str
    version: str
    title: str
    description: str
    steps: tuple[Step, ...]
    outcomes: tuple[Outcome, ...]
    source: str
    definition_hash: str
    """Hash of the YAML text; a saved state records it to notice a changed definition."""
    documents: dict[str, str] = field(default_factory=dict)
    """Document file name → citation title."""
    sheet: SheetPlan = field(default_factory=SheetPlan)
    """What the flow contributes to the 相談シート's report columns."""

    def outcome(self, name: str) -> Outcome | None:
        """The outcome with this name, or None."""
        return next((o for o in self.outcomes if o.name == name), None)

    @property
    def start(self) -> str:
        """The first step's id."""
        return self.steps[0].id

    def step(self, step_id: str) -> Step:
        """The step with this id.

        Raises:
            KeyError: No such step.
        """
        for step in self.steps:
            if step.id == step_id:
                return step
        raise KeyError(step_id)

    def has_step(self, step_id: str) -> bool:
        """Whether a step with this id exists."""
        return any(step.id == step_id for step in self.steps)

    def steps_for_slot(self, slot: str) -> list[Step]:
        """Steps that fill ``slot`` (usually one)."""
        return [step for step in self.steps if step.slot == slot]

    @property
    def slots(self) -> list[str]:
        """Slot names in step order, without repeats."""
        seen: list[str] = []
        for step in self.steps:
            if step.slot and step.slot not in seen:
                seen.append(step.slot)
        return seen
