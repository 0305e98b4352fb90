"""フローの進行状態 (the state of one conversation's flow), JSON-serialisable.

The state is a plain value: the engine never mutates one, it returns a new one. The
storage layer saves :meth:`FlowState.to_dict` and restores it with
:meth:`FlowState.from_dict`, so a flow resumes days later at the same step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

STATE_SCHEMA = 1


@dataclass(frozen=True)
class FlowState:
    """Where one consultation stands.

    Attributes:
        flow_id: The flow's id, e.g. ``ict_adoption``.
        definition_version: ``version`` of the YAML the state was made with.
        definition_hash: Hash of that YAML text (to notice an edited definition).
        current: The pending step id; ``None`` once the flow is done.
        slots: Parsed answers (JSON values: bool, int, float, str, or a period dict).
        answers: What the user typed (or the button value) for each slot.
        history: Step ids answered on the way to ``current``, in order (for 戻る).
        done: True once the confirm step was submitted (or the flow ended).
        today: ISO date the flow was started; relative dates (来年度) use it.
        fast_forward: Set after an earlier answer was changed: once the questions the
            change opened are answered, skip the already-answered ones to the confirm step.
    """

    flow_id: str
    definition_version: str
    definition_hash: str
    current: str | None
    today: str
    slots: dict[str, Any] = field(default_factory=dict)
    answers: dict[str, str] = field(default_factory=dict)
    history: tuple[str, ...] = ()
    done: bool = False
    fast_forward: bool = False

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (``json.dumps`` works on it as is)."""
        return {
            "schema": STATE_SCHEMA,
            "flow_id": self.flow_id,
            "definition_version": self.definition_version,
            "definition_hash": self.definition_hash,
            "current": self.current,
            "today": self.today,
            "slots": dict(self.slots),
            "answers": dict(self.answers),
            "history": list(self.history),
            "done": self.done,
            "fast_forward": self.fast_forward,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FlowState:
        """Inverse of :meth:`to_dict`.

        Raises:
            ValueError: The dict was written by an incompatible version.
        """
        if data.get("schema", STATE_SCHEMA) != STATE_SCHEMA:
            raise ValueError(f"unsupported flow state schema: {data.get('schema')!r}")
        return cls(
            flow_id=str(data["flow_id"]),
            definition_version=str(data["definition_version"]),
            definition_hash=str(data["definition_hash"]),
            current=data.get("current"),
            today=str(data["today"]),
            slots=dict(data.get("slots") or {}),
            answers={str(k): str(v) for k, v in (data.get("answers") or {}).items()},
            history=tuple(data.get("history") or ()),
            done=bool(data.get("done", False)),
            fast_forward=bool(data.get("fast_forward", False)),
        )
