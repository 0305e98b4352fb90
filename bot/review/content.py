"""A sheet's answers and decisions as neutral parts (for a reader who sees it in full).

:func:`content_parts` is the one place that turns what a 相談シート recorded into
parts: the requester's answers as (label, value) rows and every decision with the
clauses it cites (document title, section path, quoted text). Channels render the
parts; none of them reads sheet columns. The answers and decisions come from the
sheet's flow-generic ``sections`` (labels, values and citations written from each flow
file), so any flow renders here without code.

Example:
    >>> content_parts(store, sheet_id, titles)                       # doctest: +SKIP
    [SheetSummary(... rows=(("現状の課題", "..."), ...)), Text("判断結果 ..."), CitationList(...)]
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.core.messages import Citation, CitationList, Part, SheetSummary, Text
from bot.review.store import ReviewStore
from storage import sheets
from storage.lifecycle import status_label
from storage.models import ConsultationSheet
from storage.sheet_view import sheet_content


def _answers(row: ConsultationSheet) -> tuple[tuple[str, str], ...]:
    content = sheet_content(row.sections)
    several = len(content.flow_titles) > 1
    return tuple(
        (f"{a.flow_title} > {a.label}" if several else a.label, a.text or "未記入")
        for a in content.answers
    )


def _decisions(row: ConsultationSheet) -> list[dict[str, Any]]:
    """The decision records of every section, with their citations' quoted text."""
    return [
        decision
        for section in row.sections or []
        if isinstance(section, dict)
        for decision in section.get("decisions") or []
        if isinstance(decision, dict)
    ]


def _decision_parts(decisions: list[dict[str, Any]], titles: Mapping[str, str]) -> list[Part]:
    lines: list[str] = []
    clauses: dict[tuple[str, str], list[str]] = {}
    named: dict[str, str] = dict(titles)
    for decision in decisions:
        numbers: list[int] = []
        for cite in decision.get("cites") or []:
            if not isinstance(cite, dict):
                continue
            key = (str(cite.get("doc") or ""), str(cite.get("section") or ""))
            if cite.get("title"):
                named.setdefault(key[0], str(cite["title"]))
            quotes = clauses.setdefault(key, [])
            quote = str(cite.get("quote") or "")
            if quote and quote not in quotes:
                quotes.append(quote)
            number = list(clauses).index(key) + 1
            if number not in numbers:
                numbers.append(number)
        statement = str(decision.get("statement") or decision.get("name") or "")
        label = str(decision.get("label") or "")
        value = str(decision.get("value_label") or "") if decision.get("kind", "decision") == (
            "decision") else ""
        head = f"{label}: {value}" if label and value else label
        lines.append(f"■ {head + ' — ' if head else ''}{statement}"
                     + "".join(f"[{n}]" for n in numbers))
    if not lines:
        return [Text("判断結果はまだありません。")]
    parts: list[Part] = [Text("判断結果:\n" + "\n".join(lines))]
    if clauses:
        parts.append(CitationList(tuple(
            Citation(doc=doc, title=named.get(doc, doc), section=section,
                     text=" … ".join(quotes))
            for (doc, section), quotes in clauses.items()
        )))
    return parts


def content_parts(
    store: ReviewStore, sheet_id: str, titles: Mapping[str, str]
) -> list[Part]:
    """The sheet's answers (one :class:`SheetSummary`) and decisions with citations.

    Call only after the access policy allowed viewing the sheet.
    """
    with store.database.session() as session:
        row = sheets.get_sheet(session=session, sheet_id=sheet_id)
        if row is None:
            return []
        answers = SheetSummary(
            sheet_id=row.id, reference=row.reference, status=status_label(row.status),
            rows=_answers(row),
        )
        decisions = _decisions(row)
    return [answers, *_decision_parts(decisions, titles)]
