"""Ingestion is idempotent, replaces changed documents, drops removed ones, skips bad files."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from knowledge.config import KnowledgeConfig
from knowledge.embedder import TextEmbedder
from knowledge.knowledge_base import KnowledgeBase

from .conftest import INDEXED_DOCS


def test_reingesting_an_unchanged_corpus_changes_nothing(knowledge_base: KnowledgeBase) -> None:
    before = knowledge_base.store.count()
    ids_before = [p.passage.id for p in knowledge_base.store.all_passages()]
    report = knowledge_base.ingest(progress=False)
    assert sorted(report.unchanged) == sorted(INDEXED_DOCS)
    assert not report.changed and report.passages == 0
    assert knowledge_base.store.count() == before
    assert [p.passage.id for p in knowledge_base.store.all_passages()] == ids_before
    assert not knowledge_base.is_stale()


@pytest.fixture
def small_kb(
    tmp_path: Path, knowledge_config: KnowledgeConfig, embedder: TextEmbedder
) -> KnowledgeBase:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("# 1. 調達\n仕様書は所管課が作成する。\n", "utf-8")
    (docs / "b.md").write_text("# 1. 運用\n月次報告書を毎月末に提出する。\n", "utf-8")
    config = replace(
        knowledge_config,
        docs_dir=docs,
        chroma_path=tmp_path / "chroma",
        corpus_catalog=None,
        collection="small",
    )
    kb = KnowledgeBase(config)
    kb.embedder = embedder
    return kb


def test_changed_document_is_replaced_and_removed_one_deleted(small_kb: KnowledgeBase) -> None:
    docs = small_kb.config.docs_dir
    assert small_kb.is_stale()
    assert sorted(small_kb.ingest(progress=False).added) == ["a.md", "b.md"]
    old_ids = {p.passage.id for p in small_kb.store.all_passages() if p.passage.doc == "a.md"}

    (docs / "a.md").write_text("# 1. 調達\n仕様書は所管課が作成し、CIO補佐と協議する。\n", "utf-8")
    assert small_kb.is_stale()
    report = small_kb.ingest(progress=False)
    assert report.updated == ["a.md"] and report.unchanged == ["b.md"]
    a_passages = [p.passage for p in small_kb.store.all_passages() if p.passage.doc == "a.md"]
    assert old_ids.isdisjoint(p.id for p in a_passages)
    assert ["CIO補佐と協議する" in p.text for p in a_passages] == [True]
    assert small_kb.search("CIO補佐と協議", top_k=1)[0].passage.doc == "a.md"

    (docs / "b.md").unlink()
    report = small_kb.ingest(progress=False)
    assert report.removed == ["b.md"]
    assert {p.passage.doc for p in small_kb.store.all_passages()} == {"a.md"}
    assert not small_kb.is_stale()


def test_bad_files_are_reported_in_japanese_and_the_rest_ingested(small_kb: KnowledgeBase) -> None:
    docs = small_kb.config.docs_dir
    (docs / "empty.md").write_bytes(b"")
    (docs / "broken.pdf").write_bytes(b"%PDF-1.4 garbage")
    (docs / "binary.txt").write_bytes(b"\xff\xfe\x00\x01" * 8)
    (docs / "sjis.txt").write_bytes("1. 契約\n①㈱髙橋と契約する。\n".encode("cp932"))
    report = small_kb.ingest(progress=False)
    assert sorted(report.added) == ["a.md", "b.md", "sjis.txt"]
    reasons = {s.path.name: s.reason for s in report.skipped}
    assert set(reasons) == {"empty.md", "broken.pdf", "binary.txt"}
    assert "空" in reasons["empty.md"] and "PDF" in reasons["broken.pdf"]
    assert "文字コード" in reasons["binary.txt"]
    assert "スキップ: broken.pdf" in report.summary_ja()
    texts = [p.passage.text for p in small_kb.store.all_passages() if p.passage.doc == "sjis.txt"]
    assert any("①㈱髙橋と契約する。" in t for t in texts)


def test_subfolders_with_the_same_file_name_do_not_overwrite_each_other(
    small_kb: KnowledgeBase, tmp_path: Path
) -> None:
    docs = small_kb.config.docs_dir
    for year, rule in (("2023", "紙の申請書で受け付ける"), ("2024", "電子申請で受け付ける")):
        (docs / year).mkdir()
        (docs / year / "a.md").write_text(f"# 1. 受付\n{year}年度は{rule}。\n", "utf-8")
    secret = tmp_path / "secret.txt"
    secret.write_text("職員のパスワードは kisarazu2024 です。\n", "utf-8")
    (docs / "secret.txt").symlink_to(secret)

    report = small_kb.ingest(progress=False)
    assert sorted(report.added) == ["2023/a.md", "2024/a.md", "a.md", "b.md"]
    assert "文書フォルダの外" in {s.name: s.reason for s in report.skipped}["secret.txt"]
    docs_indexed = {p.passage.doc for p in small_kb.store.all_passages()}
    assert docs_indexed == {"2023/a.md", "2024/a.md", "a.md", "b.md"}
    assert not any("パスワード" in p.passage.text for p in small_kb.store.all_passages())
    assert not small_kb.is_stale()

    again = small_kb.ingest(progress=False)
    assert not again.changed and len(again.unchanged) == 4
    assert not small_kb.is_stale()
