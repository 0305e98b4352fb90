"""Whether the knowledge index can answer: what ``/healthz`` and the start-up log report.

An empty index, or one built with another embedding model than the configured one,
answers every question 「記載が見当たりません」 while everything else works. That is
*degraded*, not down: ``/healthz`` still answers HTTP 200 (restarting would not fix an
index) with ``"status": "degraded"`` and the reasons, and ``soudan serve`` logs one
English line at start-up. Reasons name settings and models, never user text.

Example:
    >>> index_health(object()) is None    # not a KnowledgeBase: nothing to check
    True
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class IndexHealth:
    """The knowledge index as ``/healthz`` reports it."""

    passages: int | None
    built_with: str | None
    """Embedding model recorded by the last ingest run (None: not recorded)."""
    configured: str
    problem: str | None = None
    """Why answers are degraded, in one English line; None when the index looks right."""

    def as_json(self) -> dict[str, Any]:
        return {
            "passages": self.passages,
            "embedding_model": self.built_with,
            "configured_embedding_model": self.configured,
        }


def index_health(knowledge: object) -> IndexHealth | None:
    """Check a :class:`knowledge.KnowledgeBase`'s index; None for any other answerer."""
    from knowledge.knowledge_base import KnowledgeBase

    if not isinstance(knowledge, KnowledgeBase):
        return None
    configured = knowledge.embedder.identity
    try:
        store = knowledge.store
        passages = store.count()
        built_with = store.embedding_model()
    except Exception as error:  # Chroma server down, unreadable directory ...
        return IndexHealth(
            None, None, configured,
            f"knowledge index unreachable ({type(error).__name__}); questions cannot be answered",
        )
    problem = None
    if passages == 0:
        problem = (
            "knowledge index is empty; every question is answered as not found until "
            "`soudan ingest` has run"
        )
    elif built_with is not None and built_with != configured:
        problem = (
            f"knowledge index was built with embedding model {built_with!r} but "
            f"{configured!r} is configured; run `soudan ingest` to rebuild it"
        )
    return IndexHealth(passages, built_with, configured, problem)


def log_index_health(knowledge: object) -> IndexHealth | None:
    """Check the index and, when degraded, say why in one English log line."""
    health = index_health(knowledge)
    if health is not None and health.problem is not None:
        log.warning("degraded: %s", health.problem)
    return health
