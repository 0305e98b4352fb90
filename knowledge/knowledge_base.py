"""KnowledgeBase: the guideline Q&A service the conversation core talks to."""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from knowledge.catalog import load_municipalities, load_titles
from knowledge.composer import ExtractiveComposer, abstain
from knowledge.config import KnowledgeConfig
from knowledge.embedder import TextEmbedder
from knowledge.ingestion import IngestReport, ingest_files, stale_documents
from knowledge.lexical import JapaneseTokenizer
from knowledge.retriever import (
    GuidelineRetriever,
    HybridSearch,
    RetrievalEvidence,
    document_to_hit,
)
from knowledge.types import Answer, AnswerComposer, Hit
from knowledge.vector_index import PassageStore, open_chroma_client

MIN_COSINE = 0.80
"""Below this best dense similarity the corpus is taken not to answer (see docs/knowledge.md)."""
MIN_MATCHED_TERMS = 0.34
"""…and below this share of the question's idf mass found in the best passages."""
_FOLLOW_UP = re.compile(r"(それ|その|これ|この|あれ|そこ|そっち|こっち|同じ|上記|前の|さっき)")


class KnowledgeBase:
    """Guideline documents → hybrid index → extractive answers with citations.

    Construction is cheap: Chroma, Sudachi and the embedding model open on first use.

    Example:
        >>> kb = KnowledgeBase(config)  # doctest: +SKIP
        >>> kb.answer("DX推進本部で協議が必要になる金額は？").citations[0].section  # doctest: +SKIP
        '【Ⅰ. 検討】 > 3. ICT 活用に関する協議'
    """

    def __init__(self, config: KnowledgeConfig, *, composer: AnswerComposer | None = None) -> None:
        self.config = config
        self.embedder = TextEmbedder(config.embedding_model, bundled_model_dir=config.bundled_model_dir)
        self.tokenizer = JapaneseTokenizer()
        self._composer = composer
        self._store: PassageStore | None = None
        self._search: HybridSearch | None = None
        self._lock = threading.RLock()

    # --- wiring -----------------------------------------------------------------------
    @property
    def store(self) -> PassageStore:
        with self._lock:
            if self._store is None:
                client = open_chroma_client(path=self.config.chroma_path, url=self.config.chroma_url)
                self._store = PassageStore(client, self.config.collection)
            return self._store

    @property
    def hybrid(self) -> HybridSearch:
        with self._lock:
            if self._search is None:
                self._search = HybridSearch(
                    self.store, self.embedder, self.tokenizer,
                    municipalities=load_municipalities(self.config.corpus_catalog),
                )
            return self._search

    @property
    def composer(self) -> AnswerComposer:
        if self._composer is None:
            self._composer = ExtractiveComposer(self.tokenizer, self.hybrid.bm25)
        return self._composer

    def retriever(self, *, k: int | None = None) -> GuidelineRetriever:
        """The LangChain retriever over this knowledge base."""
        return GuidelineRetriever(search=self.hybrid, k=k or self.config.top_k)

    def titles(self) -> dict[str, str]:
        return load_titles(self.config.corpus_catalog)

    # --- ingestion -----------------------------------------------------------------------
    def ingest(self, paths: Sequence[Path] | None = None, *, progress: bool = True) -> IngestReport:
        """Index the documents (default: the configured documents directory).

        Unchanged documents are skipped without re-embedding; changed ones are replaced;
        documents removed from a scanned directory are deleted from the index.
        """
        with self._lock:
            report = ingest_files(
                list(paths) if paths else [self.config.docs_dir],
                store=self.store,
                embedder=self.embedder,
                titles=self.titles(),
                max_bytes=self.config.max_document_bytes,
                progress=progress,
            )
            if report.changed and self._search is not None:
                self._search.reload()
                self._composer = None if isinstance(self._composer, ExtractiveComposer) else self._composer
            return report

    def is_stale(self) -> bool:
        """True when the index is missing or the documents directory has changed."""
        return stale_documents([self.config.docs_dir], store=self.store, titles=self.titles())

    # --- questions -----------------------------------------------------------------------
    def search(self, question: str, *, top_k: int = 5) -> list[Hit]:
        """Best passages for ``question``, best first."""
        return self.hybrid.rank(question, top_k=top_k).hits

    def answer(self, question: str, *, history: Sequence[str] = ()) -> Answer:
        """A short extractive answer with citations, or an explicit abstain.

        Args:
            question: The user's question.
            history: Earlier user turns of the same thread, oldest first; a short
                follow-up (「それはいくらから？」) is searched together with the last one.
        """
        query = self.contextual_query(question, history)
        documents = self.retriever().invoke(query)
        hits = [document_to_hit(document) for document in documents]
        evidence: Any = documents[0].metadata.get("evidence") if documents else None
        if not hits or not self.is_answerable(evidence):
            return abstain(question)
        return self.composer.compose(question, hits, history=list(history[-1:]) if query != question else [])

    @staticmethod
    def contextual_query(question: str, history: Sequence[str]) -> str:
        """Expand a short or anaphoric follow-up with the previous user turn."""
        if history and (len(question) <= 15 or _FOLLOW_UP.search(question)):
            return f"{history[-1]} {question}"
        return question

    @staticmethod
    def is_answerable(evidence: RetrievalEvidence | None) -> bool:
        """The abstain rule: the corpus must match the question both in meaning and in words."""
        if evidence is None:
            return False
        return evidence.best_cosine >= MIN_COSINE and evidence.matched_terms >= MIN_MATCHED_TERMS
