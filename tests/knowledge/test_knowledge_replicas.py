"""Two processes' knowledge bases on one Chroma server: an ingest by one is answered by the
other without a restart (the corpus version in the collection tells it to reload)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import knowledge.knowledge_base as knowledge_base_module
from knowledge.config import KnowledgeConfig
from knowledge.knowledge_base import KnowledgeBase

FIRST = "# 1. 概要\n本要領は、庁内の複合機の調達について定める。\n"
SECOND = "# 2. 保守\n保守事業者は、四半期ごとに点検報告書を提出する。\n"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    executable = shutil.which("chroma") or str(Path(__file__).parents[2] / ".venv" / "bin" / "chroma")
    assert Path(executable).exists(), "the chroma CLI comes with chromadb"
    port = _free_port()
    process = subprocess.Popen(
        [executable, "run", "--path", str(tmp_path_factory.mktemp("chroma-replicas")),
         "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_an_ingest_by_one_replica_is_answered_by_the_other_without_restart(
    chroma_url: str, model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(knowledge_base_module, "VERSION_CHECK_SECONDS", 0.0)
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text(FIRST, encoding="utf-8")
    config = KnowledgeConfig(
        docs_dir=docs, chroma_path=None, chroma_url=chroma_url, embedding_model=str(model_dir),
        collection="replicas", bundled_model_dir=model_dir,
    )
    writer, reader = KnowledgeBase(config), KnowledgeBase(config)
    writer.ingest(progress=False)
    assert [h.passage.doc for h in reader.search("複合機の調達", top_k=1)] == ["a.md"]

    (docs / "b.md").write_text(SECOND, encoding="utf-8")
    writer.ingest(progress=False)

    hits = reader.search("点検報告書は四半期ごと？", top_k=1)
    assert hits and hits[0].passage.doc == "b.md"  # the reader reloaded, no restart
