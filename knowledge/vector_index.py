"""Chroma-backed passage store: vectors, passage text and metadata.

Invariants: every vector is computed by us and passed explicitly (Chroma never embeds
anything itself, so it never downloads its default model); re-indexing a document
replaces all of its passages.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from knowledge.types import Passage

MODEL_KEY = "soudan_embedding_model"
"""Collection metadata: the embedding model (:attr:`TextEmbedder.identity`) of the vectors."""
VERSION_KEY = "soudan:corpus_version"
"""Collection metadata: changed by every ingest run that changed the passages."""


@dataclass(frozen=True)
class StoredPassage:
    """A passage as kept in the index, with the facts about its source document."""

    passage: Passage
    digest: str
    source: str


def open_chroma_client(*, path: Path | None, url: str | None) -> Any:
    """Embedded ``PersistentClient`` at ``path``, or ``HttpClient`` when ``url`` is set."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if url:
        from urllib.parse import urlparse

        parsed = urlparse(url)
        return chromadb.HttpClient(
            host=parsed.hostname or "127.0.0.1",
            port=parsed.port or (443 if parsed.scheme == "https" else 8000),
            ssl=parsed.scheme == "https",
            settings=chroma_settings,
        )
    assert path is not None
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


class PassageStore:
    """One Chroma collection of guideline passages (cosine space)."""

    def __init__(self, client: Any, collection: str) -> None:
        self.client = client
        self.collection = client.get_or_create_collection(
            name=collection,
            embedding_function=None,
            metadata={"hnsw:space": "cosine"},
        )

    def count(self) -> int:
        return int(self.collection.count())

    def embedding_model(self) -> str | None:
        """The embedding model the stored vectors were made with, as recorded by the last
        ingest run (read afresh: another replica may have ingested); None if unrecorded."""
        metadata = self.client.get_collection(self.collection.name).metadata or {}
        value = metadata.get(MODEL_KEY)
        return str(value) if value else None

    def set_embedding_model(self, name: str) -> None:
        """Record the embedding model of the stored vectors (after an ingest run)."""
        current = self.client.get_collection(self.collection.name).metadata or {}
        if current.get(MODEL_KEY) == name:
            return
        # The distance function lives in the collection's configuration; "hnsw:" keys may
        # not be passed again.
        kept = {k: v for k, v in current.items() if not str(k).startswith("hnsw:")}
        self.collection.modify(metadata={**kept, MODEL_KEY: name})

    def corpus_version(self) -> str | None:
        """The version the last ingest run that changed anything recorded (read afresh:
        another replica may have ingested since); None if unrecorded."""
        try:
            metadata = self.client.get_collection(self.collection.name).metadata or {}
        except Exception:  # the collection was dropped and not yet re-created elsewhere
            return None
        value = metadata.get(VERSION_KEY)
        return str(value) if value else None

    def set_corpus_version(self, version: str) -> None:
        """Record a new corpus version, so that every replica reloads its indexes."""
        current = self.client.get_collection(self.collection.name).metadata or {}
        kept = {k: v for k, v in current.items() if not str(k).startswith("hnsw:")}
        self.collection.modify(metadata={**kept, VERSION_KEY: version})

    def reset(self) -> None:
        """Drop every passage, and the vector length with them (for another model)."""
        name = self.collection.name
        self.client.delete_collection(name)
        self.collection = self.client.get_or_create_collection(
            name=name, embedding_function=None, metadata={"hnsw:space": "cosine"}
        )

    def vector_dimension(self) -> int | None:
        """Length of the stored vectors (None when empty)."""
        data = self.collection.get(limit=1, include=["embeddings"])
        embeddings = data.get("embeddings")
        if embeddings is None or len(embeddings) == 0:
            return None
        return len(embeddings[0])

    def add(
        self, stored: Sequence[StoredPassage], vectors: np.ndarray, *, batch: int = 256
    ) -> None:
        """Insert (or overwrite) passages with their vectors."""
        for start in range(0, len(stored), batch):
            part = stored[start : start + batch]
            self.collection.upsert(
                ids=[item.passage.id for item in part],
                embeddings=vectors[start : start + batch].tolist(),
                documents=[item.passage.text for item in part],
                metadatas=[
                    {
                        "doc": item.passage.doc,
                        "title": item.passage.title,
                        "section": item.passage.section,
                        "digest": item.digest,
                        "source": item.source,
                    }
                    for item in part
                ],
            )

    def delete_document(self, doc: str) -> None:
        """Remove every passage of one document."""
        self.collection.delete(where={"doc": doc})

    def document_digests(self) -> dict[str, tuple[str, str]]:
        """``doc -> (digest, source)`` of everything indexed."""
        result: dict[str, tuple[str, str]] = {}
        data = self.collection.get(include=["metadatas"])
        for metadata in data["metadatas"] or []:
            result[str(metadata["doc"])] = (
                str(metadata["digest"]),
                str(metadata.get("source", "")),
            )
        return result

    def all_passages(self) -> list[StoredPassage]:
        """Every stored passage in id order (document hash + position)."""
        data = self.collection.get(include=["documents", "metadatas"])
        rows = sorted(
            zip(data["ids"], data["documents"] or [], data["metadatas"] or [], strict=True)
        )
        return [
            StoredPassage(
                passage=Passage(
                    id=pid,
                    doc=str(meta["doc"]),
                    title=str(meta["title"]),
                    section=str(meta["section"]),
                    text=str(text),
                ),
                digest=str(meta["digest"]),
                source=str(meta.get("source", "")),
            )
            for pid, text, meta in rows
        ]

    def query(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        """``(passage id, cosine similarity)`` of the ``k`` nearest passages."""
        if self.count() == 0:
            return []
        result = self.collection.query(
            query_embeddings=[vector.tolist()],
            n_results=min(k, self.count()),
            include=["distances"],
        )
        ids = result["ids"][0]
        distances = (result["distances"] or [[]])[0]
        return [(pid, 1.0 - float(distance)) for pid, distance in zip(ids, distances, strict=True)]
