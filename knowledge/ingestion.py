"""Ingestion: documents on disk -> passages in the index, idempotently.

Invariants:

- A document is keyed by its path relative to the scanned documents folder, in POSIX
  form (``2024/guide.pdf``); a top-level file, and a file given directly, is keyed by
  its plain file name. Two files with one name in different subfolders are two documents.
- A document whose content (and title) is unchanged is not re-embedded; a changed
  document's passages are all replaced; a document removed from a scanned directory
  loses its passages.
- Nothing a file contains stops the run: a file that cannot be used is reported as a
  :class:`SkippedFile` with a Japanese reason and the rest is ingested. A file that
  becomes unreadable keeps the passages it had.
- Symbolic links are not followed out of the folder: a link that leaves it, loops,
  dangles or points to a folder is skipped with a reason (and passages indexed through
  it earlier are removed); a link to a file that is in the folder anyway is a duplicate.
- Files with identical content would share passage ids; only one of them is indexed.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from knowledge.chunking import CHUNKING_VERSION, chunk_document
from knowledge.documents import (
    DEFAULT_MAX_BYTES,
    DEFAULT_PARSE_SECONDS,
    DOCX_MAX_UNPACKED_BYTES,
    SUPPORTED_SUFFIXES,
    DocumentError,
    display_name,
    document_digest,
    load_bytes,
    name_problem,
    os_error_reason,
    parse_document,
    safe_text,
)
from knowledge.embedder import TextEmbedder
from knowledge.late_interaction import TokenVectorStore
from knowledge.retriever import lexical_text
from knowledge.types import Passage
from knowledge.vector_index import PassageStore, StoredPassage

log = logging.getLogger(__name__)


@dataclass
class SkippedFile:
    """A file that was not ingested, with the Japanese reason."""

    path: Path
    reason: str
    name: str = ""
    """How the file is shown: its key, or its name with undecodable bytes as ``�``."""

    def __post_init__(self) -> None:
        self.name = safe_text(self.name) if self.name else display_name(self.path)


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
            lines.append(f"スキップ: {skipped.name} — {skipped.reason}")
        return "\n".join(lines)


# --- finding the files ----------------------------------------------------------------------


@dataclass(frozen=True)
class DocumentFile:
    """A document file found by :func:`scan_documents`."""

    path: Path
    """Where it was found (a link inside the folder stays the link)."""
    key: str
    """The document key: path relative to the scanned folder, or the file name."""
    source: str
    """Absolute resolved path, as recorded in the index."""
    direct: bool = False
    """Given as a file rather than found in a folder."""


@dataclass
class DocumentScan:
    """What a scan found: usable files, refused ones and the folders scanned."""

    files: list[DocumentFile] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    directories: list[Path] = field(default_factory=list)
    refused_keys: set[str] = field(default_factory=set)
    """Keys of links refused for safety; whatever was indexed under them is removed."""
    refused_sources: set[str] = field(default_factory=set)
    """Resolved targets of those links; passages indexed from them are removed too."""


_LINK_OUTSIDE = (
    "文書フォルダの外を指すシンボリックリンクのため読み込みません。"
    "必要な文書はフォルダ内にコピーしてください。"
)
_LINK_LOOP = (
    "シンボリックリンクがループしているため読み込みません。リンクを直すか削除してください。"
)
_LINK_DANGLING = "シンボリックリンクのリンク先が存在しません。リンクを直すか削除してください。"
_LINK_FOLDER = (
    "フォルダへのシンボリックリンクはたどりません（フォルダの外の文書や二重登録を防ぐため）。"
    "必要な文書はフォルダ内に置いてください。"
)


def scan_documents(paths: Iterable[Path]) -> DocumentScan:
    """Expand files and directories into document files, refusing unsafe links and names."""
    scan = DocumentScan()
    for path in paths:
        if path.is_dir():
            root = path.resolve()
            problem = name_problem(str(root))
            if problem:
                scan.skipped.append(SkippedFile(path, problem, name=safe_text(str(path))))
                continue
            scan.directories.append(root)
            _scan_directory(path, root, scan)
            continue
        try:
            source = str(path.resolve())
        except (RuntimeError, OSError):  # a symlink loop
            scan.skipped.append(SkippedFile(path, _LINK_LOOP))
            continue
        problem = name_problem(path.name) or name_problem(source)
        if problem:
            scan.skipped.append(SkippedFile(path, problem))
            continue
        scan.files.append(DocumentFile(path, path.name, source, direct=True))
    scan.files.sort(key=lambda file: file.key)
    scan.skipped.sort(key=lambda skipped: skipped.name)
    return scan


def document_files(paths: Iterable[Path]) -> tuple[list[Path], list[Path]]:
    """Expand files and directories into ``(document files, scanned directories)``."""
    scan = scan_documents(paths)
    return [file.path for file in scan.files], scan.directories


def _scan_directory(base: Path, root: Path, scan: DocumentScan) -> None:
    """Walk ``base`` without following links to folders (iteratively: any depth)."""
    pending = [base]
    while pending:
        directory = pending.pop()
        try:
            with os.scandir(directory) as entries:
                listing = list(entries)
        except OSError as error:
            key = directory.relative_to(base).as_posix() + "/"
            scan.skipped.append(
                SkippedFile(directory, "フォルダを読めません。" + os_error_reason(error), name=key)
            )
            continue
        for entry in listing:
            path = Path(entry.path)
            key = path.relative_to(base).as_posix()
            supported = path.suffix.lower() in SUPPORTED_SUFFIXES
            try:
                if entry.is_symlink():
                    _scan_link(path, key, supported, root, scan)
                    continue
                if entry.is_dir(follow_symlinks=False):
                    pending.append(path)
                    continue
                if not supported:
                    continue
                regular = entry.is_file(follow_symlinks=False)
            except OSError as error:
                scan.skipped.append(SkippedFile(path, os_error_reason(error), name=key))
                continue
            problem = name_problem(key) or (None if regular else "通常のファイルではありません。")
            if problem:
                scan.skipped.append(SkippedFile(path, problem, name=key))
                continue
            scan.files.append(DocumentFile(path, key, str(root / key)))


def _scan_link(path: Path, key: str, supported: bool, root: Path, scan: DocumentScan) -> None:
    try:
        target = path.resolve(strict=True)
    except FileNotFoundError:
        if supported:
            scan.skipped.append(SkippedFile(path, _LINK_DANGLING, name=key))
            scan.refused_keys.add(key)
        return
    except (RuntimeError, OSError):  # a loop: RuntimeError on 3.11, OSError(ELOOP) later
        if supported:
            scan.skipped.append(SkippedFile(path, _LINK_LOOP, name=key))
            scan.refused_keys.add(key)
        return
    is_dir = target.is_dir()
    if not (supported or is_dir):
        return
    if not target.is_relative_to(root):
        scan.skipped.append(SkippedFile(path, _LINK_OUTSIDE, name=key))
        scan.refused_keys.add(key)
        scan.refused_sources.add(str(target))
    elif is_dir:
        scan.skipped.append(SkippedFile(path, _LINK_FOLDER, name=key))
    elif target.suffix.lower() in SUPPORTED_SUFFIXES and target.is_file():
        other = target.relative_to(root).as_posix()
        scan.skipped.append(
            SkippedFile(
                path,
                f"同じフォルダ内の {safe_text(other)} へのリンクのため、二重に登録しないよう"
                "読み込みません。",
                name=key,
            )
        )
    else:
        problem = name_problem(key) or name_problem(str(target))
        if problem:
            scan.skipped.append(SkippedFile(path, problem, name=key))
        else:
            scan.files.append(DocumentFile(path, key, str(target)))


# --- what to do with each file -------------------------------------------------------------


def content_digest(data: bytes, title: str) -> str:
    """Change-detection hash: file bytes, citation title and the chunking version."""
    recipe = f"\0{title}\0chunking-{CHUNKING_VERSION}".encode("utf-8", "surrogatepass")
    return hashlib.sha256(data + recipe).hexdigest()[:16]


def document_title(titles: dict[str, str], key: str, path: Path) -> str:
    """Citation title: by key, else by file name (corpus.yaml is keyed by file name), else
    the file name without suffix."""
    if key in titles:
        return titles[key]
    return titles.get(path.name, path.stem)


@dataclass
class _Planned:
    file: DocumentFile
    key: str
    title: str
    digest: str
    """Change-detection digest (content and title)."""
    doc_digest: str
    """Passage-id prefix."""


@dataclass
class _Plan:
    documents: list[_Planned]
    found: set[str]
    """Keys of every usable file found, read or not: their passages are kept."""
    removals: list[str]


def _plan(
    scan: DocumentScan,
    *,
    indexed: dict[str, tuple[str, str]],
    titles: dict[str, str],
    max_bytes: int,
    skip: Callable[[SkippedFile], None],
) -> _Plan:
    by_source = {source: key for key, (_digest, source) in indexed.items() if source}
    in_folders = {file.source: file.key for file in scan.files if not file.direct}
    planned: list[_Planned] = []
    found: set[str] = set()
    for file in scan.files:
        key = file.key
        if file.direct:  # a file given directly keeps the key its folder gives it
            key = in_folders.get(file.source) or by_source.get(file.source) or key
        if key in found:
            continue
        found.add(key)
        title = document_title(titles, key, file.path)
        try:
            data = load_bytes(file.path, max_bytes=max_bytes)
            if file.path.suffix.lower() not in SUPPORTED_SUFFIXES:
                raise DocumentError(
                    file.path,
                    "対応していない形式です（Markdown・テキスト・PDF・DOCX・HTML に対応）。",
                )
        except DocumentError as error:
            skip(SkippedFile(file.path, error.reason, name=key))
            continue
        planned.append(
            _Planned(file, key, title, content_digest(data, title), document_digest(data, key))
        )
    documents = _without_duplicates(planned, indexed, skip)
    return _Plan(documents, found, _removals(scan, indexed, found))


def _without_duplicates(
    planned: list[_Planned],
    indexed: dict[str, tuple[str, str]],
    skip: Callable[[SkippedFile], None],
) -> list[_Planned]:
    """One document per passage-id prefix: the one already indexed, else the first."""
    groups: dict[str, list[_Planned]] = {}
    for item in planned:
        groups.setdefault(item.doc_digest, []).append(item)
    kept: list[_Planned] = []
    for item in planned:
        group = groups[item.doc_digest]
        owner = next((g for g in group if indexed.get(g.key, ("", ""))[0] == g.digest), group[0])
        if item is owner:
            kept.append(item)
        else:
            skip(
                SkippedFile(
                    item.file.path,
                    f"{owner.key} と内容が同じため、重複として読み込みませんでした。",
                    name=item.key,
                )
            )
    return kept


def _removals(
    scan: DocumentScan, indexed: dict[str, tuple[str, str]], found: set[str]
) -> list[str]:
    """Indexed documents to delete: gone from a scanned folder, refused links, and
    documents now found under another key (e.g. indexed by file name before keys were
    relative paths)."""
    found_sources = {file.source for file in scan.files}

    def obsolete(key: str, source: str) -> bool:
        if key in scan.refused_keys or source in scan.refused_sources:
            return True
        if not source:
            return False
        if source in found_sources:
            return True
        path = Path(source)
        return any(path.is_relative_to(d) for d in scan.directories) and not path.exists()

    removals = []
    for key, (_digest, source) in indexed.items():
        if key not in found and obsolete(key, source):
            removals.append(key)
    return removals


# --- ingesting ---------------------------------------------------------------------------------


def ingest_files(
    paths: Sequence[Path],
    *,
    store: PassageStore,
    embedder: TextEmbedder,
    titles: dict[str, str],
    max_bytes: int,
    progress: bool = True,
    max_seconds: float = DEFAULT_PARSE_SECONDS,
    max_unpacked_bytes: int = DOCX_MAX_UNPACKED_BYTES,
    token_store: TokenVectorStore | None = None,
) -> IngestReport:
    """Bring the index in line with the given files and directories.

    Args:
        token_store: Also keep each new passage's token vectors there (the second
            stage), from the same forward pass as its pooled vector.
        max_bytes: Files larger than this are skipped.
        max_seconds: Wall-clock budget for parsing one file.
        max_unpacked_bytes: A DOCX unpacking to more than this is skipped.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    report = IngestReport()
    scan = scan_documents(paths)
    report.skipped.extend(scan.skipped)
    indexed = store.document_digests()
    # Vectors of another embedding model cannot be compared with this one's queries:
    # such an index is re-embedded whole.
    rebuild = bool(indexed) and not _same_model(store, embedder)
    if rebuild:
        store.reset()
    plan = _plan(
        scan, indexed=indexed, titles=titles, max_bytes=max_bytes, skip=report.skipped.append
    )
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        disable=not progress,
        transient=True,
    ) as bar:
        file_task = bar.add_task("文書", total=len(plan.documents))
        chunk_task = bar.add_task("節（埋め込み）", total=0)
        for item in plan.documents:
            bar.update(file_task, description=f"文書 {item.key}")
            if not rebuild and indexed.get(item.key, ("", ""))[0] == item.digest:
                report.unchanged.append(item.key)
                bar.advance(file_task)
                continue
            try:
                digest, passages = _read_passages(
                    item,
                    max_bytes=max_bytes,
                    max_seconds=max_seconds,
                    max_unpacked_bytes=max_unpacked_bytes,
                )
            except DocumentError as error:
                report.skipped.append(SkippedFile(item.file.path, error.reason, name=item.key))
                if rebuild and item.key in indexed:
                    report.removed.append(item.key)  # its old vectors went with the reset
                bar.advance(file_task)
                continue
            stored = [StoredPassage(p, digest, item.file.source) for p in passages]
            bar.update(chunk_task, total=(bar.tasks[chunk_task].total or 0) + len(stored))
            vectors = []
            for start in range(0, len(stored), 64):
                part = stored[start : start + 64]
                texts = [lexical_text(s.passage) for s in part]
                if token_store is None:
                    vectors.append(embedder.embed_passages(texts))
                else:
                    pooled, tokens = embedder.encode_with_tokens(texts, "passage")
                    vectors.append(pooled)
                    for passage, token_vectors in zip(part, tokens, strict=True):
                        token_store.put(passage.passage.id, token_vectors)
                bar.advance(chunk_task, len(part))
            if item.key in indexed:
                store.delete_document(item.key)
                report.updated.append(item.key)
            else:
                report.added.append(item.key)
            if stored:
                store.add(stored, np.concatenate(vectors))
            report.passages += len(stored)
            bar.advance(file_task)
    for key in plan.removals:
        store.delete_document(key)
        report.removed.append(key)
    if store.count():
        store.set_embedding_model(embedder.identity)
    if token_store is not None and report.changed:
        token_store.prune(item.passage.id for item in store.all_passages())
    return report


def _same_model(store: PassageStore, embedder: TextEmbedder) -> bool:
    """Whether the stored vectors were made by ``embedder``'s model.

    An index from before the model was recorded is judged by its vector length.
    """
    recorded = store.embedding_model()
    if recorded is not None:
        return recorded == embedder.identity
    dimension = store.vector_dimension()
    return dimension is None or dimension == embedder.dimension


def _read_passages(
    item: _Planned, *, max_bytes: int, max_seconds: float, max_unpacked_bytes: int
) -> tuple[str, list[Passage]]:
    """``(change digest, passages)`` of one document, read afresh.

    Raises:
        DocumentError: The file cannot be read, parsed or split (never anything else).
    """
    path = item.file.path
    data = load_bytes(path, max_bytes=max_bytes)
    document = parse_document(
        path, data, name=item.key, max_seconds=max_seconds, max_unpacked_bytes=max_unpacked_bytes
    )
    try:
        passages = chunk_document(document, title=item.title)
    except Exception as error:  # a chunker bug must not stop the run either
        log.warning("splitting %s failed: %s", item.key, type(error).__name__)
        raise DocumentError(
            path, f"文書を節に分けられませんでした（{type(error).__name__}）。"
        ) from error
    return content_digest(data, item.title), passages


def stale_documents(
    paths: Sequence[Path],
    *,
    store: PassageStore,
    titles: dict[str, str],
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> bool:
    """True when the index misses, or differs from, the documents on disk.

    Files an ingest run would refuse before parsing (unsafe links, bad names, empty or
    oversized files, duplicates) do not count.
    """
    indexed = store.document_digests()
    if not indexed:
        return True
    scan = scan_documents(paths)
    plan = _plan(scan, indexed=indexed, titles=titles, max_bytes=max_bytes, skip=lambda _: None)
    if plan.removals:
        return True
    return any(indexed.get(item.key, ("", ""))[0] != item.digest for item in plan.documents)
