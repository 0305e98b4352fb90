"""Citations in the shipped flows cannot rot: every quote is in the cited document.

Compared after NFKC normalisation and whitespace removal, as the corpus files are PDF
conversions whose spacing is not meaningful.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
import yaml

from bot.settings import Settings
from flows import Cite, FlowDefinition, load_flows

CORPUS = Settings().docs_dir
CATALOG = CORPUS.parent / "corpus.yaml"


def squash(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def all_cites(flow: FlowDefinition) -> list[tuple[str, Cite]]:
    cites = [(f"step {s.id}", c) for s in flow.steps for c in s.cites]
    cites += [(f"outcome {o.name}", c) for o in flow.outcomes for c in o.cites]
    return cites


SHIPPED = load_flows()
CITES = [(flow.id, where, cite) for flow in SHIPPED.values() for where, cite in all_cites(flow)]


def test_the_shipped_flows_cite_something() -> None:
    assert len(CITES) >= 10


@pytest.mark.parametrize(("flow_id", "where", "cite"), CITES)
def test_quote_occurs_in_the_cited_document(flow_id: str, where: str, cite: Cite) -> None:
    document = Path(CORPUS, cite.doc)
    assert document.is_file(), f"{flow_id} {where}: {cite.doc} is not in {CORPUS}"
    assert cite.quote, f"{flow_id} {where}: every citation carries a quote"
    assert squash(cite.quote) in squash(document.read_text(encoding="utf-8")), (
        f"{flow_id} {where}: quote not found in {cite.doc}: {cite.quote}"
    )


@pytest.mark.parametrize(("flow_id", "where", "cite"), CITES)
def test_section_path_names_headings_of_the_document(flow_id: str, where: str, cite: Cite) -> None:
    text = Path(CORPUS, cite.doc).read_text(encoding="utf-8")
    headings = {squash(line.lstrip("#")) for line in text.splitlines() if line.startswith("#")}
    for part in cite.section.split(" > "):
        assert squash(part) in headings, f"{flow_id} {where}: no heading {part!r} in {cite.doc}"


def test_document_titles_match_the_corpus_catalog() -> None:
    catalog = yaml.safe_load(CATALOG.read_text(encoding="utf-8"))["documents"]
    for flow in SHIPPED.values():
        for doc, title in flow.documents.items():
            assert catalog[doc]["title"] == title, (flow.id, doc)


def test_an_altered_quote_would_be_caught() -> None:
    document = Path(CORPUS, "kisarazu-ict-guideline.md").read_text(encoding="utf-8")
    genuine = "新規 ICT ツール導入に係るイニシャルコスト部分の設計額が 300 万円以上のもの"
    assert squash(genuine) in squash(document)
    assert squash(genuine.replace("300", "500")) not in squash(document)
