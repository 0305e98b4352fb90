"""Abbreviations the documents define themselves: 「情報提供招請（RFI）」, 「RFP（提案依頼書）」.

The pairs are read from the loaded passages (a Japanese term with a Latin abbreviation in
brackets, or the other way round), never from a word list, so a new document brings its
own. :meth:`Glossary.definition` answers 「RFIって何の略？」「SLAの正式名称は？」 from the
passage that defines the abbreviation, citing it.

Example:
    >>> glossary = Glossary.from_passages(passages)  # doctest: +SKIP
    >>> glossary.definition("RFIって何の略？")  # doctest: +SKIP
    Definition(abbreviation='RFI', term='情報提供招請', passage=Passage(...))
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from knowledge.lexical import normalize_text
from knowledge.types import Passage

_TERM = r"[一-龥々ァ-ヶー・]{2,20}"
_ABBREVIATION = r"[a-z][a-z0-9\-]{1,12}"
_TERM_THEN_ABBREVIATION = re.compile(rf"({_TERM})\s*\(\s*({_ABBREVIATION})\s*\)")
_ABBREVIATION_THEN_TERM = re.compile(rf"(?<![a-z0-9])({_ABBREVIATION})\s*\(\s*({_TERM})\s*\)")
_ASKS_EXPANSION = re.compile(r"何の略|なんの略|正式(?:名称|名)|略称|略語|省略")
"""The question asks what an abbreviation stands for (not what the thing does)."""


@dataclass(frozen=True)
class Definition:
    abbreviation: str
    """As the passage writes it (RFI)."""
    term: str
    """The Japanese term it stands for (情報提供招請)."""
    passage: Passage

    def sentence(self, limit: int = 200) -> str:
        """The passage's sentence that gives the definition (for the answer to quote)."""
        for sentence in re.split(r"(?<=。)|\n", self.passage.text):
            folded = normalize_text(sentence)
            if self.abbreviation.lower() in folded and self.term in folded:
                sentence = sentence.strip().lstrip("-・ ").strip()
                return sentence if len(sentence) <= limit else sentence[:limit] + "…"
        return ""


class Glossary:
    """Abbreviation -> the first passage (in document order) that defines it."""

    def __init__(self, definitions: dict[str, Definition]) -> None:
        self.definitions = definitions

    @classmethod
    def from_passages(cls, passages: Iterable[Passage]) -> Glossary:
        """Read every pair; per abbreviation keep the term written as 「用語（ABC）」 before
        one written as 「ABC（用語）」 (that order is also used for roles: 「CIO（市長）」),
        then the term written most often, then the first in document order."""
        seen: dict[str, dict[str, list[Any]]] = {}
        order = 0
        for passage in passages:
            text = normalize_text(passage.text)
            pairs = [(m.group(2), m.group(1), 0) for m in _TERM_THEN_ABBREVIATION.finditer(text)]
            pairs += [(m.group(1), m.group(2), 1) for m in _ABBREVIATION_THEN_TERM.finditer(text)]
            for abbreviation, term, form in pairs:
                terms = seen.setdefault(abbreviation, {})
                if term not in terms:
                    terms[term] = [form, 0, order, passage]
                    order += 1
                entry = terms[term]
                entry[0] = min(entry[0], form)
                entry[1] += 1
        found: dict[str, Definition] = {}
        for abbreviation, terms in seen.items():
            term, (_form, _count, _order, passage) = min(
                terms.items(), key=lambda item: (item[1][0], -item[1][1], item[1][2])
            )
            found[abbreviation] = Definition(
                _as_written(passage.text, abbreviation), term, passage
            )
        return cls(found)

    def definition(self, question: str) -> Definition | None:
        """The definition a question asking what an abbreviation stands for needs, when
        the documents give one (None otherwise: the question is answered as any other)."""
        text = normalize_text(question)
        if not _ASKS_EXPANSION.search(text):
            return None
        for abbreviation in re.findall(r"(?<![a-z0-9])[a-z][a-z0-9\-]{1,12}", text):
            if abbreviation in self.definitions:
                return self.definitions[abbreviation]
        return None


def _as_written(text: str, abbreviation: str) -> str:
    """The abbreviation in the passage's own letters (RFI, not rfi)."""
    compact = re.sub(r"(?<=[A-Za-z])[ \u3000](?=[A-Za-z])", "", unicodedata.normalize("NFKC", text))
    start = compact.lower().find(abbreviation)
    return compact[start : start + len(abbreviation)] if start >= 0 else abbreviation.upper()
