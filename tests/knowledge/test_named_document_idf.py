"""A question naming a municipality weighs its words by how rare they are inside the named
documents (``NAMED_DOCUMENT_IDF``): a document's own subject is on every one of its pages."""

from __future__ import annotations

import numpy as np
import pytest

from knowledge.knowledge_base import KnowledgeBase
from knowledge.late_interaction import LateInteraction, TokenVectors
from knowledge.lexical import BM25Index
from knowledge.retriever import NAMED_DOCUMENT_IDF


def _tokens(ids: list[int], vectors: list[list[float]]) -> TokenVectors:
    array = np.asarray(vectors, dtype=np.float32)
    array /= np.linalg.norm(array, axis=1, keepdims=True)
    return TokenVectors(np.asarray(ids, dtype=np.int32), array)


def test_bm25_within_counts_document_frequency_among_the_given_documents_only() -> None:
    # 「補佐」 is in both passages of document A (0, 1) and nowhere else; 「期間」 only in 1.
    documents = [["補佐", "助言"], ["補佐", "期間"], ["協議"], ["費用"], ["研修"], ["会議"]]
    index = BM25Index(documents)
    within = np.array([True, True, False, False, False, False])
    question = ["補佐", "期間"]
    everywhere = index.scores(question)
    inside = index.scores(question, within)
    # Over the corpus 「補佐」 (df 2 of 6) still weighs much; inside A it is on every page
    # and weighs least, so 「期間」 decides.
    assert inside[1] / inside[0] > everywhere[1] / everywhere[0]
    assert inside[2:].tolist() == [0.0] * 4


def test_late_interaction_weighs_question_tokens_within_the_named_passages() -> None:
    subject, period, advice, other = 1, 2, 3, 4
    passages = {
        0: _tokens([subject, advice], [[1, 0, 0, 0], [0, 0, 1, 0]]),
        1: _tokens([subject, period], [[1, 0, 0, 0], [0, 1, 0, 0]]),
        2: _tokens([other], [[0, 0, 0, 1]]),
        3: _tokens([other], [[0, 0, 0, 1]]),
        4: _tokens([other], [[0, 0, 0, 1]]),
    }
    late = LateInteraction(passages)
    # the question asks about the subject (strongly) and the period (weakly)
    question = _tokens([subject, subject, period], [[1, 0, 0, 0], [1, 0, 0, 0], [0.3, 1, 0, 0]])
    named = frozenset({0, 1})
    plain = late.scores_all(question)
    inside = late.scores_all(question, within=named)
    assert inside[1] - inside[0] > plain[1] - plain[0] > 0
    assert inside[2:].tolist() == pytest.approx(plain[2:].tolist())  # others unchanged
    # scoring chosen positions agrees with scoring them all
    assert late.scores(question, [0, 1, 2], within=named) == pytest.approx(
        inside[:3].tolist(), abs=1e-3
    )


def test_named_document_question_reaches_the_clause_not_the_preamble(
    corpus_knowledge: KnowledgeBase,
) -> None:
    search = corpus_knowledge.hybrid
    question = "川崎市のCIO補佐の委託って、期間はいつからいつまで？"

    def rank(on: bool) -> int:
        sections = [
            h.passage.section
            for h in search.rank(question, top_k=len(search.passages), named_document_idf=on).hits
        ]
        return next(i for i, s in enumerate(sections) if s.endswith("委託期間"))

    assert NAMED_DOCUMENT_IDF
    assert rank(True) < rank(False)
    assert rank(True) < 5


def test_a_question_naming_no_municipality_is_ranked_as_before(
    corpus_knowledge: KnowledgeBase,
) -> None:
    search = corpus_knowledge.hybrid
    question = "RFIはどんなときに実施する？"
    on = search.rank(question, top_k=10, named_document_idf=True).hits
    off = search.rank(question, top_k=10, named_document_idf=False).hits
    assert [(h.passage.id, h.score) for h in on] == [(h.passage.id, h.score) for h in off]
