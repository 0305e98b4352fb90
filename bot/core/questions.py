"""Guideline Q&A turns: an answer with its citations and 👍/👎 buttons."""

from __future__ import annotations

from bot.core.messages import Citation, CitationList, FeedbackRequest, Part, Text
from knowledge.types import Answer

FOLLOW_UP_TURNS = 3
"""How many earlier questions of the same thread travel with a follow-up question."""


def answer_parts(answer: Answer, *, answer_id: str) -> list[Part]:
    """Render an answer: text, numbered citations (title + section path), feedback."""
    parts: list[Part] = [Text(answer.text)]
    if answer.citations:
        parts.append(
            CitationList(
                tuple(
                    Citation(doc=p.doc, title=p.title, section=p.section, text=p.text)
                    for p in answer.citations
                )
            )
        )
    parts.append(FeedbackRequest(answer_id=answer_id))
    return parts
