"""The committed evaluation sets stay usable: ids unique, every question in the half the
fixed rule puts it in, and every evidence string found in the corpus (a typo there would
count a right answer as a miss)."""

from __future__ import annotations

import hashlib
import json

from knowledge.chunking import normalize_for_match
from knowledge.evaluation import EVALSETS, load_split
from tests.knowledge.conftest import CORPUS


def _rows(name: str) -> list[dict[str, object]]:
    lines = (EVALSETS / name).read_text("utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def test_every_question_is_in_the_half_the_fixed_rule_gives() -> None:
    split = load_split()
    rows = _rows("staff.jsonl") + _rows("nearmiss.jsonl")
    ids = [str(row["id"]) for row in rows]
    assert len(ids) == len(set(ids))
    assert not split["tune"] & split["check"]
    for qid in ids:
        even = int(hashlib.sha256(qid.encode()).hexdigest(), 16) % 2 == 0
        assert qid in (split["tune"] if even else split["check"]), qid


def test_every_evidence_string_is_in_the_corpus() -> None:
    corpus = {p.name: normalize_for_match(p.read_text("utf-8")) for p in CORPUS.glob("*.md")}
    for row in _rows("staff.jsonl"):
        evidence = row["evidence"]
        assert isinstance(evidence, list) and evidence, row["id"]
        for text in evidence:
            found = [name for name, body in corpus.items() if normalize_for_match(text) in body]
            assert found, (row["id"], text)
            assert row.get("doc") in found, (row["id"], row.get("doc"), found)
    for row in _rows("nearmiss.jsonl"):
        assert row["evidence"] == [], row["id"]
