"""The index records the embedding model it was built with; another model rebuilds it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from knowledge.embedder import TextEmbedder
from knowledge.ingestion import ingest_files
from knowledge.vector_index import PassageStore, open_chroma_client


class FakeEmbedder:
    def __init__(self, identity: str, dimension: int = 4) -> None:
        self.identity = identity
        self.dimension = dimension
        self.embedded = 0

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        self.embedded += len(texts)
        return np.ones((len(texts), self.dimension), dtype=np.float32)


def _ingest(docs: Path, store: PassageStore, embedder: FakeEmbedder) -> list[str]:
    report = ingest_files([docs], store=store, embedder=embedder,  # type: ignore[arg-type]
                          titles={}, max_bytes=1_000_000, progress=False)
    return sorted(report.unchanged)


def test_ingest_records_the_model_and_rebuilds_for_another(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("# 見出し\n\n本文です。ICT 活用の基準。\n", encoding="utf-8")
    store = PassageStore(open_chroma_client(path=tmp_path / "chroma", url=None), "test-index")

    first = FakeEmbedder("bundled:multilingual-e5-small")
    _ingest(docs, store, first)
    assert store.embedding_model() == "bundled:multilingual-e5-small"
    assert first.embedded > 0

    same = FakeEmbedder("bundled:multilingual-e5-small")
    assert _ingest(docs, store, same) == ["a.md"] and same.embedded == 0

    other = FakeEmbedder("intfloat/multilingual-e5-base")
    assert _ingest(docs, store, other) == []  # re-embedded, not "unchanged"
    assert other.embedded > 0
    assert store.embedding_model() == "intfloat/multilingual-e5-base"
    assert store.count() > 0


def test_an_unrecorded_index_is_judged_by_its_vector_length(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("# 見出し\n\n本文です。\n", encoding="utf-8")
    store = PassageStore(open_chroma_client(path=tmp_path / "chroma", url=None), "test-index")
    _ingest(docs, store, FakeEmbedder("old", dimension=4))
    store.collection.modify(metadata={"note": "x"})  # as built before the model was recorded
    assert store.embedding_model() is None

    longer = FakeEmbedder("new", dimension=8)
    assert _ingest(docs, store, longer) == [] and longer.embedded > 0
    assert store.vector_dimension() == 8 and store.embedding_model() == "new"


def test_identity_of_the_bundled_model_does_not_depend_on_the_data_directory() -> None:
    one = TextEmbedder("/a/models/multilingual-e5-small",
                       bundled_model_dir=Path("/a/models/multilingual-e5-small"))
    two = TextEmbedder("/b/models/multilingual-e5-small",
                       bundled_model_dir=Path("/b/models/multilingual-e5-small"))
    assert one.identity == two.identity == "bundled:multilingual-e5-small"
    assert TextEmbedder("intfloat/multilingual-e5-base").identity == "intfloat/multilingual-e5-base"
