"""The second stage: late interaction between the question's and each passage's tokens.

The second stage scores every passage (fused with BM25 by ``HybridSearch``), reading the
question and the passage together, token by token: every question token
looks for its best-matching token in the passage (cosine of the bundled e5 model's
contextual token vectors, as in ColBERT's MaxSim), and the matches are averaged with
each question token weighted by its inverse document frequency over the corpus, so
particles and punctuation (「って」「の」「？」) count for little and rare terms
(イニシャルコスト, 協議) for much. A pooled vector blurs a 500-character passage into one
point; token matching keeps the clause that answers.

No training and no list of words: the model is the bundled one, the weights come from
the corpus itself. Passage token vectors are computed in the same forward pass as the
pooled vectors at ingest and kept beside the index (``TokenVectorStore``), one file per
passage, so a restart loads them instead of re-encoding; passages without a file (an
index from before this stage, or one ingested by another replica) are encoded when the
search is rebuilt. Measured on the evaluation split (``soudan eval`` reports it as a
component): docs/knowledge.md.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

_SAFE_ID = re.compile(r"^[A-Za-z0-9_.-]+$")


@dataclass(frozen=True)
class TokenVectors:
    """One text's tokens: vocabulary ids and L2-normalised contextual vectors.

    Special tokens and the model's prompt (``query: `` / ``passage: ``) are left out.
    """

    ids: np.ndarray
    """int32, one per token."""
    vectors: np.ndarray
    """float16 (stored) or float32, shape (tokens, dimension)."""


class TokenVectorStore:
    """Passage token vectors on disk, one ``.npz`` per passage, per embedding model
    (in memory only when no directory is given).

    Passage ids are content-derived (the same text keeps its id), so a file never goes
    stale; files of passages no longer indexed are removed by ``prune``.
    """

    def __init__(self, directory: Path | None, model_identity: str) -> None:
        key = hashlib.sha256(model_identity.encode("utf-8")).hexdigest()[:16]
        self.directory = directory / key if directory is not None else None
        self._memory: dict[str, TokenVectors] = {}

    def _path(self, passage_id: str) -> Path:
        assert self.directory is not None
        name = passage_id if _SAFE_ID.match(passage_id) else _digest(passage_id)
        return self.directory / f"{name}.npz"

    def put(self, passage_id: str, tokens: TokenVectors) -> None:
        if self.directory is None:
            self._memory[passage_id] = tokens
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self._path(passage_id)
        partial = path.with_name(path.name + ".part")
        with partial.open("wb") as handle:
            np.savez(
                handle,
                ids=tokens.ids.astype(np.int32),
                vectors=tokens.vectors.astype(np.float16),
            )
        partial.replace(path)  # atomic: a reader never sees half a file

    def ids(self, passage_id: str) -> np.ndarray | None:
        """The passage's token ids only (the vectors are not read)."""
        found = self._read(passage_id, ("ids",))
        return None if found is None else found[0]

    def vectors(self, passage_id: str) -> np.ndarray | None:
        """The passage's token vectors only (float16)."""
        found = self._read(passage_id, ("vectors",))
        return None if found is None else found[0]

    def get(self, passage_id: str) -> TokenVectors | None:
        found = self._read(passage_id, ("ids", "vectors"))
        return None if found is None else TokenVectors(*found)

    def _read(self, passage_id: str, members: tuple[str, ...]) -> list[np.ndarray] | None:
        """The named arrays of one passage; None when missing or damaged (re-encoded by
        the caller)."""
        if self.directory is None:
            tokens = self._memory.get(passage_id)
            return None if tokens is None else [getattr(tokens, m) for m in members]
        try:
            with np.load(self._path(passage_id)) as data:
                return [np.asarray(data[m]) for m in members]
        except (OSError, ValueError, KeyError):
            return None

    def prune(self, keep: Iterable[str]) -> None:
        if self.directory is None:
            wanted_ids = set(keep)
            self._memory = {k: v for k, v in self._memory.items() if k in wanted_ids}
            return
        wanted = {self._path(pid).name for pid in keep}
        if not self.directory.is_dir():
            return
        for path in self.directory.glob("*.npz"):
            if path.name not in wanted:
                path.unlink(missing_ok=True)


def _idf(frequency: int, count: int) -> float:
    """Inverse document frequency of a token in ``frequency`` of ``count`` passages (≥ 0)."""
    return max(0.0, math.log((count + 1) / (frequency + 0.5)))


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


class LateInteraction:
    """IDF-weighted MaxSim of a question against candidate passages."""

    def __init__(self, passages: Mapping[int, TokenVectors]) -> None:
        """Args:
        passages: Token vectors by passage position (the search's passage order).
        """
        self._build({p: t.ids for p, t in passages.items()}, lambda p: passages[p].vectors)

    @classmethod
    def streamed(
        cls, ids: Mapping[int, np.ndarray], vectors: Callable[[int], np.ndarray | None]
    ) -> LateInteraction:
        """Build from each passage's token ids, reading its vectors one passage at a time
        (from a :class:`TokenVectorStore`), so the vectors are never held twice.

        A passage whose vectors cannot be read now (or no longer match its ids) is left
        uncovered: ``scores_all`` gives it NaN, ``scores`` 0.
        """
        late = cls.__new__(cls)
        late._build(ids, vectors)
        return late

    def _build(
        self, ids: Mapping[int, np.ndarray], vectors: Callable[[int], np.ndarray | None]
    ) -> None:
        import torch

        # torch, not numpy: numpy's BLAS threads keep spinning after a product and slow
        # the next query's encoder (torch's own pool) about threefold on two cores.
        # All passages' vectors are packed into one float16 matrix with the owning
        # position of each row, so that every passage is scored with one float16 product
        # and one segment maximum; ``passages`` holds views into it.
        positions = sorted(p for p, found in ids.items() if len(found))
        rows = sum(len(ids[p]) for p in positions)
        self._size = max(ids, default=-1) + 1
        # rows of a passage that could not be read belong to column ``_size``, one past
        # the last position (``scores_all`` allocates it and never reads it)
        self._owner = torch.full((rows,), self._size, dtype=torch.int64)
        self._packed = torch.zeros((0, 0), dtype=torch.float16)
        self.passages: dict[int, Any] = {}
        start = 0
        for position in positions:
            end = start + len(ids[position])
            block = vectors(position)
            if block is not None and len(block) == end - start:
                if not self._packed.numel():
                    self._packed = torch.zeros((rows, block.shape[1]), dtype=torch.float16)
                self._packed[start:end] = torch.from_numpy(
                    np.ascontiguousarray(block, dtype=np.float16)
                )
                self._owner[start:end] = position
                self.passages[position] = self._packed[start:end]
            start = end
        if not self.passages:
            self._owner = torch.zeros(0, dtype=torch.int64)
        frequency: Counter[int] = Counter()
        self._distinct: dict[int, np.ndarray] = {}
        for position, found in ids.items():
            distinct = np.unique(found)
            frequency.update(distinct.tolist())
            self._distinct[position] = distinct
        self._frequency = frequency
        self._count = len(ids)

    def idf(self, token_id: int) -> float:
        """Inverse document frequency of a vocabulary id over the passages (≥ 0)."""
        return _idf(self._frequency.get(token_id, 0), self._count)

    def _weights(self, question: TokenVectors, within: frozenset[int] = frozenset()) -> Any:
        """The question tokens' weights: inverse document frequency over every passage, or
        (``within`` given) over the passages at those positions only."""
        import torch

        if not within:
            return torch.tensor([self.idf(int(t)) for t in question.ids], dtype=torch.float32)
        # counted per question (about 0.1 ms for a document's ~100 passages), not cached
        found = [self._distinct[p] for p in within if p in self._distinct]
        values, counts = np.unique(
            np.concatenate(found or [np.zeros(0, np.int32)]), return_counts=True
        )
        frequency = dict(zip(values.tolist(), counts.tolist(), strict=True))
        return torch.tensor(
            [_idf(frequency.get(int(t), 0), len(within)) for t in question.ids],
            dtype=torch.float32,
        )

    def covers(self, position: int) -> bool:
        return position in self.passages

    def scores(
        self,
        question: TokenVectors,
        positions: Sequence[int],
        *,
        within: frozenset[int] = frozenset(),
    ) -> list[float]:
        """One score per position in ``positions`` (0 for a passage with no vectors);
        passages at the positions ``within`` weigh the question's tokens by their inverse
        document frequency among those passages (see ``scores_all``)."""
        import torch

        every = self._weights(question)
        own = self._weights(question, within) if within else every
        if not len(question.ids):
            return [0.0] * len(positions)
        query = torch.from_numpy(np.ascontiguousarray(question.vectors, dtype=np.float32))
        out = []
        with torch.inference_mode():
            for position in positions:
                passage = self.passages.get(position)
                weights = own if position in within else every
                total = float(weights.sum())
                if passage is None or not len(passage) or total <= 0:
                    out.append(0.0)
                    continue
                best = (query @ passage.float().T).max(dim=1).values
                out.append(float((best * weights).sum()) / total)
        return out

    def scores_all(
        self,
        question: TokenVectors,
        *,
        block_rows: int = 1 << 20,
        within: frozenset[int] = frozenset(),
    ) -> np.ndarray:
        """The score of every passage position (0 … highest position), as ``scores``;
        NaN where a passage has no vectors.

        One float16 product over the packed rows (in blocks of ``block_rows``) and a
        per-passage maximum by scatter, instead of one product per passage.

        ``within``: positions (the passages of the documents a question names) whose
        scores weigh the question's tokens by inverse document frequency among those
        passages only. Inside one document its own subject (「CIO補佐」 in the CIO-support
        specification) is on every page and tells its passages nothing apart, though it is
        rare in the corpus.
        """
        import torch

        result = np.full(self._size, np.nan, dtype=np.float32)
        weights = self._weights(question)
        total = float(weights.sum())
        if not len(question.ids) or total <= 0 or not len(self._owner):
            result[list(self.passages)] = 0.0
            return result
        query = torch.from_numpy(np.ascontiguousarray(question.vectors, dtype=np.float16))
        best = torch.full((len(query), self._size + 1), -2.0, dtype=torch.float32)
        with torch.inference_mode():
            for start in range(0, len(self._owner), block_rows):
                owner = self._owner[start : start + block_rows]
                # float16 product (a float32 copy of the matrix per question cost 4x the
                # time and ~200 MB of freed-but-kept memory); maxima taken in float32
                similarity = (query @ self._packed[start : start + block_rows].T).float()
                best.scatter_reduce_(
                    1, owner.expand(len(query), -1), similarity, reduce="amax", include_self=True
                )
            combined = (best * weights[:, None]).sum(dim=0) / total
            own = self._weights(question, within) if within else weights
            if within and float(own.sum()) > 0:
                named = torch.zeros(self._size + 1, dtype=torch.bool)
                named[sorted(within)] = True
                combined = torch.where(
                    named, (best * own[:, None]).sum(dim=0) / float(own.sum()), combined
                )
        values = combined.numpy()
        for position in self.passages:
            result[position] = values[position]
        return result
