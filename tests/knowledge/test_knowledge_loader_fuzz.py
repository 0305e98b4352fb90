"""Loader fuzz test (issue 15): mutated DOCX / PDF / text files, generated here from a fixed
seed, are read or refused with a Japanese reason; nothing escapes reading or ingestion."""

from __future__ import annotations

import logging
import random
import re
import time
from pathlib import Path

import pytest

from knowledge.documents import DocumentError, read_document
from knowledge.ingestion import ingest_files

from .document_samples import (
    MemoryStore,
    ZeroEmbedder,
    flip_bytes,
    make_docx,
    make_pdf,
    mutate_docx_xml,
    mutate_pdf_structure,
    text_samples,
    truncate,
)

SEED = 15
LIMIT = 5_000_000
JAPANESE = re.compile("[\u3041-\u30ff\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """60 DOCX (20 byte flips, 10 truncations, 30 malformed parts), 30 PDF (10 flips,
    5 truncations, 15 broken structures) and 30 text/HTML files."""
    rng = random.Random(SEED)
    folder = tmp_path_factory.mktemp("fuzz")
    docx, pdf = make_docx(), make_pdf(["ICT procurement guideline", "Section 1"])
    files: list[tuple[str, bytes]] = []
    files += [(".docx", flip_bytes(rng, docx)) for _ in range(20)]
    files += [(".docx", truncate(rng, docx)) for _ in range(10)]
    files += [(".docx", mutate_docx_xml(rng, docx)) for _ in range(30)]
    files += [(".pdf", flip_bytes(rng, pdf)) for _ in range(10)]
    files += [(".pdf", truncate(rng, pdf)) for _ in range(5)]
    files += [(".pdf", mutate_pdf_structure(rng, pdf)) for _ in range(15)]
    files += text_samples(rng, 30)
    for number, (suffix, data) in enumerate(files):
        (folder / f"fuzz-{number:03d}{suffix}").write_bytes(data)
    return folder


def test_every_mutated_file_is_read_or_refused_in_japanese(fuzz_dir: Path) -> None:
    outcomes: dict[str, list[str]] = {"read": [], "refused": []}
    slowest = 0.0
    for path in sorted(fuzz_dir.iterdir()):
        started = time.perf_counter()
        try:
            document = read_document(path, max_bytes=LIMIT)
        except DocumentError as error:
            assert JAPANESE.search(error.reason), (path.name, error.reason)
            outcomes["refused"].append(path.name)
        else:
            assert document.text.strip()
            outcomes["read"].append(path.name)
        slowest = max(slowest, time.perf_counter() - started)
    assert len(outcomes["read"]) + len(outcomes["refused"]) == 120
    assert (
        outcomes["read"] and outcomes["refused"]
    )  # the mutations are neither all fatal nor all harmless
    assert slowest < 5


def test_ingesting_the_mutated_files_never_crashes_or_prints(
    fuzz_dir: Path, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    store = MemoryStore()
    with caplog.at_level(logging.WARNING):
        report = ingest_files(
            [fuzz_dir],
            store=store,  # type: ignore[arg-type]
            embedder=ZeroEmbedder(),  # type: ignore[arg-type]
            titles={},
            max_bytes=LIMIT,
            progress=False,
        )
    names = {path.name for path in fuzz_dir.iterdir()}
    skipped = {s.name: s.reason for s in report.skipped}
    assert set(report.added) | set(skipped) == names
    assert not set(report.added) & set(skipped)
    assert all(JAPANESE.search(reason) for reason in skipped.values())
    assert store.docs() == set(report.added)
    assert capfd.readouterr().err == ""
    assert not [r for r in caplog.records if r.name.startswith("pypdf")]
