"""The character-bigram score of the second stage: matches that do not hang on Sudachi's
word boundaries."""

from __future__ import annotations

from collections import Counter

import pytest

from knowledge.knowledge_base import KnowledgeBase
from knowledge.lexical import character_bigrams
from knowledge.retriever import BIGRAM_WEIGHT


def test_bigrams_come_from_kanji_katakana_and_latin_runs_only() -> None:
    assert character_bigrams("サービスの区分（Ｓ Ｌ Ａ）です") == [
        "サー", "ービ", "ビス", "区分", "sl", "la",
    ]
    # hiragana and symbols break runs; a lone character makes no bigram
    assert character_bigrams("これは本です。") == []


def test_the_second_stage_adds_the_weighted_bigram_score(knowledge_base: KnowledgeBase) -> None:
    search = knowledge_base.hybrid
    question = "甲府市の対価の見直しは何年度？"
    size = len(search.passages)
    with_bigrams = {h.passage.id: h.score for h in search.rank(question, top_k=size).hits}
    without = {
        h.passage.id: h.score for h in search.rank(question, top_k=size, bigram_weight=0.0).hits
    }
    bigram = search.bigrams.scores(Counter(character_bigrams(question)))
    bigram = bigram / bigram.max()
    assert BIGRAM_WEIGHT > 0 and with_bigrams != without
    for pid, score in with_bigrams.items():
        expected = without[pid] + BIGRAM_WEIGHT * float(bigram[search.by_id[pid]])
        assert score == pytest.approx(expected, abs=2e-4)
