"""Two processes' knowledge bases on one Chroma server: an ingest by one is answered by the
other without a restart (the corpus version in the collection tells it to reload)."""

from __future__ import annotations

from pathlib import Path

import pytest

import knowledge.knowledge_base as knowledge_base_module
from knowledge.config import KnowledgeConfig
from knowledge.knowledge_base import KnowledgeBase

FIRST = "# 1. 概要\n本要領は、庁内の複合機の調達について定める。\n"
SECOND = "# 2. 保守\n保守事業者は、四半期ごとに点検報告書を提出する。\n"


def test_an_ingest_by_one_replica_is_answered_by_the_other_without_restart(
    chroma_server: str, model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(knowledge_base_module, "VERSION_CHECK_SECONDS", 0.0)
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text(FIRST, encoding="utf-8")
    config = KnowledgeConfig(
        docs_dir=docs, chroma_path=None, chroma_url=chroma_server, embedding_model=str(model_dir),
        collection="replicas", bundled_model_dir=model_dir,
    )
    writer, reader = KnowledgeBase(config), KnowledgeBase(config)
    writer.ingest(progress=False)
    assert [h.passage.doc for h in reader.search("複合機の調達", top_k=1)] == ["a.md"]

    (docs / "b.md").write_text(SECOND, encoding="utf-8")
    writer.ingest(progress=False)

    hits = reader.search("点検報告書は四半期ごと？", top_k=1)
    assert hits and hits[0].passage.doc == "b.md"  # the reader reloaded, no restart
