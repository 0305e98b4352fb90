"""Ingestion without the model: keys, duplicates, links and odd names (issue 15)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from knowledge import ingestion
from knowledge.documents import document_digest
from knowledge.ingestion import (
    IngestReport,
    content_digest,
    ingest_files,
    scan_documents,
    stale_documents,
)
from knowledge.types import Passage
from knowledge.vector_index import StoredPassage

from .document_samples import MemoryStore, ZeroEmbedder

LIMIT = 1_000_000
JAPANESE = re.compile("[\u3041-\u30ff\u4e00-\u9fff]")


def _ingest(paths: list[Path], store: MemoryStore, **kwargs: Any) -> IngestReport:
    return ingest_files(
        paths,
        store=store,  # type: ignore[arg-type]
        embedder=ZeroEmbedder(),  # type: ignore[arg-type]
        titles=kwargs.pop("titles", {}),
        max_bytes=kwargs.pop("max_bytes", LIMIT),
        progress=False,
        **kwargs,
    )


def _stale(paths: list[Path], store: MemoryStore) -> bool:
    return stale_documents(paths, store=store, titles={})  # type: ignore[arg-type]


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")
    return path


def _reasons(report: IngestReport) -> dict[str, str]:
    reasons = {s.name: s.reason for s in report.skipped}
    assert all(JAPANESE.search(reason) for reason in reasons.values()), reasons
    return reasons


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    _write(folder / "top.md", "# 1. 概要\n仕様書は所管課が作成する。\n")
    return folder


def test_same_name_in_two_subfolders_are_two_documents(docs: Path) -> None:
    _write(docs / "2023" / "guide.md", "# 1. 調達\n令和5年度の手順。\n")
    _write(docs / "2024" / "guide.md", "# 1. 調達\n令和6年度の手順。\n")
    store = MemoryStore()
    report = _ingest([docs], store)
    assert report.added == ["2023/guide.md", "2024/guide.md", "top.md"]
    assert store.docs() == {"2023/guide.md", "2024/guide.md", "top.md"}
    assert not _stale([docs], store)

    again = _ingest([docs], store)
    assert not again.changed and sorted(again.unchanged) == sorted(report.added)
    assert not again.skipped


def test_top_level_keys_and_passage_ids_are_unchanged(docs: Path) -> None:
    store = MemoryStore()
    _ingest([docs], store)
    data = (docs / "top.md").read_bytes()
    (row,) = store.rows.values()
    assert row.passage.doc == "top.md"
    assert row.passage.id == f"{document_digest(data)}-0000"
    assert row.digest == content_digest(data, "top")


def test_identical_copies_in_subfolders_keep_their_own_passages(docs: Path) -> None:
    text = "# 1. 運用\n月次報告書を提出する。\n"
    _write(docs / "a" / "same.md", text)
    _write(docs / "b" / "same.md", text)
    store = MemoryStore()
    _ingest([docs], store)
    assert store.docs() == {"a/same.md", "b/same.md", "top.md"}
    assert not _stale([docs], store)


def test_identical_top_level_copy_is_skipped_as_a_duplicate(docs: Path) -> None:
    store = MemoryStore()
    _ingest([docs], store)
    (docs / "top - コピー.md").write_bytes((docs / "top.md").read_bytes())
    report = _ingest([docs], store)
    assert report.unchanged == ["top.md"] and not report.added
    assert "top.md と内容が同じ" in _reasons(report)["top - コピー.md"]
    assert store.docs() == {"top.md"}
    assert not _stale([docs], store)


def test_documents_indexed_by_file_name_move_to_their_relative_key(docs: Path) -> None:
    """An index built when keys were file names: ``sub/old.md`` was stored as ``old.md``."""
    nested = _write(docs / "sub" / "old.md", "# 1. 旧\n古い索引の文書。\n")
    store = MemoryStore()
    data = nested.read_bytes()
    store.add(
        [
            StoredPassage(
                Passage(f"{document_digest(data)}-0000", "old.md", "old", "1. 旧", "古い"),
                content_digest(data, "old"),
                str(nested.resolve()),
            )
        ],
        [[0.0]],
    )
    assert _stale([docs], store)
    report = _ingest([docs], store)
    assert report.added == ["sub/old.md", "top.md"] and report.removed == ["old.md"]
    assert store.docs() == {"sub/old.md", "top.md"}
    assert not _stale([docs], store)


def test_a_file_given_directly_keeps_its_folder_key(docs: Path) -> None:
    nested = _write(docs / "sub" / "guide.md", "# 1. 手続\n本文。\n")
    store = MemoryStore()
    _ingest([docs], store)
    nested.write_text("# 1. 手続\n改訂した本文。\n", "utf-8")
    report = _ingest([nested], store)
    assert report.updated == ["sub/guide.md"]
    assert store.docs() == {"sub/guide.md", "top.md"}


def test_links_out_of_the_folder_loops_and_dangling_links_are_refused(
    docs: Path, tmp_path: Path
) -> None:
    secret = _write(tmp_path / "outside" / "passwd.txt", "root:x:0:0:root:/root:/bin/bash\n")
    (docs / "passwd.txt").symlink_to(secret)
    (docs / "etc").symlink_to(secret.parent, target_is_directory=True)
    (docs / "loop1.md").symlink_to(docs / "loop2.md")
    (docs / "loop2.md").symlink_to(docs / "loop1.md")
    (docs / "dangling.md").symlink_to(docs / "gone.md")
    (docs / "alias.md").symlink_to(docs / "top.md")
    _write(docs / "data" / "notes", "# 1. 注記\nリンク経由でだけ読める文書。\n")
    (docs / "notes.md").symlink_to(docs / "data" / "notes")
    (docs / "mirror").symlink_to(docs / "data", target_is_directory=True)
    store = MemoryStore()
    # indexed through the link before links were checked: must be removed
    data = secret.read_bytes()
    store.add(
        [
            StoredPassage(
                Passage(f"{document_digest(data)}-0000", "passwd.txt", "passwd", "", "root"),
                content_digest(data, "passwd"),
                str(secret),
            )
        ],
        [[0.0]],
    )

    report = _ingest([docs], store)
    reasons = _reasons(report)
    assert "文書フォルダの外" in reasons["passwd.txt"]
    assert "文書フォルダの外" in reasons["etc"]
    assert "フォルダへのシンボリックリンク" in reasons["mirror"]
    assert "ループ" in reasons["loop1.md"] and "ループ" in reasons["loop2.md"]
    assert "リンク先が存在しません" in reasons["dangling.md"]
    assert "top.md へのリンク" in reasons["alias.md"]
    assert report.removed == ["passwd.txt"]
    assert store.docs() == {"notes.md", "top.md"}
    assert not any("root:x" in row.passage.text for row in store.rows.values())
    assert not _stale([docs], store)


def test_undecodable_file_names_are_skipped_with_a_printable_name(docs: Path) -> None:
    raw = os.fsencode(docs)
    with open(os.path.join(raw, b"\x83K\x83C\x83h.md"), "wb") as handle:
        handle.write("# 1. 概要\n本文。\n".encode())
    os.mkdir(os.path.join(raw, b"\xff\xfe"))
    with open(os.path.join(raw, b"\xff\xfe", b"inner.md"), "wb") as handle:
        handle.write("# 1. 概要\n本文。\n".encode())
    store = MemoryStore()
    report = _ingest([docs], store)
    assert report.added == ["top.md"]
    reasons = _reasons(report)
    assert len(reasons) == 2 and all("UTF-8" in reason for reason in reasons.values())
    report.summary_ja().encode("utf-8")  # printable
    assert not _stale([docs], store)
    assert content_digest(b"x", "\udc83K\udc83C")  # no crash on a surrogate-escaped title


def test_special_and_oversized_files_are_skipped_without_reading(docs: Path) -> None:
    os.mkfifo(docs / "pipe.md")
    _write(docs / "huge.md", "あ" * 2000)
    _write(docs / "empty.txt", "")
    store = MemoryStore()
    report = _ingest([docs], store, max_bytes=1000)
    reasons = _reasons(report)
    assert "通常のファイルではありません" in reasons["pipe.md"]
    assert "大きすぎ" in reasons["huge.md"] and "空" in reasons["empty.txt"]
    assert report.added == ["top.md"]


def test_a_failure_while_splitting_skips_only_that_file(
    docs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(docs / "second.md", "# 1. 二つ目\n本文。\n")
    real = ingestion.chunk_document

    def chunk(document: Any, *, title: str) -> list[Passage]:
        if document.name == "second.md":
            raise IndexError("chunker bug")
        return real(document, title=title)

    monkeypatch.setattr(ingestion, "chunk_document", chunk)
    store = MemoryStore()
    report = _ingest([docs], store)
    assert report.added == ["top.md"]
    assert "節に分けられませんでした" in _reasons(report)["second.md"]


def test_scan_keys_are_relative_posix_paths(docs: Path) -> None:
    _write(docs / "a" / "b" / "deep.docx", "x")
    _write(docs / "a" / "ignored.xlsx", "x")
    scan = scan_documents([docs])
    assert [file.key for file in scan.files] == ["a/b/deep.docx", "top.md"]
    assert scan.directories == [docs.resolve()]
