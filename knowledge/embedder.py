"""Text embeddings through sentence-transformers, strictly offline."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

# Nothing in this process may reach a model hub: the bundled model is a local directory,
# and a configured hub name must already be in the local cache.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")


class TextEmbedder:
    """E5-style embedder: ``query: `` / ``passage: `` prompts, L2-normalised vectors.

    The model loads lazily on first use, so constructing one is free.
    """

    def __init__(self, model: str, *, bundled_model_dir: Path | None = None) -> None:
        self.model_name = model
        self.bundled_model_dir = bundled_model_dir
        self._model: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                from sentence_transformers import SentenceTransformer

                path = Path(self.model_name)
                if self.bundled_model_dir is not None and path == self.bundled_model_dir:
                    from knowledge.bundled_model import build_bundled_model

                    build_bundled_model(path)
                import torch
                from transformers.utils import logging as transformers_logging

                transformers_logging.disable_progress_bar()

                torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
                self._model = SentenceTransformer(
                    self.model_name, device="cpu", local_files_only=True
                )
        return self._model

    @property
    def identity(self) -> str:
        """The model's name as recorded with an index: ``bundled:<directory name>`` for the
        bundled model (wherever the data directory is), else the configured name or path."""
        if self.bundled_model_dir is not None and Path(self.model_name) == self.bundled_model_dir:
            return f"bundled:{self.bundled_model_dir.name}"
        return self.model_name

    @property
    def dimension(self) -> int:
        return int(self._load().get_sentence_embedding_dimension())

    def _encode(self, texts: Sequence[str], prompt: str) -> np.ndarray:
        model = self._load()
        prompts = getattr(model, "prompts", {}) or {}
        prefix = prompts.get(prompt, f"{prompt}: ")
        vectors = model.encode(
            [prefix + text for text in texts],
            batch_size=4,  # small batches: less padding and a lower memory peak on CPU
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        """One query vector (``query: `` prompt)."""
        return self._encode([text], "query")[0]

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Passage vectors (``passage: `` prompt), one row per text."""
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        return self._encode(texts, "passage")
