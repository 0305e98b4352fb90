"""Text embeddings through sentence-transformers, strictly offline."""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from knowledge.late_interaction import TokenVectors


def _stay_offline() -> None:
    """Nothing in this process may reach a model hub: the bundled model is a local
    directory, and a configured hub name must already be in the local cache. Set just
    before the model libraries are first imported (they read these at import), not when
    this module is imported; ``local_files_only`` below holds even if they were earlier."""
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
                _stay_offline()
                from sentence_transformers import SentenceTransformer

                path = Path(self.model_name)
                if self.bundled_model_dir is not None and path == self.bundled_model_dir:
                    from knowledge.bundled_model import build_bundled_model

                    build_bundled_model(path)
                import torch
                from transformers.utils import logging as transformers_logging

                transformers_logging.disable_progress_bar()

                torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))
                model = SentenceTransformer(self.model_name, device="cpu", local_files_only=True)
                if path.is_dir():
                    use_compact_embeddings(model, path)
                self._model = model
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

    def encode_with_tokens(
        self, texts: Sequence[str], prompt: str
    ) -> tuple[np.ndarray, list[TokenVectors]]:
        """Pooled vectors (exactly as ``_encode``) and each text's token vectors, from one
        forward pass. Token vectors leave out special tokens and the prompt."""
        import torch

        model = self._load()
        prompts = getattr(model, "prompts", {}) or {}
        prefix = prompts.get(prompt, f"{prompt}: ")
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        pooled: list[np.ndarray] = [np.zeros(0, dtype=np.float32)] * len(texts)
        tokens: list[TokenVectors] = [TokenVectors(np.zeros(0, np.int32), np.zeros((0, 0)))] * len(
            texts
        )
        for start in range(0, len(order), 4):  # small batches, as in ``_encode``
            batch = order[start : start + 4]
            encoded = model.tokenizer(
                [prefix + texts[i] for i in batch],
                return_offsets_mapping=True,
                truncation=True,
                max_length=model.max_seq_length,
                padding=True,
                return_tensors="pt",
            )
            offsets = encoded.pop("offset_mapping").numpy()
            with torch.inference_mode():
                out = model.forward(dict(encoded))
            sentence = out["sentence_embedding"].numpy().astype(np.float32)
            token_vectors = out["token_embeddings"].numpy().astype(np.float32)
            ids = encoded["input_ids"].numpy()
            mask = encoded["attention_mask"].numpy().astype(bool)
            for row, index in enumerate(batch):
                pooled[index] = sentence[row] / max(float(np.linalg.norm(sentence[row])), 1e-12)
                # Special tokens have empty offsets (0, 0); prompt tokens start inside it.
                body = mask[row] & (offsets[row, :, 0] >= len(prefix)) & (
                    offsets[row, :, 1] > offsets[row, :, 0]
                )
                vectors = token_vectors[row][body]
                norms = np.linalg.norm(vectors, axis=1, keepdims=True)
                tokens[index] = TokenVectors(
                    ids[row][body].astype(np.int32), vectors / np.maximum(norms, 1e-12)
                )
        return np.stack(pooled) if texts else np.zeros((0, 0), np.float32), tokens

    def embed_query(self, text: str) -> np.ndarray:
        """One query vector (``query: `` prompt)."""
        return self._encode([text], "query")[0]

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Passage vectors (``passage: `` prompt), one row per text."""
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        return self._encode(texts, "passage")


def use_compact_embeddings(model: Any, directory: Path) -> bool:
    """Swap the model's fp32 word-embedding table for its Q4_0 blocks when ``directory``
    holds them (``knowledge.bundled_model.COMPACT_EMBEDDINGS``, written by the bundled
    model's build).

    The fp32 table (250k words x 384, 384 MB) lives in ``model.safetensors``, mapped
    from the file: every page an ingest touches stays resident, and an ingest touches most
    of them. The blocks are 54 MB, mapped read-only too (shared by every process on the
    host), and a looked-up row is dequantised exactly as the build wrote it, so the
    vectors are bit for bit the same (tested). Returns True when swapped.
    """
    import torch

    from knowledge.bundled_model import COMPACT_EMBEDDINGS, Q4_0_WEIGHTS, dequantize_q4_0

    source = directory / COMPACT_EMBEDDINGS
    embeddings: Any = getattr(getattr(model[0], "auto_model", None), "embeddings", None)
    table: Any = getattr(embeddings, "word_embeddings", None)
    if not source.is_file() or not isinstance(table, torch.nn.Embedding):
        return False
    blocks = np.load(source, mmap_mode="r")
    size, dimension = table.num_embeddings, table.embedding_dim
    if blocks.shape[0] != size or blocks.shape[1] * Q4_0_WEIGHTS != dimension:
        return False

    class CompactEmbedding(torch.nn.Module):
        """``nn.Embedding`` over Q4_0 blocks: rows are dequantised when looked up (the
        fp32 table it replaces is not referenced, so its mapping goes with it)."""

        def __init__(self, padding_idx: int | None) -> None:
            super().__init__()
            self.num_embeddings, self.embedding_dim = size, dimension
            self.padding_idx = padding_idx

        def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
            ids = input_ids.detach().cpu().numpy().reshape(-1)
            rows = dequantize_q4_0(blocks[ids]).reshape(len(ids), dimension)
            return torch.from_numpy(rows).reshape(*input_ids.shape, dimension)

    embeddings.word_embeddings = CompactEmbedding(table.padding_idx)
    return True
