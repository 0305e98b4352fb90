"""Extractive answer composer: the sentences of the best passages that answer the question.

Offline and deterministic; it never cites a passage it was not given. An LLM composer
can implement ``knowledge.types.AnswerComposer`` instead.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence

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
MAX_WHOLE_TABLE = 800
"""A table's header row brings the whole table (as a list introduction brings its items)
only up to this length; a longer table is answered by its matching rows, each shown under
the header. (500, 800 and 1,600 gave the same answers on the tune half.)"""
MAX_HEADER_CELL = 15
"""A table's first row is its header when every cell is at most this long (labels)."""
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
    if _is_table_header(segments, position):
        # A table's header row introduces its rows as 「以下のとおり」 introduces a list
        # (「会議体 / 目的 / 開催頻度」 alone answers nothing), when the whole table fits.
        rows = _table_rows(segments, position)
        fits = len(rows) <= MAX_LIST_LINES and sum(map(len, rows)) <= MAX_WHOLE_TABLE
        return rows if fits else []
    if not (_GLUE.search(segment) or _REFERS_FORWARD.search(segment)):
        # 「以下の日を除いたもの」: any 「以下の／次の …」 introduces the list that follows,
        # but only an enumerated one (never the next plain sentence)
        following = segments[position + 1] if position + 1 < len(segments) else ""
        if not (_REFERS_LOOSE.search(segment) and _ENUMERATED.match(following)):
            return []
    return _following(
        segments,
        position,
        lambda item: bool(_ENUMERATED.match(item)) or _TABLE_ROW in item,
        first_free=True,
    )


def _is_table_header(segments: Sequence[str], position: int) -> bool:
    """The first row of a table (a table row not preceded by another), with rows after it,
    whose cells are all short labels (「提出書類名 / 数量 / 提出期限」; a first row with a
    sentence in a cell is a table without a header row)."""
    row = segments[position]
    return (
        _TABLE_ROW in row
        and (position == 0 or _TABLE_ROW not in segments[position - 1])
        and position + 1 < len(segments)
        and _TABLE_ROW in segments[position + 1]
        and all(len(_key(cell)) <= MAX_HEADER_CELL for cell in row.split(_TABLE_ROW))
    )


def _table_rows(segments: Sequence[str], header: int) -> list[str]:
    """The rows after a table's header row."""
    rows: list[str] = []
    for item in segments[header + 1 :]:
        if _TABLE_ROW not in item:
            break
        rows.append(item)
    return rows


def _header_of(segments: Sequence[str], position: int) -> int | None:
    """The position of the header row of the table the row at ``position`` is in."""
    if _TABLE_ROW not in segments[position]:
        return None
    start = position
    while start > 0 and _TABLE_ROW in segments[start - 1]:
        start -= 1
    if start == position or not _is_table_header(segments, start):
        return None
    return start


def _following(
    segments: Sequence[str],
    position: int,
    listed: Callable[[str], bool],
    *,
    first_free: bool = False,
) -> list[str]:
    """The segments after ``position`` that ``listed`` accepts (the first one regardless
    when ``first_free``), up to ``MAX_LIST_LINES`` lines and ``MAX_FOLLOW_CHARS``."""
    items: list[str] = []
    budget = MAX_FOLLOW_CHARS
    for offset, item in enumerate(
        segments[position + 1 : position + 1 + MAX_LIST_LINES], start=position + 1
    ):
        if budget - len(item) < 0 or not (listed(item) or (first_free and offset == position + 1)):
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
                introduced = _introduced(segments, position)
                if not introduced and _is_table_header(segments, position):
                    continue  # a header row alone answers nothing; its rows may
                unit = [segment, *introduced]
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
            header = _header_of(segments_by_hit[rank], position)
            if header is not None and (rank, header) not in used:
                # a row is shown under its table's header (「重大障害件数 / … / 2回/1年以内」
                # says little without 「管理項目 / 内容 / 目標値」)
                lines.append(segments_by_hit[rank][header])
                used.add((rank, header))
                said.add(_key(segments_by_hit[rank][header]))
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
