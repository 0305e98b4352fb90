"""Flow versions in the database: a flow change published by one process reaches every
replica within a few seconds, without a restart (SQLite and PostgreSQL)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli.main import app
from bot.core.assistant import Assistant
from bot.core.flow_catalog import CHECK_SECONDS, FlowCatalog, FlowFiles
from bot.core.messages import Inbound, Part, Text
from flows.loader import DEFINITIONS_DIR
from knowledge import Answer
from storage import Database
from storage import versions as shared

REVISED = "【改訂】"


@dataclass
class FakeMonotonic:
    at: float = 1000.0

    def __call__(self) -> float:
        return self.at


class NoKnowledge:
    def answer(self, question: str, *, history: tuple[str, ...] = ()) -> Answer:
        raise AssertionError("no guideline question in these tests")


def shipped() -> FlowFiles:
    return FlowFiles.read(DEFINITIONS_DIR)


def revised(files: FlowFiles) -> FlowFiles:
    """The shipped files with the first question of ict_adoption reworded."""
    flow = files.load()["ict_adoption"]
    prompt = flow.step(flow.start).prompt
    source = files.files[flow.source]
    assert source.count(prompt) == 1, "the test needs the first prompt on one line"
    return FlowFiles({**files.files, flow.source: source.replace(prompt, REVISED + prompt)})


def _texts(parts: list[Part]) -> str:
    return "\n".join(p.text for p in parts if isinstance(p, Text))


def test_a_published_change_reaches_another_replica_within_the_check_interval(
    database: Database,
) -> None:
    clock = FakeMonotonic()
    replica_a = FlowCatalog(database, shipped(), clock=clock)
    assert replica_a.publish(by="a") is True
    replica_b = FlowCatalog(database, shipped(), clock=clock)
    assert replica_b.publish(by="b") is False  # same files: nothing changes
    old = replica_b.current()
    assert REVISED not in old["ict_adoption"].step(old["ict_adoption"].start).prompt

    publisher = FlowCatalog(database, revised(shipped()), clock=clock)
    assert publisher.publish(by="cli") is True
    clock.at += CHECK_SECONDS - 0.1
    assert replica_b.current() is old  # read at most every few seconds
    clock.at += 0.1
    for replica in (replica_a, replica_b):
        flows = replica.current()
        assert flows["ict_adoption"].step(flows["ict_adoption"].start).prompt.startswith(REVISED)
        assert replica.digest == publisher.digest
    assert replica_b.current() is flows  # unchanged since: the same mapping, nothing reloaded


def test_stored_flows_that_do_not_validate_are_refused_and_the_running_ones_kept(
    database: Database, caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeMonotonic()
    replica = FlowCatalog(database, shipped(), clock=clock)
    running = replica.current()
    with database.session() as session:
        shared.publish_shared_version(session=session, name="flows", digest="broken",
                                      content={"x.yaml": "id: x\nsteps: [\n"})
    clock.at += CHECK_SECONDS
    with caplog.at_level(logging.ERROR, logger="bot.core.flow_catalog"):
        assert replica.current() is running
    assert "do not validate" in caplog.text


def test_a_running_assistant_asks_the_revised_question_after_a_publish_elsewhere(
    database: Database,
) -> None:
    clock = FakeMonotonic()
    catalog = FlowCatalog(database, shipped(), clock=clock)
    catalog.publish()
    assistant = Assistant(database=database, knowledge=NoKnowledge(), flows=catalog.current(),
                          titles={}, flow_source=catalog.current)

    def first_question(conversation: str) -> str:
        """Start a consultation (the first time the department is asked before Q1)."""
        shown = _texts(assistant.handle(
            Inbound("terminal", "local", conversation, "u1", text="相談を始める")))
        if "所属課" in shown:
            shown = _texts(assistant.handle(
                Inbound("terminal", "local", conversation, "u1", text="情報政策課")))
        return next(line for line in shown.splitlines() if line.startswith("Q1."))

    assert REVISED not in first_question("c1")
    FlowCatalog(database, revised(shipped()), clock=clock).publish(by="another replica")
    clock.at += CHECK_SECONDS
    assert first_question("c2").startswith(f"Q1. {REVISED}")


def test_soudan_flow_publish_validates_then_publishes(
    cli_database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    flows_dir = tmp_path / "flows"
    flows_dir.mkdir()
    for name, text in revised(shipped()).files.items():
        (flows_dir / name).write_text(text, encoding="utf-8")
    monkeypatch.setenv("SOUDAN_FLOWS_DIR", str(flows_dir))

    first = CliRunner().invoke(app, ["flow", "publish"])
    assert first.exit_code == 0, first.output
    assert "を登録しました" in first.output
    assert "登録済みのフローと同じです" in CliRunner().invoke(app, ["flow", "publish"]).output

    (flows_dir / "broken.yaml").write_text("id: broken\nsteps: [\n", encoding="utf-8")
    refused = CliRunner().invoke(app, ["flow", "publish"])
    assert refused.exit_code == 2 and "broken.yaml" in refused.output
    with cli_database.session() as session:
        stored = shared.get_shared_version(session=session, name="flows")
    assert stored is not None and "broken.yaml" not in (stored.content or {})
    assert stored.digest == revised(shipped()).digest
