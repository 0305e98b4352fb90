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


_SPACED_LETTERS = re.compile(r"(?<![A-Za-z])(?:[A-Za-z][ \u3000]){1,9}[A-Za-z](?![A-Za-z])")
_RULES = re.compile(r"#{3,}|[-=_]{5,}|[.・…]{4,}")
_SYNONYM_POS = frozenset({"名詞"})
MAX_SYNONYM_FORMS = 2
"""A synonym group with more forms in the corpus than this is too broad to expand."""


def _is_common_kanji(char: str) -> bool:
    """A JIS X 0208 level-1 kanji (Shift_JIS 0x889F-0x9872): the everyday forms.

    Old and variant forms (續, 經) sit in level 2 or outside JIS; only those are mapped
    to the dictionary's normalised form, so a common kanji is never rewritten.
    """
    try:
        code = int.from_bytes(char.encode("shift_jis"), "big")
    except UnicodeEncodeError:
        return False
    return 0x889F <= code <= 0x9872


def normalize_text(text: str) -> str:
    """The same clean-up for passages and questions before tokenising.

    NFKC and lower case; letter-spaced acronyms left by the PDF conversion joined
    (``S L A`` -> ``sla``, ``I C T`` -> ``ict``); runs of ``#``, rules and leader dots
    dropped.
    """
    text = unicodedata.normalize("NFKC", text)
    text = _SPACED_LETTERS.sub(lambda m: re.sub(r"[ \u3000]", "", m.group(0)), text)
    return _RULES.sub(" ", text).lower()


_BIGRAM_RUN = re.compile(r"[一-龥々〆ァ-ヶーa-z0-9]{2,}")


def character_bigrams(text: str) -> list[str]:
    """Overlapping two-character pieces of the kanji, katakana and Latin runs of ``text``
    (after ``normalize_text``): 「対価の見直し」 -> 対価, 見直 (hiragana and symbols split
    runs). A match that does not depend on the dictionary's word boundaries: 「サービスの
    区分」 meets 「サービス区分」, 「納品時期」 meets 「納品」."""
    return [
        run[i : i + 2]
        for run in _BIGRAM_RUN.findall(normalize_text(text))
        for i in range(len(run) - 1)
    ]


class JapaneseTokenizer:
    """SudachiPy (sudachidict-core) tokenizer producing normalised content words.

    Two granularities are indexed: short units (mode A: 事業 / 者) and, for compounds,
    the long unit as well (mode C: 事業者), so both 「事業者」 and 「業者」-style
    questions meet the text. Old character forms (手續) are read as their modern form
    (手続) using the dictionary's own normalisation of single characters.

    Vocabulary bridging is general, not a word list: :meth:`synonym_forms` collects the
    corpus's words by SudachiDict synonym group (初期費用 / イニシャルコスト / 初期コスト
    share one), and :meth:`query_weights` adds a question word's group members found in
    the corpus at a lower weight.
    """

    def __init__(self) -> None:
        self._dictionary: Any = None
        self._modes: tuple[Any, Any] | None = None
        self._lock = threading.Lock()
        # A Sudachi Tokenizer refuses concurrent use ("already in use"): one per thread,
        # all sharing the one loaded dictionary.
        self._local = threading.local()
        self._char_forms: dict[str, str] = {}

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

    def _modern(self, text: str) -> str:
        """Old kanji forms replaced by the form Sudachi normalises them to (續 -> 続)."""
        tokenizer = self._load()
        out = []
        for char in text:
            if "\u3400" <= char <= "\u9fff" or "\uf900" <= char <= "\ufaff":
                form = self._char_forms.get(char)
                if form is None:
                    form = char
                    if not _is_common_kanji(char):
                        morphemes = tokenizer.tokenize(char)
                        if len(morphemes) == 1:
                            candidate = morphemes[0].normalized_form()
                            if len(candidate) == 1 and _is_common_kanji(candidate):
                                form = candidate
                    self._char_forms[char] = form
                char = form
            out.append(char)
        return "".join(out)

    def _morphemes(self, text: str) -> list[tuple[list[Any], list[Any]]]:
        """(short units, long units) of each piece of the normalised text."""
        tokenizer = self._load()
        assert self._modes is not None
        short_mode, long_mode = self._modes
        text = self._modern(normalize_text(text))
        # Sudachi refuses inputs over ~49 KB; passages are far shorter, but be safe.
        return [
            (
                list(tokenizer.tokenize(piece, short_mode)),
                list(tokenizer.tokenize(piece, long_mode)),
            )
            for piece in re.findall(r".{1,4000}", text, flags=re.DOTALL)
        ]

    @staticmethod
    def _is_content(morpheme: Any) -> bool:
        if morpheme.part_of_speech()[0] in _SKIP_POS:
            return False
        form = morpheme.normalized_form()
        return bool(form.strip()) and form not in _STOP

    def tokens(self, text: str) -> list[str]:
        """Normalised content tokens (no particles, auxiliaries or symbols)."""
        result: list[str] = []
        for short, long in self._morphemes(text):
            forms = [m.normalized_form() for m in short if self._is_content(m)]
            seen = set(forms)
            result.extend(forms)
            result.extend(
                m.normalized_form()
                for m in long
                if self._is_content(m)
                and len(m.normalized_form()) >= 3
                and m.normalized_form() not in seen
            )
        return result

    def content_words(self, text: str) -> list[str]:
        """The long-unit content words of ``text`` (a compound once; no pronouns,
        adnominals such as その, particles or light verbs): how much a question says."""
        words: list[str] = []
        for _short, long in self._morphemes(text):
            words.extend(
                m.normalized_form()
                for m in long
                if self._is_content(m) and m.part_of_speech()[0] not in ("代名詞", "連体詞")
            )
        return words

    def synonym_forms(self, texts: Sequence[str]) -> dict[int, frozenset[str]]:
        """SudachiDict synonym group id -> the normalised nouns of ``texts`` in that group."""
        groups: dict[int, set[str]] = {}
        for text in texts:
            for short, long in self._morphemes(text):
                for morpheme in (*short, *long):
                    ids = morpheme.synonym_group_ids()
                    if not ids or morpheme.part_of_speech()[0] not in _SYNONYM_POS:
                        continue
                    if not self._is_content(morpheme):
                        continue
                    for group in ids:
                        groups.setdefault(group, set()).add(morpheme.normalized_form())
        return {g: frozenset(f) for g, f in groups.items() if len(f) <= MAX_SYNONYM_FORMS}

    def query_weights(
        self,
        question: str,
        synonyms: dict[int, frozenset[str]] | None = None,
        *,
        synonym_weight: float = 0.5,
    ) -> dict[str, float]:
        """Weighted query terms: each word once, a compound's parts sharing its weight,
        and members of the word's synonym groups found in the corpus at a lower weight."""
        weights: dict[str, float] = {}

        def add(term: str, weight: float) -> None:
            weights[term] = max(weights.get(term, 0.0), weight)

        for short, long in self._morphemes(question):
            short_iter = [(m, m.begin(), m.end()) for m in short]
            for unit in long:
                parts = [m for m, b, e in short_iter if b >= unit.begin() and e <= unit.end()]
                content = [m for m in parts if self._is_content(m)]
                if not self._is_content(unit) and not content:
                    continue
                form = unit.normalized_form()
                if len(parts) <= 1 or len(form) < 3:
                    for m in content or [unit]:
                        add(m.normalized_form(), 1.0)
                else:
                    add(form, 0.5)
                    for m in content:
                        add(m.normalized_form(), 0.5)
                if synonyms:
                    for morpheme in (unit, *parts):
                        if morpheme.part_of_speech()[0] not in _SYNONYM_POS:
                            continue
                        for group in morpheme.synonym_group_ids():
                            for other in synonyms.get(group, ()):
                                if other != morpheme.normalized_form():
                                    add(other, synonym_weight)
        return weights


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
        return _idf(len(self.postings.get(term, ())), self.size)

    def scores(
        self, query_terms: Sequence[str] | dict[str, float], within: np.ndarray | None = None
    ) -> np.ndarray:
        """BM25 score of every document for the query terms (a list, or term -> weight).

        ``within`` (a boolean mask): only those documents are scored (0 elsewhere), each
        term weighted by its inverse document frequency among them."""
        scores = np.zeros(self.size, dtype=np.float32)
        size = self.size if within is None else int(within.sum())
        weighted = query_terms if isinstance(query_terms, dict) else Counter(query_terms)
        for term, query_count in weighted.items():
            postings = self.postings.get(term, [])
            if within is not None:
                postings = [(index, count) for index, count in postings if within[index]]
            if not postings:
                continue
            idf = _idf(len(postings), size)
            for index, count in postings:
                scores[index] += (
                    query_count * idf * count * (self.k1 + 1) / (count + self._norm[index])
                )
        return scores

    def top(self, query_terms: Sequence[str] | dict[str, float], k: int) -> list[tuple[int, float]]:
        """Indices and scores of the ``k`` best documents with a positive score."""
        return self.top_of(self.scores(query_terms), k)

    def top_of(self, scores: np.ndarray, k: int) -> list[tuple[int, float]]:
        """The ``k`` best of already computed ``scores`` with a positive score."""
        if not self.size:
            return []
        order = np.argsort(-scores)[:k]
        return [(int(i), float(scores[i])) for i in order if scores[i] > 0]


def _idf(frequency: int, size: int) -> float:
    """BM25's inverse document frequency of a term in ``frequency`` of ``size`` documents."""
    return math.log(1 + (size - frequency + 0.5) / (frequency + 0.5))
