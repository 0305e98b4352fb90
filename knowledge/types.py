"""Value types of the knowledge side: passages, search hits and answers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Passage:
    """A clause-level passage of one guideline document.

    ``id`` is stable: document content hash + position, so re-ingesting an unchanged
    document yields the same ids.
    """

    id: str
    doc: str
    """File name, e.g. ``kisarazu-ict-guideline.md``."""
    title: str
    """Citation title from corpus.yaml (or the file name when none is given)."""
    section: str
    """Section path below the title, e.g. ``【Ⅰ. 検討】 > 3. ICT 活用に関する協議``."""
    text: str
    """The passage as cited, faithful to the source up to whitespace."""


@dataclass(frozen=True)
class Hit:
    passage: Passage
    score: float


@dataclass(frozen=True)
class Answer:
    """回答 (an answer) with the passages it rests on."""

    question: str
    answered: bool
    """False when the documents do not answer the question (the abstain path)."""
    text: str
    citations: tuple[Passage, ...] = field(default_factory=tuple)


class AnswerComposer(Protocol):
    """Port: turns the retrieved passages into a short Japanese answer.

    The default composer is extractive and offline; an LLM composer (LangChain) can
    be configured instead. A composer never cites a passage it was not given.
    """

    def compose(self, question: str, hits: Sequence[Hit], *, history: Sequence[str] = ()) -> Answer:
        ...


class QuestionAnswerer(Protocol):
    """What the conversation core needs from the knowledge side."""

    def answer(self, question: str, *, history: Sequence[str] = ()) -> Answer:
        ...

    def search(self, question: str, *, top_k: int = 5) -> list[Hit]:
        ...
