"""Review of a draft 仕様書 against the guideline's checklist (【Ⅲ.調達】 1).

The draft is read and chunked exactly like a guideline document (``knowledge.documents``
and ``knowledge.chunking``) but never indexed. Each passage of the draft is compared with
every checklist item -- and with the other topics a 仕様書 often has (個人情報,
セキュリティ, 評価基準, 調達方法 ...) -- by the bundled embedding model (the passage with
its heading path against the item's label and description) and by Japanese BM25; each
passage goes to the item it resembles most. An item no passage goes to is ``missing``;
an item whose passages say nothing concrete (only 別途協議 and the like) or lack what
the item needs (dates for 実施期間, numbers for サービス水準) is ``weak``.

Example:
    >>> reviewer = SpecReviewer(embedder, tokenizer)                       # doctest: +SKIP
    >>> review = reviewer.review(read_draft(Path("仕様書.docx"), max_bytes=20_000_000))  # doctest: +SKIP
    >>> [(j.item.label, j.status) for j in review.items][:2]               # doctest: +SKIP
    [('業務の対象', 'present'), ('業務実施の前提条件', 'weak')]
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

from knowledge.chunking import SECTION_SEPARATOR, chunk_document
from knowledge.documents import DocumentError, SourceDocument, parse_document, read_document
from knowledge.lexical import BM25Index
from knowledge.spec_review_checklist import (
    ChecklistItem,
    CheckRule,
    ClauseCite,
    SpecChecklist,
    load_checklist,
)
from knowledge.types import Passage

Status = Literal["present", "weak", "missing"]
Method = Literal["proposal", "bid", "unknown"]

REVIEW_SUFFIXES = frozenset({".md", ".markdown", ".txt", ".docx", ".pdf"})
"""Formats a draft may come in (HTML is a guideline format, not a draft's)."""

MIN_SCORE = 0.55
"""A passage whose best item scores below this is about none of them."""
MIN_CONCRETE_CHARS = 10
"""Characters of concrete text (outside deferring sentences) an item needs to be present."""
WEIGHTS = (0.45, 0.35, 0.20)
"""(passage vs item description, heading vs item label, BM25) in the combined score."""

_DEFERRING = re.compile(r"別途(協議|定め|指示|調整)|適切な|十分な|必要に応じ")
"""Sentences that defer or leave the content open (general 仕様書 wording, not one draft's)."""
_DATE = re.compile(
    r"(令和|平成)\s*(\d+|元)\s*年|\d{4}\s*年|\d{1,2}\s*月\s*\d{1,2}\s*日|\d{4}\s*[/／.-]\s*\d{1,2}"
)
_MEASURE = re.compile(
    r"\d+(\.\d+)?\s*(%|％|時間|分|秒|営業日|日|件|回|人|名|か月|ヶ月)"
)
_SCORE_POINTS = re.compile(r"\d+\s*(点|%|％)")
_FIXED_SPEC = re.compile(
    r"社製|型番|同等品|製品名|\d+(\.\d+)?\s*(GB|TB|GHz|コア|インチ)|変更は認めない"
)
_PROPOSAL = re.compile(r"プロポーザル")
_BID = re.compile(r"競争入札|入札")
_SENTENCE = re.compile(r"[^。\n]+。?")


class TextEmbedderLike(Protocol):
    def embed_query(self, text: str) -> np.ndarray: ...

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray: ...


class TokenizerLike(Protocol):
    def tokens(self, text: str) -> list[str]: ...


@dataclass(frozen=True)
class ItemJudgement:
    """One checklist item: present / weak / missing, with the draft's passage."""

    item: ChecklistItem
    status: Status
    section: str = ""
    """The draft's heading path of the passage that covers the item."""
    excerpt: str = ""
    reason: str = ""
    score: float = 0.0


@dataclass(frozen=True)
class Finding:
    """A further finding (evaluation criteria, SLA, 個人情報 ...) with its clauses."""

    check: str
    label: str
    message: str
    cites: tuple[ClauseCite, ...]
    evidence: tuple[str, ...] = ()
    """Quoted sentences of the draft that show the problem (e.g. a fixed product)."""


@dataclass(frozen=True)
class SpecReview:
    """The review of one draft."""

    name: str
    method: Method
    items: tuple[ItemJudgement, ...]
    findings: tuple[Finding, ...]
    title: str = ""
    passages: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)

    def status_of(self, item_id: str) -> Status:
        return next(j.status for j in self.items if j.item.id == item_id)


# --- reading ------------------------------------------------------------------------------


def check_upload(name: str, size: int, *, max_bytes: int) -> None:
    """Refuse a draft by its name and size, before any byte of it is read.

    Raises:
        DocumentError: unsupported type, empty, or larger than ``max_bytes``.
    """
    path = Path(name)
    if path.suffix.lower() not in REVIEW_SUFFIXES:
        raise DocumentError(
            path, "対応していない形式です（仕様書（案）は Word（DOCX）・PDF・Markdown・テキストに対応）。"
        )
    if size <= 0:
        raise DocumentError(path, "ファイルが空です。内容を確認してください。")
    if size > max_bytes:
        raise DocumentError(
            path,
            f"ファイルが大きすぎます（{size:,} バイト、上限 {max_bytes:,} バイト）。"
            "分割するか SOUDAN_MAX_DOCUMENT_BYTES を見直してください。",
        )


def read_draft(path: Path, *, max_bytes: int) -> SourceDocument:
    """Read a draft file with the guideline loaders (type and size refused before reading)."""
    check_upload(path.name, 1, max_bytes=max_bytes)  # the type first; the size from stat below
    return read_document(path, max_bytes=max_bytes)


def parse_draft(name: str, data: bytes, *, max_bytes: int) -> SourceDocument:
    """A draft from bytes (a file shared in chat); refused like :func:`read_draft`."""
    check_upload(name, len(data), max_bytes=max_bytes)
    return parse_document(Path(Path(name).name), data)


# --- review -------------------------------------------------------------------------------


class SpecReviewer:
    """Judges drafts against the checklist with the embedder and tokenizer of the knowledge side."""

    def __init__(
        self,
        embedder: TextEmbedderLike,
        tokenizer: TokenizerLike,
        checklist: SpecChecklist | None = None,
    ) -> None:
        self.embedder = embedder
        self.tokenizer = tokenizer
        self.checklist = checklist or load_checklist()
        self._class_vectors: tuple[np.ndarray, np.ndarray] | None = None

    # classes: the checklist items, then the checks that describe a topic, then other topics
    def _classes(self) -> list[tuple[str, str, str]]:
        """(id, label, description) of every class a passage may go to."""
        classes = [(i.id, i.label, i.describes) for i in self.checklist.items]
        classes += [
            (c.id, c.label, c.describes) for c in self.checklist.checks.values() if c.describes
        ]
        classes += [(t.id, t.describes.split("。")[0], t.describes) for t in self.checklist.other_topics]
        return classes

    def _vectors(self) -> tuple[np.ndarray, np.ndarray]:
        if self._class_vectors is None:
            classes = self._classes()
            descriptions = np.stack(
                [self.embedder.embed_query(f"{label}: {text}") for _, label, text in classes]
            )
            labels = np.stack([self.embedder.embed_query(label) for _, label, _ in classes])
            self._class_vectors = (descriptions, labels)
        return self._class_vectors

    def scores(self, passages: Sequence[Passage]) -> np.ndarray:
        """Combined score of every (class, passage): dense body, dense heading, BM25."""
        classes = self._classes()
        descriptions, labels = self._vectors()
        bodies = self.embedder.embed_passages(
            [f"{p.section}\n{p.text}" for p in passages]
        )
        headings = self.embedder.embed_passages([_heading_label(p) for p in passages])
        dense_body = descriptions @ bodies.T
        dense_head = labels @ headings.T
        index = BM25Index([self.tokenizer.tokens(f"{p.section}\n{p.text}") for p in passages])
        lexical = np.zeros_like(dense_body)
        for row, (_, label, text) in enumerate(classes):
            raw = index.scores(self.tokenizer.tokens(f"{label} {text}"))
            top = float(raw.max()) if raw.size else 0.0
            if top > 0:
                lexical[row] = raw / top
        body_w, head_w, lex_w = WEIGHTS
        return body_w * dense_body + head_w * dense_head + lex_w * lexical

    def review(self, document: SourceDocument, *, method: Method | None = None) -> SpecReview:
        """Judge every checklist item and run the further checks on one draft.

        Args:
            document: The draft as read by :func:`read_draft` / :func:`parse_draft`.
            method: The procurement method when known; otherwise read from the draft.
        """
        passages = [p for p in chunk_document(document, title=document.name) if p.text.strip()]
        text = unicodedata.normalize("NFKC", document.text)
        found_method: Method = method or detect_method(text)
        items = self.checklist.items
        assigned: dict[str, list[tuple[Passage, float]]] = {}
        if passages:
            matrix = self.scores(passages)
            classes = self._classes()
            for column, passage in enumerate(passages):
                best = int(np.argmax(matrix[:, column]))
                score = float(matrix[best, column])
                if score >= MIN_SCORE:
                    assigned.setdefault(classes[best][0], []).append((passage, score))
        judgements = tuple(_judge(item, assigned.get(item.id, [])) for item in items)
        findings = self._findings(text, found_method, judgements, assigned, passages)
        return SpecReview(
            name=document.name, method=found_method, items=judgements,
            findings=tuple(findings), title=_title(document.text), passages=len(passages),
        )

    def _findings(
        self,
        text: str,
        method: Method,
        judgements: Sequence[ItemJudgement],
        assigned: dict[str, list[tuple[Passage, float]]],
        passages: Sequence[Passage],
    ) -> list[Finding]:
        checks = self.checklist.checks
        status = {j.item.id: j.status for j in judgements}
        findings: list[Finding] = []

        criteria = assigned.get("evaluation_measurable", [])
        if criteria and not any(_SCORE_POINTS.search(_body(p)) for p, _ in criteria):
            findings.append(_finding(checks["evaluation_measurable"],
                                     evidence=[_first_sentence(_body(p)) for p, _ in criteria]))

        if method == "proposal":
            fixed = [s for s in _sentences(text) if _FIXED_SPEC.search(s)]
            if len(fixed) >= 2:
                findings.append(_finding(checks["proposal_overfixed"], evidence=fixed[:5]))
        if method == "bid" and status.get("service_level") != "present":
            findings.append(_finding(checks["bid_level_unstated"]))

        sla = checks["sla"]
        if status.get("service_level") != "present":
            critical = [term for term in sla.critical_terms if term in text]
            if critical:
                findings.append(Finding(
                    check=sla.id, label=sla.label,
                    message=f"{sla.message}{sla.critical_message}（仕様書中の語: {'、'.join(critical)}）",
                    cites=sla.cites + sla.critical_cites,
                ))
            else:
                findings.append(_finding(sla))

        for check_id in ("personal_information", "security"):
            rule = checks[check_id]
            mentions = [s for s in _sentences(text) if any(t in s for t in rule.terms)]
            if not mentions:
                findings.append(_finding(rule))
        return findings


def detect_method(text: str) -> Method:
    """公募型プロポーザル or 競争入札, as the draft states it (``unknown`` when it does not)."""
    proposal = len(_PROPOSAL.findall(text))
    bid = len(_BID.findall(text))
    if proposal and proposal >= bid:
        return "proposal"
    if bid:
        return "bid"
    return "unknown"


def _judge(item: ChecklistItem, matches: list[tuple[Passage, float]]) -> ItemJudgement:
    if not matches:
        return ItemJudgement(item=item, status="missing", reason="該当する記載が見当たりません。")
    matches = sorted(matches, key=lambda m: -m[1])
    best, score = matches[0]
    body = "\n".join(_body(p) for p, _ in matches)
    concrete = "".join(s for s in _sentences(body) if not _DEFERRING.search(s))
    excerpt = _excerpt(_body(best))
    section = best.section
    if len(re.sub(r"\s", "", concrete)) < MIN_CONCRETE_CHARS:
        reason = "具体的な内容がなく、別途協議などに委ねられています。"
        return ItemJudgement(item, "weak", section, excerpt, reason, score)
    if item.evidence == "period" and not _DATE.search(body):
        reason = "期間を示す日付（契約予定日・業務開始日・業務終了日など）がありません。"
        return ItemJudgement(item, "weak", section, excerpt, reason, score)
    if item.evidence == "measure" and not _MEASURE.search(concrete):
        reason = "数値で測れる水準（稼働率・対応時間など）が示されていません。"
        return ItemJudgement(item, "weak", section, excerpt, reason, score)
    return ItemJudgement(item, "present", section, excerpt, "", score)


def _finding(rule: CheckRule, *, evidence: Sequence[str] = ()) -> Finding:
    return Finding(check=rule.id, label=rule.label, message=rule.message, cites=rule.cites,
                   evidence=tuple(evidence))


def _heading_label(passage: Passage) -> str:
    last = passage.section.split(SECTION_SEPARATOR)[-1] if passage.section else ""
    return re.sub(r"^(第\s*\d+\s*条?|[\d０-９]+([\.．]\d+)*[\.．]?|[（(]\d+[)）])\s*", "", last) or last


def _body(passage: Passage) -> str:
    """The passage without its heading line."""
    lines = passage.text.splitlines()
    heading = passage.section.split(SECTION_SEPARATOR)[-1] if passage.section else None
    if lines and heading and lines[0].strip().lstrip("#").strip() == heading.strip():
        lines = lines[1:]
    return "\n".join(lines).strip()


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.findall(text) if s.strip()]


def _first_sentence(text: str) -> str:
    sentences = _sentences(text)
    return _excerpt(sentences[0]) if sentences else ""


def _excerpt(text: str, limit: int = 160) -> str:
    flat = re.sub(r"\s+", " ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _title(text: str) -> str:
    for line in text.splitlines():
        stripped = line.strip().lstrip("#").strip()
        if stripped:
            return _excerpt(stripped, 80)
    return ""


def review_draft_bytes(
    reviewer: SpecReviewer, name: str, data: bytes, *, max_bytes: int, method: Method | None = None
) -> SpecReview:
    """The entry point for a file shared in chat or uploaded on the web: name + bytes -> review.

    Adapters call :func:`check_upload` with the name and the size the platform reports
    *before* downloading, then this with the bytes. Nothing is added to the guideline index.

    Raises:
        DocumentError: the ingest's Japanese reason (type, size, no text layer, corrupt ...).
    """
    return reviewer.review(parse_draft(name, data, max_bytes=max_bytes), method=method)
