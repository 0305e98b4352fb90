"""The 仕様書 checklist is data: every clause it cites is in the corpus, and a broken
checklist fails at load with a Japanese message."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest

from bot.settings import Settings
from knowledge.spec_review_checklist import (
    CHECKLIST_PATH,
    ChecklistError,
    ClauseCite,
    load_checklist,
)

CORPUS = Settings().docs_dir
CHECKLIST = load_checklist()


def squash(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def all_cites() -> list[tuple[str, ClauseCite]]:
    cites = [(f"item {i.id}", c) for i in CHECKLIST.items for c in i.cites]
    for check in CHECKLIST.checks.values():
        cites += [(f"check {check.id}", c) for c in (*check.cites, *check.critical_cites)]
    return cites


def test_the_checklist_has_the_fourteen_items_of_the_guideline_in_order() -> None:
    labels = [item.label for item in CHECKLIST.items]
    assert len(labels) == 14
    assert labels[4] == "実施期間" and labels[6] == "求められるサービス水準"
    assert [item.number for item in CHECKLIST.items] == list(range(1, 15))
    # each item cites its own numbered line of 【Ⅲ.調達】 1
    for item in CHECKLIST.items:
        assert item.cites[0].quote.startswith(f"{item.number}. {item.label}")


@pytest.mark.parametrize(("where", "cite"), all_cites(), ids=lambda v: v if isinstance(v, str) else "")
def test_every_quote_and_heading_is_in_the_cited_document(where: str, cite: ClauseCite) -> None:
    text = Path(CORPUS, cite.doc).read_text(encoding="utf-8")
    assert squash(cite.quote) in squash(text), f"{where}: quote not in {cite.doc}: {cite.quote}"
    headings = {squash(line.lstrip("#")) for line in text.splitlines() if line.startswith("#")}
    for part in cite.section.split(" > "):
        assert squash(part) in headings, f"{where}: no heading {part!r} in {cite.doc}"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "checklist.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def original() -> str:
    return CHECKLIST_PATH.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.replace("    evidence: period\n", "    evidence: dates\n"), "evidence は"),
        (lambda t: t.replace("  - id: place\n", "  - id: target\n"), "重複"),
        (lambda t: t.replace("doc: kisarazu-ict-guideline.md\n        section: 【Ⅲ.調達】 > 2",
                             "doc: kisarazu.md\n        section: 【Ⅲ.調達】 > 2", 1), "documents にありません"),
        (lambda t: t.replace("  security:\n", "  secure:\n"), "security がありません"),
        (lambda t: t.replace("    label: 実施場所\n", ""), "「label」を書いてください"),
        (lambda t: t + "\n  bad: [\n", "読めません"),
    ],
)
def test_a_broken_checklist_is_refused_in_japanese(tmp_path: Path, change, message: str) -> None:  # type: ignore[no-untyped-def]
    broken = change(original())
    assert broken != original()
    with pytest.raises(ChecklistError, match=re.escape(message)):
        load_checklist(write(tmp_path, broken))
