"""Extractive answer composer: the sentences of the best passages that answer the question.

Offline and deterministic; it never cites a passage it was not given. An LLM composer
can implement ``knowledge.types.AnswerComposer`` instead.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from knowledge.chunking import SECTION_SEPARATOR
from knowledge.lexical import BM25Index, JapaneseTokenizer
from knowledge.refusal import asked_figures, holds_figure
from knowledge.types import Answer, Hit, Passage

ABSTAIN_TEXT = (
    "ガイドラインには記載が見当たりません。判断に迷う場合は、相談シートで CIO補佐へご相談ください。"
)
NOT_LOADED_TEXT = (
    "ガイドラインの文書がまだ読み込まれていないため、お答えできません。"
    "管理者が `soudan ingest`（または `make run`）で文書を取り込むと回答できるようになります。"
)
MAX_SENTENCES = 3
MAX_PASSAGES = 3
MAX_LIST_LINES = 16
FIGURE_BONUS = 0.3
"""Preference for a sentence holding the kind of figure asked for (円 for いくら …)."""
OTHER_DOCUMENT_SHARE = 0.9
"""A sentence from a document other than the best one's must score this share of the best."""
_GLUE = re.compile(r"(以下|次)(の|に示す)?(とおり|通り)(である|です)?。?$|[：:]$")
_REFERS_FORWARD = re.compile(
    r"(以下|次)の(\d+|[一二三四五六七八九十]+)(つ|点|項目|事項)"
    r"|(以下|次)の(条件|事項|項目|場合|とおり|通り|観点|内容|例|もの)"
    r"|(以下|次)に(例を)?(示す|掲げる|挙げる)"
)
MAX_FOLLOW_CHARS = 1600
"""A list introduced by 「次の4つ…」 is given whole up to this length (the 14 items of 仕様書,
the 14-row 評価の観点 table; the chunker splits longer tables)."""
_ENUMERATED = re.compile(
    r"^(-\s*)?([(（]?\d{1,2}[)）.．]|[①-⑳]|[・●○]|[ア-ン][\s　]|[(（][ア-ン][)）])"
)
_RULES = re.compile(r"#{3,}")
"""Runs of ``#`` left by the documents' conversion (「####主管課は…」), never shown."""
_REFERS_LOOSE = re.compile(r"(以下|次)の[^、。]{1,10}")
_SENTENCE_END = re.compile(r"(?<=[。．！？])(?![」』）)\]])")


def _key(segment: str) -> str:
    """A segment compared for repetition (width, spaces and list markers ignored)."""
    text = unicodedata.normalize("NFKC", segment)
    return re.sub(r"[\s\-・●○]+", "", text)


def abstain(question: str) -> Answer:
    """The plain "not in the guidelines" answer."""
    return Answer(question=question, answered=False, text=ABSTAIN_TEXT, citations=())


_TABLE_ROW = " / "
"""How a table row's cells are joined in a segment (tab-separated lines in passages)."""


def _segments(passage: Passage) -> list[str]:
    segments: list[str] = []
    for line in passage.text.split("\n"):
        line = _RULES.sub("", line).strip()
        if not line:
            continue
        if "\t" in line:
            segments.append(re.sub(r"\t+", _TABLE_ROW, line))
            continue
        segments.extend(part.strip() for part in _SENTENCE_END.split(line) if part.strip())
    return segments


def _introduced(segments: Sequence[str], position: int) -> list[str]:
    """The list or table rows the segment at ``position`` introduces (「次の4つ」「以下の
    とおり」), up to ``MAX_LIST_LINES`` lines and ``MAX_FOLLOW_CHARS``; [] when it
    introduces none."""
    segment = segments[position]
    if not (_GLUE.search(segment) or _REFERS_FORWARD.search(segment)):
        # 「以下の日を除いたもの」: any 「以下の／次の …」 introduces the list that follows,
        # but only an enumerated one (never the next plain sentence)
        following = segments[position + 1] if position + 1 < len(segments) else ""
        if not (_REFERS_LOOSE.search(segment) and _ENUMERATED.match(following)):
            return []
    items: list[str] = []
    budget = MAX_FOLLOW_CHARS
    for offset, item in enumerate(
        segments[position + 1 : position + 1 + MAX_LIST_LINES], start=position + 1
    ):
        listed = offset == position + 1 or _ENUMERATED.match(item) or _TABLE_ROW in item
        if budget - len(item) < 0 or not listed:
            break
        items.append(item)
        budget -= len(item)
    return items


class ExtractiveComposer:
    """Picks the few sentences that best cover the question's terms, with [n] citations."""

    def __init__(self, tokenizer: JapaneseTokenizer, idf_source: BM25Index | None = None) -> None:
        self.tokenizer = tokenizer
        self.idf_source = idf_source

    def _idf(self, term: str) -> float:
        return self.idf_source.idf(term) if self.idf_source is not None else 1.0

    def compose(self, question: str, hits: Sequence[Hit], *, history: Sequence[str] = ()) -> Answer:
        if not hits:
            return abstain(question)
        query_terms = set(self.tokenizer.tokens(" ".join([*history[-1:], question])))
        weights = {term: self._idf(term) for term in query_terms}
        total = sum(weights.values()) or 1.0
        figures = asked_figures(question)
        candidates: list[tuple[float, int, int, str]] = []
        segments_by_hit: list[list[str]] = []
        heading_lines = {hit.passage.section.split(SECTION_SEPARATOR)[-1] for hit in hits}
        for rank, hit in enumerate(hits[:MAX_PASSAGES]):
            segments = _segments(hit.passage)
            segments_by_hit.append(segments)
            for position, segment in enumerate(segments):
                if segment in heading_lines and position == 0:
                    continue
                # A list's introduction is judged with its items: 「主な事項は以下のとおり」
                # answers 「見積書だけ？」 through the list it brings.
                unit = [segment, *_introduced(segments, position)]
                terms = set(self.tokenizer.tokens(" ".join(unit)))
                coverage = sum(w for t, w in weights.items() if t in terms) / total
                score = coverage + (0.35, 0.15, 0.0)[rank] - (0.1 if len(segment) < 12 else 0.0)
                if figures and holds_figure(segment, figures):
                    score += FIGURE_BONUS  # the amount for an amount question
                candidates.append((score, rank, position, segment))
        candidates.sort(key=lambda c: -c[0])
        chosen = [c for c in candidates if c[0] > 0.2][:MAX_SENTENCES] or candidates[:1]
        if figures and not any(holds_figure(c[3], figures) for c in chosen):
            # An amount question is answered with the amount when the passages state one.
            carrying = [c for c in candidates if holds_figure(c[3], figures)]
            if carrying:
                chosen = [carrying[0], *chosen[: MAX_SENTENCES - 1]]
        if chosen:
            # Another municipality's sentence only when it answers about as well as the best.
            lead_doc, best = hits[chosen[0][1]].passage.doc, chosen[0][0]
            chosen = [
                c for c in chosen
                if hits[c[1]].passage.doc == lead_doc or c[0] >= OTHER_DOCUMENT_SHARE * best
            ]
        chosen.sort(key=lambda c: (c[1], c[2]))
        cited: list[Passage] = []
        lines: list[str] = []
        used: set[tuple[int, int]] = set()
        said: set[str] = set()
        several = len({hits[c[1]].passage.doc for c in chosen}) > 1
        labelled: set[str] = set()
        for _score, rank, position, segment in chosen:
            if (rank, position) in used or _key(segment) in said:
                continue
            passage = hits[rank].passage
            number = next(
                (
                    i for i, p in enumerate(cited, start=1)
                    if (p.doc, p.section) == (passage.doc, passage.section)
                ),
                0,
            )
            if not number:  # one number per clause, even when it spans two passages
                cited.append(passage)
                number = len(cited)
            if several and passage.doc not in labelled:
                # Sentences of two municipalities are never mixed without saying whose.
                lines.append(f"【{passage.title}】")
                labelled.add(passage.doc)
            lines.append(f"{segment}[{number}]")
            used.add((rank, position))
            said.add(_key(segment))
            # "…以下のとおり。" / "以下の条件に該当する場合…": the answer is what follows.
            for offset, item in enumerate(
                _introduced(segments_by_hit[rank], position), start=position + 1
            ):
                if (rank, offset) in used:
                    break
                if _key(item) not in said:
                    lines.append(item)
                    said.add(_key(item))
                used.add((rank, offset))
        return Answer(
            question=question, answered=True, text="\n".join(lines), citations=tuple(cited)
        )
