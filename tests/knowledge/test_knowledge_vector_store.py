"""The passage store contract, run against embedded Chroma and a Chroma server on loopback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from knowledge.types import Passage
from knowledge.vector_index import PassageStore, StoredPassage, open_chroma_client


@pytest.fixture(params=["embedded", "server"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> PassageStore:
    client: Any
    if request.param == "embedded":
        client = open_chroma_client(path=tmp_path / "chroma", url=None)
    else:
        client = open_chroma_client(path=None, url=request.getfixturevalue("chroma_server"))
    return PassageStore(client, f"contract-{tmp_path.name[-20:]}".replace("_", "-"))


def _stored(doc: str, position: int, text: str) -> StoredPassage:
    passage = Passage(id=f"{doc}-{position:04d}", doc=doc, title="T", section="1. 概要", text=text)
    return StoredPassage(passage, digest="d1", source=f"/docs/{doc}")


def _unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def test_store_keeps_our_vectors_and_replaces_a_document(store: PassageStore) -> None:
    items = [_stored("a.md", 0, "一"), _stored("a.md", 1, "二"), _stored("b.md", 0, "三")]
    vectors = np.stack([_unit(1, 0, 0), _unit(0, 1, 0), _unit(0, 0, 1)])
    store.add(items, vectors)
    assert store.count() == 3
    nearest = store.query(_unit(0, 1, 0.1), 2)
    assert nearest[0][0] == "a.md-0001" and nearest[0][1] > 0.99
    assert store.document_digests() == {"a.md": ("d1", "/docs/a.md"), "b.md": ("d1", "/docs/b.md")}

    store.add(items[:1], vectors[:1])  # upsert of the same id does not duplicate
    assert store.count() == 3
    store.delete_document("a.md")
    assert [s.passage.id for s in store.all_passages()] == ["b.md-0000"]
