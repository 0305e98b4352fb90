"""Ingestion: documents on disk -> passages in the index, idempotently.

Invariants: a document whose content (and title) is unchanged is not re-embedded; a
changed document's passages are all replaced; a document removed from a scanned
directory loses its passages; a file that cannot be read is reported and skipped.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from knowledge.chunking import chunk_document
from knowledge.documents import SUPPORTED_SUFFIXES, DocumentError, read_document
from knowledge.embedder import TextEmbedder
from knowledge.retriever import lexical_text
from knowledge.vector_index import PassageStore, StoredPassage


@dataclass
class SkippedFile:
    """A file that was not ingested, with the Japanese reason."""

    path: Path
    reason: str


@dataclass
class IngestReport:
    """取り込み結果 (what an ingest run did)."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    passages: int = 0
    """Passages written in this run."""

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def summary_ja(self) -> str:
        """One-paragraph Japanese summary for the administrator."""
        lines = [
            f"追加 {len(self.added)} 件、更新 {len(self.updated)} 件、変更なし {len(self.unchanged)} 件、"
            f"削除 {len(self.removed)} 件（書き込んだ節 {self.passages} 件）。"
        ]
        for skipped in self.skipped:
            lines.append(f"スキップ: {skipped.path.name} — {skipped.reason}")
        return "\n".join(lines)


def document_files(paths: Iterable[Path]) -> tuple[list[Path], list[Path]]:
    """Expand files and directories into ``(document files, scanned directories)``."""
    files: list[Path] = []
    directories: list[Path] = []
    for path in paths:
        if path.is_dir():
            directories.append(path.resolve())
            files.extend(
                sorted(
                    p
                    for p in path.rglob("*")
                    if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES
                )
            )
        else:
            files.append(path)
    return files, directories


def content_digest(data: bytes, title: str) -> str:
    """Change-detection hash: file bytes plus citation title."""
    return hashlib.sha256(data + b"\0" + title.encode("utf-8")).hexdigest()[:16]


def ingest_files(
    paths: Sequence[Path],
    *,
    store: PassageStore,
    embedder: TextEmbedder,
    titles: dict[str, str],
    max_bytes: int,
    progress: bool = True,
) -> IngestReport:
    """Bring the index in line with the given files and directories."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    report = IngestReport()
    files, directories = document_files(paths)
    indexed = store.document_digests()
    seen: set[str] = set()
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        disable=not progress,
        transient=True,
    ) as bar:
        file_task = bar.add_task("文書", total=len(files))
        chunk_task = bar.add_task("節（埋め込み）", total=0)
        for path in files:
            bar.update(file_task, description=f"文書 {path.name}")
            seen.add(path.name)
            title = titles.get(path.name, path.stem)
            try:
                if not path.is_file():
                    raise DocumentError(path, "ファイルが見つかりません。パスを確認してください。")
                digest = content_digest(path.read_bytes(), title)
                if indexed.get(path.name, ("", ""))[0] == digest:
                    report.unchanged.append(path.name)
                    bar.advance(file_task)
                    continue
                document = read_document(path, max_bytes=max_bytes)
            except DocumentError as error:
                report.skipped.append(SkippedFile(path, error.reason))
                bar.advance(file_task)
                continue
            except OSError as error:
                report.skipped.append(
                    SkippedFile(path, f"ファイルを読めません（{error.strerror}）。")
                )
                bar.advance(file_task)
                continue
            passages = chunk_document(document, title=title)
            stored = [StoredPassage(p, digest, str(path.resolve())) for p in passages]
            bar.update(chunk_task, total=(bar.tasks[chunk_task].total or 0) + len(stored))
            vectors = []
            for start in range(0, len(stored), 64):
                part = stored[start : start + 64]
                vectors.append(embedder.embed_passages([lexical_text(s.passage) for s in part]))
                bar.advance(chunk_task, len(part))
            if path.name in indexed:
                store.delete_document(path.name)
                report.updated.append(path.name)
            else:
                report.added.append(path.name)
            if stored:
                store.add(stored, np.concatenate(vectors))
            report.passages += len(stored)
            bar.advance(file_task)
    for name, (_digest, source) in indexed.items():
        if name in seen or not source:
            continue
        source_path = Path(source)
        if any(source_path.is_relative_to(d) for d in directories) and not source_path.exists():
            store.delete_document(name)
            report.removed.append(name)
    return report


def stale_documents(paths: Sequence[Path], *, store: PassageStore, titles: dict[str, str]) -> bool:
    """True when the index misses, or differs from, the documents on disk."""
    files, directories = document_files(paths)
    indexed = store.document_digests()
    if not indexed:
        return True
    names = set()
    for path in files:
        names.add(path.name)
        try:
            digest = content_digest(path.read_bytes(), titles.get(path.name, path.stem))
        except OSError:
            continue
        if indexed.get(path.name, ("", ""))[0] != digest:
            return True
    for name, (_digest, source) in indexed.items():
        if name not in names and any(Path(source).is_relative_to(d) for d in directories):
            return True
    return False
