"""相談シートの内容 (what a sheet's flows collected) as neutral lines every view renders.

The one description of a sheet's content: review (CLI, chat, Slack, Teams, web),
the exports and ``soudan sheets show`` all read these lines, built from the
sheet's ``sections`` (:mod:`flows.sheet_section`). Nothing here knows a flow id,
slot or outcome name: labels, kinds, value words and citations come from the
sheet itself.

Example:
    >>> content = sheet_content(sheet.sections)        # doctest: +SKIP
    >>> [(a.label, a.text) for a in content.answers]   # doctest: +SKIP
    [('対象業務', '住民票の窓口交付'), ...]
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class AnswerLine:
    """One answer: its flow's title, the question's label and the answer as read back."""

    flow_title: str
    label: str
    kind: str
    """``text``, ``money``, ``date``, ``yes_no``, ``number``, ``choice`` …"""
    text: str
    value: Any = None


@dataclass(frozen=True)
class DecisionLine:
    """One outcome: label, the value in words (必要 / 不要 …), statement and sources."""

    flow_title: str
    name: str
    label: str
    kind: str
    """``decision`` | ``note`` | ``next_step``."""
    value: bool
    value_label: str
    statement: str
    citations: tuple[str, ...]
    """「文書名 > 章節」, each once."""
    digest: bool = False
    """The flow lists sheets by this outcome in the weekly digest."""


@dataclass(frozen=True)
class SheetContent:
    """Everything a sheet's flows collected, in order."""

    flow_titles: tuple[str, ...]
    answers: tuple[AnswerLine, ...]
    decisions: tuple[DecisionLine, ...]

    @property
    def headline(self) -> tuple[DecisionLine, ...]:
        """The decisions a summary shows (kind ``decision``)."""
        return tuple(d for d in self.decisions if d.kind == "decision")

    @property
    def digest_groups(self) -> tuple[str, ...]:
        """Titles of the digest groups this sheet belongs to (e.g. 「DX推進本部会議での協議が必要」)."""
        return tuple(group_title(d) for d in self.decisions if d.digest and d.value)


EMPTY = SheetContent((), (), ())

COMMENT_KIND_LABELS: dict[str, str] = {
    "comment": "コメント",
    "return": "差し戻し理由",
    "accept": "受理コメント",
}
"""Japanese names of the comment kinds (:class:`storage.models.CommentKind` values)."""


def group_title(decision: DecisionLine) -> str:
    """A digest group's title: the outcome's label and its true value word."""
    return f"{decision.label}が{decision.value_label}"


def citation_text(cite: Mapping[str, Any]) -> str:
    """「文書名 > 章節」 for a stored citation (the title, never the file name when known)."""
    title = str(cite.get("title") or cite.get("doc") or "")
    section = str(cite.get("section") or "")
    return f"{title} > {section}" if title and section else title or section


def _citations(cites: Iterable[Any]) -> tuple[str, ...]:
    seen: list[str] = []
    for cite in cites:
        if isinstance(cite, Mapping):
            text = citation_text(cite)
            if text and text not in seen:
                seen.append(text)
    return tuple(seen)


def sheet_content(sections: Sequence[Mapping[str, Any]] | None) -> SheetContent:
    """The neutral lines of a sheet's ``sections`` (malformed entries are skipped)."""
    if not sections:
        return EMPTY
    titles: list[str] = []
    answers: list[AnswerLine] = []
    decisions: list[DecisionLine] = []
    for section in sections:
        if not isinstance(section, Mapping):
            continue
        title = str(section.get("title") or "")
        titles.append(title)
        for answer in section.get("answers") or []:
            if isinstance(answer, Mapping):
                answers.append(AnswerLine(
                    title, str(answer.get("label") or ""), str(answer.get("kind") or "text"),
                    str(answer.get("text") or ""), answer.get("value"),
                ))
        for decision in section.get("decisions") or []:
            if not isinstance(decision, Mapping):
                continue
            value = bool(decision.get("value"))
            decisions.append(DecisionLine(
                flow_title=title,
                name=str(decision.get("name") or ""),
                label=str(decision.get("label") or ""),
                kind=str(decision.get("kind") or "decision"),
                value=value,
                value_label=str(
                    decision.get("value_label") or ("該当" if value else "非該当")
                ),
                statement=str(decision.get("statement") or ""),
                citations=_citations(decision.get("cites") or []),
                digest=bool(decision.get("digest")),
            ))
    return SheetContent(tuple(titles), tuple(answers), tuple(decisions))


def answer_lines_text(content: SheetContent) -> str:
    """Every answer as 「ラベル: 回答」 lines, under each flow's title when there are several."""
    lines: list[str] = []
    current = None
    several = len(content.flow_titles) > 1
    for answer in content.answers:
        if several and answer.flow_title != current:
            current = answer.flow_title
            lines.append(f"【{current}】")
        lines.append(f"{answer.label}: {answer.text}")
    return "\n".join(lines)


def answer_lines_by_flow(content: SheetContent) -> list[str]:
    """Every answer as an indented 「ラベル: 回答」 line under a 「回答（フロー名）:」 line per
    flow (the terminal's form: ``soudan sheets show``, ``soudan review show``)."""
    lines: list[str] = []
    flow_title = None
    for answer in content.answers:
        if answer.flow_title != flow_title:
            flow_title = answer.flow_title
            lines.append(f"回答（{flow_title}）:" if flow_title else "回答:")
        lines.append(f"  {answer.label}: {answer.text}")
    return lines


def decision_lines_text(content: SheetContent) -> str:
    """Every outcome as 「ラベル: 値 — 説明（根拠: 文書名 > 章節）」 lines."""
    lines = []
    for decision in content.decisions:
        head = f"{decision.label}: {decision.value_label}" if decision.kind == "decision" else (
            decision.label
        )
        text = f"{head} — {decision.statement}" if decision.statement else head
        if decision.citations:
            text += f"（根拠: {'; '.join(decision.citations)}）"
        lines.append(text)
    return "\n".join(lines)
