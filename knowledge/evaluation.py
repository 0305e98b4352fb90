"""Retrieval evaluation: Recall@1, Recall@5, MRR@10 and median passage length.

A hit is a passage containing any evidence string after NFKC and whitespace removal.
Three methods run on the same questions in one go: ours (the same code path as
``soudan search``), the LangChain default recipe (RecursiveCharacterTextSplitter
1000/200, dense-only Chroma, same embedding model, temporary collection) and BM25 alone.
"""

from __future__ import annotations

import json
import statistics
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from knowledge.chunking import normalize_for_match
from knowledge.composer import MAX_PASSAGES
from knowledge.documents import DocumentError, read_document
from knowledge.ingestion import document_files
from knowledge.knowledge_base import KnowledgeBase
from knowledge.refusal import without_citations
from knowledge.retriever import HybridSearch, RankedHits
from knowledge.types import Answer, Hit
from knowledge.vector_index import open_chroma_client


@dataclass(frozen=True)
class EvalQuestion:
    id: str
    question: str
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class EvalResult:
    """Figures of one method."""

    method: str
    questions: int
    recall_at_1: float
    recall_at_5: float
    mrr_at_10: float
    median_passage_chars: float
    misses: tuple[str, ...] = ()


def load_questions(path: Path) -> list[EvalQuestion]:
    """Questions with evidence (unanswerable ones, with no evidence, are left out)."""
    questions = []
    for line in path.read_text("utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        questions.append(
            EvalQuestion(
                str(row.get("id", "")), str(row["question"]), tuple(row.get("evidence") or ())
            )
        )
    return questions


def score(
    method: str,
    questions: Sequence[EvalQuestion],
    retrieve: Callable[[str], list[str]],
    passage_lengths: Sequence[int],
) -> EvalResult:
    """Run ``retrieve`` (question -> passage texts, best first) over the questions."""
    answerable = [q for q in questions if q.evidence]
    r1 = r5 = rr = 0.0
    misses = []
    for question in answerable:
        evidence = [normalize_for_match(e) for e in question.evidence]
        texts = retrieve(question.question)[:10]
        rank = next((i for i, text in enumerate(texts) if _holds(evidence, text)), None)
        if rank is None:
            misses.append(question.id)
            continue
        r1 += rank < 1
        r5 += rank < 5
        rr += 1.0 / (rank + 1)
    n = max(len(answerable), 1)
    return EvalResult(
        method,
        len(answerable),
        r1 / n,
        r5 / n,
        rr / n,
        float(statistics.median(passage_lengths)) if passage_lengths else 0.0,
        tuple(misses),
    )


def _holds(evidence: Sequence[str], text: str) -> bool:
    """True when ``text`` holds any of the (already normalised) evidence strings."""
    folded = normalize_for_match(text)
    return any(e in folded for e in evidence)


def evaluate_ours(kb: KnowledgeBase, questions: Sequence[EvalQuestion]) -> list[EvalResult]:
    """Our hybrid method and BM25 alone, over the knowledge base's own passages."""
    lengths = [len(item.passage.text) for item in kb.hybrid.passages]
    ours = score("soudan (hybrid)", questions, _ranked_texts(kb, _ours), lengths)
    bm25 = score("BM25 only", questions, _ranked_texts(kb, _bm25_only), lengths)
    return [ours, bm25]


def evaluate_langchain_default(
    kb: KnowledgeBase, questions: Sequence[EvalQuestion], docs: Sequence[Path]
) -> EvalResult:
    """RecursiveCharacterTextSplitter(1000, 200) + dense-only Chroma with the same model."""
    with langchain_default_retriever(kb, docs) as (retrieve, lengths):
        return score("LangChain default (1000/200, dense)", questions, retrieve, lengths)


@contextmanager
def langchain_default_retriever(
    kb: KnowledgeBase, docs: Sequence[Path]
) -> Iterator[tuple[Callable[[str], list[str]], list[int]]]:
    """The LangChain default recipe over ``docs``, built once: (retrieve, chunk lengths)."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
    chunks: list[str] = []
    files, _ = document_files(docs)
    for path in files:
        try:
            document = read_document(path, max_bytes=kb.config.max_document_bytes)
        except DocumentError:
            continue
        chunks.extend(splitter.split_text(document.text))
    vectors = kb.embedder.embed_passages(chunks)
    with tempfile.TemporaryDirectory(prefix="soudan-eval-") as tmp:
        client = open_chroma_client(path=Path(tmp), url=None)
        collection = client.create_collection(
            "langchain-default", embedding_function=None, metadata={"hnsw:space": "cosine"}
        )
        for start in range(0, len(chunks), 256):
            collection.add(
                ids=[str(i) for i in range(start, min(start + 256, len(chunks)))],
                embeddings=vectors[start : start + 256].tolist(),
                documents=chunks[start : start + 256],
            )

        def retrieve(question: str) -> list[str]:
            result = collection.query(
                query_embeddings=[kb.embedder.embed_query(question).tolist()],
                n_results=min(10, len(chunks)),
                include=["documents"],
            )
            return [str(text) for text in (result["documents"] or [[]])[0]]

        yield retrieve, [len(chunk) for chunk in chunks]


def format_table(results: Sequence[EvalResult]) -> str:
    """Plain-text table of the figures."""
    header = f"{'method':<38} {'n':>3} {'R@1':>6} {'R@5':>6} {'MRR@10':>7} {'median chars':>13}"
    rows = [header, "-" * len(header)]
    for r in results:
        rows.append(
            f"{r.method:<38} {r.questions:>3} {r.recall_at_1:>6.3f} {r.recall_at_5:>6.3f} "
            f"{r.mrr_at_10:>7.3f} {r.median_passage_chars:>13.0f}"
        )
    return "\n".join(rows)


# --- the tune / check discipline --------------------------------------------------------

EVALSETS = Path(__file__).parent / "evalsets"
"""Question sets shipped with the code: ``staff.jsonl`` (everyday staff wording),
``nearmiss.jsonl`` (on-topic questions the documents do not answer, and off-topic chat) and
``split.json``, the fixed tune / check halves over these and the dev questions."""


@dataclass(frozen=True)
class AbstainResult:
    half: str
    unanswerable: int
    declined: int
    answerable: int
    wrongly_declined: int

    @property
    def precision(self) -> float:
        total = self.declined + self.wrongly_declined
        return self.declined / total if total else 1.0

    @property
    def recall(self) -> float:
        return self.declined / self.unanswerable if self.unanswerable else 1.0


def load_split(path: Path = EVALSETS / "split.json") -> dict[str, frozenset[str]]:
    """Question id sets of the ``tune`` and ``check`` halves."""
    data = json.loads(path.read_text("utf-8"))
    return {half: frozenset(data[half]) for half in ("tune", "check")}


def load_unanswerable(path: Path = EVALSETS / "nearmiss.jsonl") -> list[EvalQuestion]:
    return [
        EvalQuestion(str(row["id"]), str(row["question"]), ())
        for row in map(json.loads, filter(str.strip, path.read_text("utf-8").splitlines()))
    ]


def evaluate_split(
    kb: KnowledgeBase,
    answerable: Mapping[str, Sequence[EvalQuestion]],
    split: dict[str, frozenset[str]],
    *,
    docs: Sequence[Path] = (),
    baseline: bool = True,
) -> list[EvalResult]:
    """Every method on every (set, half): ours, its components and the baselines."""
    with ExitStack() as stack:
        default = stack.enter_context(langchain_default_retriever(kb, docs)) if baseline else None
        return _evaluate_split(kb, answerable, split, default)


_Ranking = Callable[[HybridSearch, str], RankedHits]


def _ours(search: HybridSearch, question: str) -> RankedHits:
    return search.rank(question, top_k=10)


def _bm25_only(search: HybridSearch, question: str) -> RankedHits:
    return search.rank(question, top_k=10, lexical_only=True)


COMPONENTS: tuple[tuple[str, _Ranking], ...] = (
    ("- second stage", lambda search, q: search.rank(q, top_k=10, second_stage=False)),
    ("+ Sudachi synonyms", lambda search, q: search.rank(q, top_k=10, synonym_weight=0.5)),
    ("- character bigrams", lambda search, q: search.rank(q, top_k=10, bigram_weight=0.0)),
    ("- named-document IDF",
     lambda search, q: search.rank(q, top_k=10, named_document_idf=False)),
    ("BM25 only", _bm25_only),
)
"""The search without (or with) one of its parts: each row of ``soudan eval`` says what
that part buys on every set and half."""


def _ranked_texts(kb: KnowledgeBase, ranking: _Ranking) -> Callable[[str], list[str]]:
    """Question -> the texts of the passages ``ranking`` finds, best first."""
    return lambda q: [h.passage.text for h in ranking(kb.hybrid, q).hits]


def _evaluate_split(
    kb: KnowledgeBase,
    answerable: Mapping[str, Sequence[EvalQuestion]],
    split: dict[str, frozenset[str]],
    default: tuple[Callable[[str], list[str]], list[int]] | None,
) -> list[EvalResult]:
    results: list[EvalResult] = []
    lengths = [len(item.passage.text) for item in kb.hybrid.passages]
    for set_name, questions in answerable.items():
        for half in ("tune", "check"):
            chosen = [q for q in questions if q.id in split[half] and q.evidence]
            if not chosen:
                continue
            label = f"{set_name}/{half}"
            results.append(score(f"soudan [{label}]", chosen, _ranked_texts(kb, _ours), lengths))
            for name, ranking in COMPONENTS:
                results.append(score(f"{name} [{label}]", chosen, _ranked_texts(kb, ranking), lengths))
            if default is not None:
                retrieve, chunk_lengths = default
                results.append(
                    score(f"LangChain default [{label}]", chosen, retrieve, chunk_lengths)
                )
    return results


def evaluate_abstain(
    answer: Callable[[str], Answer],
    answerable: Sequence[EvalQuestion],
    unanswerable: Sequence[EvalQuestion],
    split: dict[str, frozenset[str]],
) -> list[AbstainResult]:
    """How often the assistant declines what it should and answers what it can, per half."""
    results = []
    for half in ("tune", "check"):
        negatives = [q for q in unanswerable if q.id in split[half]]
        positives = [q for q in answerable if q.id in split[half] and q.evidence]
        results.append(AbstainResult(
            half,
            len(negatives),
            sum(not answer(q.question).answered for q in negatives),
            len(positives),
            sum(not answer(q.question).answered for q in positives),
        ))
    return results


def format_abstain(results: Sequence[AbstainResult]) -> str:
    rows = [f"{'abstain':<10} {'precision':>9} {'recall':>7}  declined  wrongly declined"]
    for r in results:
        rows.append(
            f"{r.half:<10} {r.precision:>9.3f} {r.recall:>7.3f}  {r.declined:>3}/{r.unanswerable:<4}"
            f"  {r.wrongly_declined:>3}/{r.answerable}"
        )
    return "\n".join(rows)


@dataclass(frozen=True)
class AnswerResult:
    """Whether the answers hold what answers the question (its evidence), per half."""

    half: str
    answerable: int
    holding: int
    """Answers (not declined) whose text holds an evidence string."""
    reachable: int
    """Questions whose evidence is in the passages the answer is composed from (top 3)."""
    reachable_holding: int
    """Of those, answers holding the evidence: how well the composer picks sentences."""


COMPOSED_FROM = MAX_PASSAGES
"""The passages an extractive answer is composed from."""


def evaluate_answers(
    answer: Callable[[str], Answer],
    search: Callable[[str], Sequence[Hit]],
    answerable: Sequence[EvalQuestion],
    split: dict[str, frozenset[str]],
) -> list[AnswerResult]:
    """Per half: how many answers hold their evidence, overall and when retrieval put it
    within reach (so the composer's share of a miss is told from retrieval's)."""
    results = []
    for half in ("tune", "check"):
        holding = reachable = reachable_holding = 0
        chosen = [q for q in answerable if q.id in split[half] and q.evidence]
        for question in chosen:
            evidence = [normalize_for_match(e) for e in question.evidence]
            given = answer(question.question)
            holds = given.answered and _holds(evidence, without_citations(given.text))
            near = any(
                _holds(evidence, hit.passage.text)
                for hit in search(question.question)[:COMPOSED_FROM]
            )
            holding += holds
            reachable += near
            reachable_holding += near and holds
        results.append(AnswerResult(half, len(chosen), holding, reachable, reachable_holding))
    return results


def format_answers(results: Sequence[AnswerResult]) -> str:
    rows = [f"{'answers':<10} {'hold evidence':>15}  {'evidence in top 3 -> held':>26}"]
    for r in results:
        share = r.holding / r.answerable if r.answerable else 0.0
        reach = r.reachable_holding / r.reachable if r.reachable else 0.0
        rows.append(
            f"{r.half:<10} {r.holding:>4}/{r.answerable:<4} {share:.3f}"
            f"  {r.reachable_holding:>14}/{r.reachable:<4} {reach:.3f}"
        )
    return "\n".join(rows)
