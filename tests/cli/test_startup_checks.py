"""Operations: a malformed flow stops start-up with one Japanese line; ``/healthz`` and the
start-up log say when the knowledge index cannot answer (empty, other embedding model).

Before: one malformed flow file stopped ``soudan serve`` with a traceback, and an empty or
wrong index answered every question 「記載が見当たりません」 while ``/healthz`` said OK.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest
from aiohttp.test_utils import TestClient, TestServer
from typer.testing import CliRunner

from bot.cli.main import app
from bot.health import index_health, log_index_health
from bot.server import build_web_app
from bot.settings import Settings
from bot.wiring import Services, build_services
from flows.loader import DEFINITIONS_DIR
from knowledge.config import KnowledgeConfig
from knowledge.knowledge_base import KnowledgeBase
from knowledge.types import Passage
from knowledge.vector_index import StoredPassage

MODEL = "/opt/models/configured-model"

# --- malformed flow files ----------------------------------------------------------------


@pytest.fixture
def bad_flows(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    flows = tmp_path / "flows"
    flows.mkdir()
    for shipped in DEFINITIONS_DIR.glob("*.yaml"):
        (flows / shipped.name).write_text(shipped.read_text(encoding="utf-8"), encoding="utf-8")
    (flows / "broken.yaml").write_text("id: x\ntitle: !!python/object:os.system {}\n",
                                       encoding="utf-8")
    monkeypatch.setenv("SOUDAN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SOUDAN_FLOWS_DIR", str(flows))
    return flows


@pytest.mark.parametrize("command", [["serve"], ["start"], ["chat"]])
def test_a_malformed_flow_stops_start_up_with_one_japanese_line(
    bad_flows: Path, command: list[str]
) -> None:
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("起動できません: フロー定義に誤りがあります。")
    assert "broken.yaml" in lines[0] and "対応していないタグ" in lines[0]
    assert "Traceback" not in result.output


def test_deeply_nested_flow_stops_start_up_without_a_traceback(bad_flows: Path) -> None:
    (bad_flows / "broken.yaml").write_text("a: " + "[" * 5000 + "]" * 5000, encoding="utf-8")
    result = CliRunner().invoke(app, ["serve"])
    assert result.exit_code == 2
    assert "入れ子" in result.output and "broken.yaml" in result.output
    assert not isinstance(result.exception, RecursionError)


# --- the knowledge index: /healthz and the start-up log --------------------------------------


def _knowledge(tmp_path: Path, *, passages: int = 0, built_with: str | None = None) -> KnowledgeBase:
    knowledge = KnowledgeBase(
        KnowledgeConfig(docs_dir=tmp_path / "docs", chroma_path=tmp_path / "chroma",
                        embedding_model=MODEL)
    )
    if passages:
        stored = [
            StoredPassage(Passage(f"p{i}", "a.md", "題", "1", f"本文{i}"), "digest", "a.md")
            for i in range(passages)
        ]
        knowledge.store.add(stored, np.ones((passages, 4), dtype=np.float32))
    if built_with is not None:
        knowledge.store.set_embedding_model(built_with)
    return knowledge


def _services(tmp_path: Path, knowledge: KnowledgeBase) -> Services:
    settings = Settings(_env_file=None, data_dir=tmp_path / "data")  # type: ignore[call-arg]
    return build_services(settings, knowledge=knowledge)


async def _healthz(services: Services) -> tuple[int, dict[str, object]]:
    async with TestClient(TestServer(build_web_app(services))) as client:
        response = await client.get("/healthz")
        return response.status, await response.json()


async def test_healthz_is_degraded_when_the_index_is_empty(tmp_path: Path) -> None:
    services = _services(tmp_path, _knowledge(tmp_path))
    status, body = await _healthz(services)
    assert status == 200
    assert body["status"] == "degraded"
    assert body["reasons"] == [
        "knowledge index is empty; every question is answered as not found until "
        "`soudan ingest` has run"
    ]
    services.database.dispose()


async def test_healthz_is_degraded_when_built_with_another_model(tmp_path: Path) -> None:
    services = _services(tmp_path, _knowledge(tmp_path, passages=3, built_with="bundled:other"))
    status, body = await _healthz(services)
    assert status == 200 and body["status"] == "degraded"
    (reason,) = body["reasons"]  # type: ignore[misc]
    assert "'bundled:other'" in reason and repr(MODEL) in reason and "soudan ingest" in reason
    assert body["index"] == {"passages": 3, "embedding_model": "bundled:other",
                             "configured_embedding_model": MODEL}
    services.database.dispose()


async def test_healthz_is_ok_with_an_index_of_the_configured_model(tmp_path: Path) -> None:
    services = _services(tmp_path, _knowledge(tmp_path, passages=2, built_with=MODEL))
    status, body = await _healthz(services)
    assert status == 200 and body["status"] == "ok" and "reasons" not in body
    services.database.dispose()


def test_an_unrecorded_model_is_not_called_wrong(tmp_path: Path) -> None:
    health = index_health(_knowledge(tmp_path, passages=1))
    assert health is not None and health.problem is None and health.built_with is None


def test_start_up_log_says_why_in_one_english_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="bot.health"):
        log_index_health(_knowledge(tmp_path))
    (record,) = [r for r in caplog.records if r.name == "bot.health"]
    line = record.getMessage()
    assert line.startswith("degraded: knowledge index is empty")
    assert "\n" not in line and line.isascii()


async def test_the_server_logs_the_reason_at_start_up(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    services = _services(tmp_path, _knowledge(tmp_path, passages=1, built_with="bundled:other"))
    with caplog.at_level(logging.WARNING, logger="bot.health"):
        async with TestClient(TestServer(build_web_app(services))):
            pass
    messages = [r.getMessage() for r in caplog.records if r.name == "bot.health"]
    assert len(messages) == 1 and "built with embedding model 'bundled:other'" in messages[0]
    services.database.dispose()


def test_a_fake_answerer_is_not_checked() -> None:
    assert index_health(object()) is None
