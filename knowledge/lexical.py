"""Japanese lexical retrieval: BM25 over SudachiPy normalised tokens."""

from __future__ import annotations

import math
import re
import threading
import unicodedata
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

_SKIP_POS = frozenset({"助詞", "助動詞", "補助記号", "記号", "空白"})
_STOP = frozenset({
    # light verbs and adjectives, by Sudachi normalised form
    "為る", "有る", "居る", "成る", "良い", "遣る", "貰う", "行く", "おく", "言う", "呉れる", "出来る",
    "思う", "分かる", "見る", "くる", "いく", "しまう", "欲しい", "大丈夫", "駄目",
    # pronouns and formal nouns
    "此れ", "其れ", "彼れ", "何", "どう", "どんな", "どの", "どれ", "どっち", "どういう", "いつ",
    "こと", "事", "もの", "物", "よう", "様", "ため", "為", "とき", "時", "方", "うち", "所",
    "って", "など", "等", "さん", "くらい", "位", "ところ",
})


class JapaneseTokenizer:
    """SudachiPy (sudachidict-core) tokenizer producing normalised content words."""

    def __init__(self) -> None:
        self._tokenizer: Any = None
        self._mode: Any = None
        self._lock = threading.Lock()

    def _load(self) -> Any:
        with self._lock:
            if self._tokenizer is None:
                from sudachipy import Dictionary, SplitMode

                self._tokenizer = Dictionary(dict="core").create()
                self._mode = SplitMode.A
        return self._tokenizer

    def tokens(self, text: str) -> list[str]:
        """Normalised content tokens (no particles, auxiliaries or symbols)."""
        tokenizer = self._load()
        text = unicodedata.normalize("NFKC", text).lower()
        result: list[str] = []
        # Sudachi refuses inputs over ~49 KB; passages are far shorter, but be safe.
        for piece in re.findall(r".{1,4000}", text, flags=re.DOTALL):
            for morpheme in tokenizer.tokenize(piece, self._mode):
                if morpheme.part_of_speech()[0] in _SKIP_POS:
                    continue
                form = morpheme.normalized_form()
                if form.strip() and form not in _STOP:
                    result.append(form)
        return result


class BM25Index:
    """Okapi BM25 over pre-tokenised documents (k1 = 1.2, b = 0.3: passages are short and structured, so length normalisation is kept mild)."""

    def __init__(self, documents: Sequence[Sequence[str]], *, k1: float = 1.2, b: float = 0.3) -> None:
        self.size = len(documents)
        self.k1, self.b = k1, b
        lengths = np.array([len(doc) for doc in documents], dtype=np.float32)
        self.avg_length = float(lengths.mean()) if self.size else 0.0
        self.postings: dict[str, list[tuple[int, int]]] = {}
        for index, doc in enumerate(documents):
            for term, count in Counter(doc).items():
                self.postings.setdefault(term, []).append((index, count))
        norm = k1 * (1 - b + b * lengths / max(self.avg_length, 1e-9))
        self._norm = norm

    def idf(self, term: str) -> float:
        df = len(self.postings.get(term, ()))
        return math.log(1 + (self.size - df + 0.5) / (df + 0.5))

    def scores(self, query_terms: Sequence[str]) -> np.ndarray:
        """BM25 score of every document for the query terms."""
        scores = np.zeros(self.size, dtype=np.float32)
        for term, query_count in Counter(query_terms).items():
            postings = self.postings.get(term)
            if not postings:
                continue
            idf = self.idf(term)
            for index, count in postings:
                scores[index] += query_count * idf * count * (self.k1 + 1) / (count + self._norm[index])
        return scores

    def top(self, query_terms: Sequence[str], k: int) -> list[tuple[int, float]]:
        """Indices and scores of the ``k`` best documents with a positive score."""
        scores = self.scores(query_terms)
        if not self.size:
            return []
        order = np.argsort(-scores)[:k]
        return [(int(i), float(scores[i])) for i in order if scores[i] > 0]
