"""``soudan search --jsonl``, ``ask --jsonl`` and ``model build`` through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli.main import app
from knowledge.knowledge_base import KnowledgeBase


@pytest.fixture
def cli_env(
    monkeypatch: pytest.MonkeyPatch, workspace: Path, model_dir: Path, knowledge_base: KnowledgeBase
) -> Path:
    """Point the settings at the session's indexed workspace (already ingested)."""
    monkeypatch.setenv("SOUDAN_DATA_DIR", str(workspace / "data"))
    monkeypatch.setenv("SOUDAN_DOCS_DIR", str(workspace / "docs"))
    monkeypatch.setenv("SOUDAN_EMBEDDING_MODEL", str(model_dir))
    monkeypatch.setenv("SOUDAN_CHROMA_COLLECTION", knowledge_base.config.collection)
    return workspace


def test_search_jsonl_prints_one_line_per_question(cli_env: Path) -> None:
    questions = "RFI で事業者に回答を求める事項\n川崎市CIO補佐委託 成果物 納品期限\n"
    result = CliRunner().invoke(app, ["search", "--jsonl", "--top-k", "3"], input=questions)
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.output.splitlines() if line.strip()]
    assert [line["question"] for line in lines] == questions.splitlines()
    for line in lines:
        assert len(line["hits"]) == 3
        for hit in line["hits"]:
            assert set(hit) == {"doc", "title", "section", "text", "score"}
            assert hit["doc"].endswith(".md") and hit["text"]
        scores = [hit["score"] for hit in line["hits"]]
        assert scores == sorted(scores, reverse=True)
    assert lines[1]["hits"][0]["doc"] == "kawasaki-cio-support-spec.md"


def test_ask_jsonl_answers_and_abstains(cli_env: Path) -> None:
    result = CliRunner().invoke(
        app, ["ask", "--jsonl"], input="RFIで事業者へ回答を求める事項は？\n今日の天気は？\n"
    )
    assert result.exit_code == 0, result.output
    first, second = (json.loads(line) for line in result.output.splitlines() if line.strip())
    assert first["answered"] is True and "[1]" in first["answer"]
    assert set(first["citations"][0]) == {"doc", "title", "section", "text"}
    assert second == {
        "question": "今日の天気は？",
        "answered": False,
        "answer": second["answer"],
        "citations": [],
    }
    assert "記載が見当たりません" in second["answer"]


def test_model_build_is_idempotent(cli_env: Path) -> None:
    runner = CliRunner()
    first = runner.invoke(app, ["model", "build"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(app, ["model", "build"])
    assert second.exit_code == 0 and "作成済み" in second.output
    assert (cli_env / "data" / "models" / "multilingual-e5-small" / "model.safetensors").is_file()


def test_an_empty_index_says_the_documents_are_not_loaded(
    cli_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOUDAN_CHROMA_COLLECTION", "never-ingested")
    searched = CliRunner().invoke(app, ["search", "RFIとは？"])
    assert searched.exit_code == 1
    assert "読み込まれていない" in searched.output and "soudan ingest" in searched.output
    asked = CliRunner().invoke(app, ["ask", "RFIとは？"])
    assert "読み込まれていない" in asked.output
    assert "記載が見当たりません" not in asked.output
