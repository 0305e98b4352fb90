"""The second stage (late interaction): token vectors, their store, scoring and re-ranking."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from knowledge.embedder import TextEmbedder
from knowledge.knowledge_base import KnowledgeBase
from knowledge.late_interaction import LateInteraction, TokenVectors, TokenVectorStore
from knowledge.retriever import CANDIDATES


def _tokens(ids: list[int], vectors: list[list[float]]) -> TokenVectors:
    array = np.asarray(vectors, dtype=np.float32)
    array /= np.linalg.norm(array, axis=1, keepdims=True)
    return TokenVectors(np.asarray(ids, dtype=np.int32), array)


def test_token_vectors_leave_out_the_prompt_and_special_tokens(embedder: TextEmbedder) -> None:
    text = "DX推進本部で協議が必要になるのはいくら以上？"
    pooled, tokens = embedder.encode_with_tokens([text], "query")
    tokenizer = embedder._load().tokenizer
    pieces = tokenizer.convert_ids_to_tokens(tokens[0].ids.tolist())
    assert "".join(pieces).replace("▁", "") == text.replace("？", "?")
    assert tokenizer.cls_token not in pieces and "query" not in "".join(pieces)
    norms = np.linalg.norm(tokens[0].vectors, axis=1)
    assert np.allclose(norms, 1.0, atol=1e-4)
    # The pooled vector is the one the first stage uses.
    assert np.allclose(pooled[0], embedder.embed_query(text), atol=1e-5)


def test_passages_encoded_in_one_batch_match_their_pooled_vectors(embedder: TextEmbedder) -> None:
    texts = ["短い節", "イニシャルコストが300万円以上の新規ICTツール導入は協議の対象とする。" * 3]
    pooled, tokens = embedder.encode_with_tokens(texts, "passage")
    assert np.allclose(pooled, embedder.embed_passages(texts), atol=1e-5)
    assert len(tokens[1].ids) > len(tokens[0].ids) > 0


def test_store_round_trips_prunes_and_survives_a_damaged_file(tmp_path: Path) -> None:
    store = TokenVectorStore(tmp_path, "bundled:multilingual-e5-small")
    tokens = _tokens([5, 7], [[1.0, 0.0], [0.0, 1.0]])
    store.put("abc-1", tokens)
    store.put("abc-2", tokens)
    loaded = store.get("abc-1")
    assert loaded is not None and loaded.ids.tolist() == [5, 7]
    assert loaded.vectors.dtype == np.float16
    store.prune(["abc-2"])
    assert store.get("abc-1") is None and store.get("abc-2") is not None
    (store.directory / "abc-2.npz").write_bytes(b"not a numpy file")
    assert store.get("abc-2") is None
    # Another model's vectors live apart and never answer for this one.
    assert TokenVectorStore(tmp_path, "another-model").get("abc-2") is None


def test_rare_question_tokens_count_more_than_common_ones() -> None:
    common, rare_a, rare_b = 1, 2, 3
    # token 1 is in every passage; token 2 only in passage 0, token 3 only in passage 1
    passages = {
        0: _tokens([common, rare_a], [[1, 0, 0], [0, 1, 0]]),
        1: _tokens([common, rare_b], [[1, 0, 0], [0, 0, 1]]),
        2: _tokens([common], [[1, 0, 0]]),
    }
    late = LateInteraction(passages)
    assert late.idf(rare_a) > late.idf(common) >= 0
    question = _tokens([common, rare_a], [[1, 0, 0], [0, 1, 0]])
    scores = late.scores(question, [0, 1, 2])
    assert scores[0] == pytest.approx(1.0)
    assert scores[0] > scores[1] == pytest.approx(scores[2])
    assert late.scores(question, [9]) == [0.0]  # a passage without vectors
    packed = late.scores_all(question)  # one product over every passage gives the same
    assert packed.tolist() == pytest.approx(scores, abs=1e-3)


def test_packed_scoring_marks_passages_without_vectors() -> None:
    passages = {0: _tokens([1], [[1, 0, 0]]), 2: _tokens([2], [[0, 1, 0]])}
    late = LateInteraction(passages)
    question = _tokens([2], [[0, 1, 0]])
    scores = late.scores_all(question, block_rows=1)  # blocks smaller than a passage
    assert scores[2] == pytest.approx(1.0) and scores[0] == pytest.approx(0.0)
    assert math.isnan(scores[1])


def test_ingest_keeps_token_vectors_for_every_passage(knowledge_base: KnowledgeBase) -> None:
    passages = knowledge_base.hybrid.passages
    store = knowledge_base.token_store
    assert all(store.get(item.passage.id) is not None for item in passages)
    late = knowledge_base.hybrid.late
    assert late is not None and all(late.covers(i) for i in range(len(passages)))


def test_second_stage_scores_every_passage_and_is_deterministic(
    knowledge_base: KnowledgeBase,
) -> None:
    search = knowledge_base.hybrid
    question = "新しいシステムの初期費用が高いときは、どこかに協議しないといけない？"
    first = [h.passage.id for h in search.rank(question, top_k=CANDIDATES, second_stage=False).hits]
    everything = len(search.passages)
    second = [h.passage.id for h in search.rank(question, top_k=everything).hits]
    assert len(second) == everything  # every passage is scored, not only the candidates
    assert second == [h.passage.id for h in search.rank(question, top_k=everything).hits]
    assert second[:CANDIDATES] != first  # the second stage has a say


def test_missing_token_vectors_are_encoded_again_on_reload(
    knowledge_base: KnowledgeBase,
) -> None:
    search = knowledge_base.hybrid
    store = knowledge_base.token_store
    victim = search.passages[0].passage.id
    before = store.get(victim)
    assert before is not None
    path = next(store.directory.glob(f"{victim}.npz"))
    path.unlink()
    search.reload()
    after = store.get(victim)
    assert after is not None and after.ids.tolist() == before.ids.tolist()


def test_without_a_directory_the_store_keeps_vectors_in_memory() -> None:
    store = TokenVectorStore(None, "bundled:multilingual-e5-small")
    store.put("abc-1", _tokens([5], [[1.0, 0.0]]))
    store.put("abc-2", _tokens([6], [[0.0, 1.0]]))
    store.prune(["abc-2"])
    assert store.get("abc-1") is None
    kept = store.get("abc-2")
    assert kept is not None and kept.ids.tolist() == [6]


def test_streamed_build_reads_vectors_one_passage_at_a_time() -> None:
    vectors = {0: [[1.0, 0, 0]], 1: [[0, 1.0, 0], [0, 0, 1.0]], 2: [[0, 1.0, 0]]}
    tokens = {p: _tokens(list(range(10 * p, 10 * p + len(v))), v) for p, v in vectors.items()}
    asked: list[int] = []

    def read(position: int) -> np.ndarray | None:
        asked.append(position)
        return None if position == 2 else tokens[position].vectors  # 2: file gone meanwhile

    late = LateInteraction.streamed({p: t.ids for p, t in tokens.items()}, read)
    assert asked == [0, 1, 2]
    question = _tokens([10], [[0, 1.0, 0]])
    scores = late.scores_all(question)
    assert scores[1] == pytest.approx(1.0) and scores[0] == pytest.approx(0.0)
    assert math.isnan(scores[2]) and not late.covers(2)
    assert late.scores(question, [0, 1]) == pytest.approx([0.0, 1.0], abs=1e-3)
