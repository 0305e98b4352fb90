"""Retrieval with the real model on dev questions, the LangChain retriever, answers and abstain."""

from __future__ import annotations

import json

import pytest
from langchain_core.retrievers import BaseRetriever

from knowledge.chunking import normalize_for_match
from knowledge.knowledge_base import KnowledgeBase

from .conftest import INDEXED_DOCS, SHARED

DEV_IDS = ("q002", "q012", "q019", "q023", "q088", "q091", "q094")


def _dev_questions() -> list[dict[str, object]]:
    rows = [
        json.loads(line)
        for line in (SHARED / "eval" / "questions.dev.jsonl").read_text("utf-8").splitlines()
    ]
    return [row for row in rows if row["id"] in DEV_IDS and row["doc"] in INDEXED_DOCS]


@pytest.mark.parametrize("row", _dev_questions(), ids=lambda row: str(row["id"]))
def test_dev_question_finds_its_evidence_in_the_top_five(
    knowledge_base: KnowledgeBase, row: dict[str, object]
) -> None:
    hits = knowledge_base.search(str(row["question"]), top_k=5)
    evidence = [normalize_for_match(str(e)) for e in row["evidence"]]  # type: ignore[attr-defined]
    assert any(e in normalize_for_match(h.passage.text) for h in hits for e in evidence)


def test_langchain_retriever_returns_cited_documents(knowledge_base: KnowledgeBase) -> None:
    retriever = knowledge_base.retriever(k=3)
    assert isinstance(retriever, BaseRetriever)
    documents = retriever.invoke("RFI で事業者に回答を求める事項")
    assert len(documents) == 3
    assert documents[0].metadata["doc"] == "kisarazu-ict-guideline.md"
    assert "（1）情報提供招請（RFI）を行う場合" in documents[0].metadata["section"]


def test_answer_quotes_the_clause_and_cites_it(knowledge_base: KnowledgeBase) -> None:
    answer = knowledge_base.answer("DX推進本部会議で協議が必要になるのはどんな場合ですか？")
    assert answer.answered
    assert "300" in answer.text and "[1]" in answer.text
    assert answer.citations[0].section == "【Ⅰ. 検討】 > 3. ICT 活用に関する協議"
    assert answer.citations[0].title == "木更津市 ICT活用ガイドライン（案）"


def test_a_short_off_topic_question_after_a_guideline_question_is_not_a_follow_up(
    knowledge_base: KnowledgeBase,
) -> None:
    earlier = ["DX推進本部会議での協議が必要になるのはどんなとき？"]
    assert knowledge_base.contextual_query("今日の天気は？", earlier) == "今日の天気は？"
    assert not knowledge_base.answer("今日の天気は？", history=earlier).answered
    assert knowledge_base.contextual_query("予算は？", earlier).startswith(earlier[0])


@pytest.mark.parametrize(
    "question", ["今日の天気は？", "庁舎の食堂のメニューは？", "おすすめのラーメン屋を教えて"]
)
def test_off_topic_question_abstains(knowledge_base: KnowledgeBase, question: str) -> None:
    answer = knowledge_base.answer(question)
    assert not answer.answered
    assert "記載が見当たりません" in answer.text and "CIO補佐" in answer.text
    assert answer.citations == ()


def test_follow_up_uses_the_thread(knowledge_base: KnowledgeBase) -> None:
    alone = knowledge_base.contextual_query("それはいくらから？", [])
    assert alone == "それはいくらから？"
    answer = knowledge_base.answer(
        "それはいくらから？", history=["DX推進本部会議での協議が必要になるのはどんなとき？"]
    )
    assert answer.answered
    assert "300" in answer.text
