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
_STOP = frozenset(
    {
        # light verbs and adjectives, by Sudachi normalised form
        "為る",
        "有る",
        "居る",
        "成る",
        "良い",
        "遣る",
        "貰う",
        "行く",
        "おく",
        "言う",
        "呉れる",
        "出来る",
        "思う",
        "分かる",
        "見る",
        "くる",
        "いく",
        "しまう",
        "欲しい",
        "大丈夫",
        "駄目",
        # pronouns and formal nouns
        "此れ",
        "其れ",
        "彼れ",
        "何",
        "どう",
        "どんな",
        "どの",
        "どれ",
        "どっち",
        "どういう",
        "いつ",
        "こと",
        "事",
        "もの",
        "物",
        "よう",
        "様",
        "ため",
        "為",
        "とき",
        "時",
        "方",
        "うち",
        "所",
        "って",
        "など",
        "等",
        "さん",
        "くらい",
        "位",
        "ところ",
    }
)


COLLOQUIAL_SYNONYMS: dict[str, tuple[str, ...]] = {
    # How staff ask -> how the guidelines write it. General procurement vocabulary,
    # matched on the question's surface text; the formal terms are added to the query.
    "業者": ("事業者", "受託者"),
    "ベンダー": ("事業者",),
    "大きい": ("大規模",),
    "大きめ": ("大規模",),
    "小さい": ("小規模",),
    "いつ": ("時期", "期限"),
    "締め切り": ("期限",),
    "何社": ("複数",),
    "いくら": ("金額", "費用"),
    "値段": ("価格", "金額"),
    "お金": ("費用", "経費"),
    "随契": ("随意契約",),
    "ガバクラ": ("ガバメントクラウド",),
    "パソコン": ("端末",),
}


class JapaneseTokenizer:
    """SudachiPy (sudachidict-core) tokenizer producing normalised content words.

    Two granularities are indexed: short units (mode A: 事業 / 者) and, for compounds,
    the long unit as well (mode C: 事業者), so both 「事業者」 and 「業者」-style
    questions meet the text.
    """

    def __init__(self) -> None:
        self._dictionary: Any = None
        self._modes: tuple[Any, Any] | None = None
        self._lock = threading.Lock()
        # A Sudachi Tokenizer refuses concurrent use ("already in use"): one per thread,
        # all sharing the one loaded dictionary.
        self._local = threading.local()

    def _load(self) -> Any:
        with self._lock:
            if self._dictionary is None:
                from sudachipy import Dictionary, SplitMode

                self._dictionary = Dictionary(dict="core")
                self._modes = (SplitMode.A, SplitMode.C)
        tokenizer = getattr(self._local, "tokenizer", None)
        if tokenizer is None:
            assert self._modes is not None
            tokenizer = self._dictionary.tokenizer(mode=self._modes[0])
            self._local.tokenizer = tokenizer
        return tokenizer

    def _content(self, piece: str, mode: Any) -> list[str]:
        words = []
        for morpheme in self._load().tokenize(piece, mode):
            if morpheme.part_of_speech()[0] in _SKIP_POS:
                continue
            form = morpheme.normalized_form()
            if form.strip() and form not in _STOP:
                words.append(form)
        return words

    def tokens(self, text: str) -> list[str]:
        """Normalised content tokens (no particles, auxiliaries or symbols)."""
        self._load()
        assert self._modes is not None
        short_mode, long_mode = self._modes
        text = unicodedata.normalize("NFKC", text).lower()
        result: list[str] = []
        # Sudachi refuses inputs over ~49 KB; passages are far shorter, but be safe.
        for piece in re.findall(r".{1,4000}", text, flags=re.DOTALL):
            short = self._content(piece, short_mode)
            seen = set(short)
            result.extend(short)
            result.extend(
                w for w in self._content(piece, long_mode) if len(w) >= 3 and w not in seen
            )
        return result

    def query_terms(self, question: str) -> list[str]:
        """Tokens of a question plus the formal terms for its colloquial words."""
        terms = self.tokens(question)
        for colloquial, formal in COLLOQUIAL_SYNONYMS.items():
            if colloquial in question:
                terms.extend(formal)
        return terms


class BM25Index:
    """Okapi BM25 over pre-tokenised documents (k1 = 1.2, b = 0.3: passages are short and structured, so length normalisation is kept mild)."""

    def __init__(
        self, documents: Sequence[Sequence[str]], *, k1: float = 1.2, b: float = 0.3
    ) -> None:
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
                scores[index] += (
                    query_count * idf * count * (self.k1 + 1) / (count + self._norm[index])
                )
        return scores

    def top(self, query_terms: Sequence[str], k: int) -> list[tuple[int, float]]:
        """Indices and scores of the ``k`` best documents with a positive score."""
        scores = self.scores(query_terms)
        if not self.size:
            return []
        order = np.argsort(-scores)[:k]
        return [(int(i), float(scores[i])) for i in order if scores[i] > 0]
