"""Two replicas end to end: ``soudan serve`` ×2 on one PostgreSQL database and one Chroma server.

Both processes are real (Slack HTTP mode against the mock Web API on 127.0.0.1), the
Chroma server is started by the test (``chroma run``), and ``soudan ingest`` runs as a
third process against the same stores. What must hold:

* an ingest elsewhere is answered by a running replica without a restart (the corpus
  version in the Chroma collection tells it to reload its passages and BM25 index);
* a Slack event posted to both replicas at once (the same event id, as a retry landing
  on the other replica does) is applied by exactly one: one stored event, one
  transcript message, one answer in the thread;
* a notice left in the outbox by a process that could not post it (``soudan review
  accept`` without a Slack token) is posted by the running replicas, once, also when
  Slack refuses the first attempt.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from sqlmodel import select

from bot.core.messages import Address, Text
from bot.core.outbox import Outbox
from storage import Database, InboxStatus, Message, MessageDirection, list_inbox_events
from storage import outbox as outbox_rows
from storage.outbox import OutboxStatus
from tests.chroma_server import running_chroma_server
from tests.fixtures_db import PostgresServer
from tests.recovery.server_process import ServerProcess, free_port, server_environment
from tests.slack.harness import BOT_TOKEN, SIGNING_SECRET, shown_messages
from tests.slack.mock_web_api import TEAM_ID, MockSlackApi
from tests.slack.slack_requests import SlackSender, dm, event_envelope

pytestmark = pytest.mark.postgres

TIME_LIMIT_SECONDS = 420.0  # about 80 s on an idle 2-core machine; generous for a busy one
FIRST = "# 1. 概要\n本要領は、庁内の複合機の調達について定める。\n"
SECOND = (
    "# 2. 保守\n"
    "保守事業者は、四半期ごとに点検報告書を所管課へ提出しなければならない。\n"
)
QUESTION = "保守事業者の点検報告書はいつ出すのですか？"
DOUBLE_DELIVERIES = 4
NOTICE = "相談シート 2026-0001 が CIO補佐に受理されました。"


@pytest.fixture
def shared_postgres(postgres_server: PostgresServer) -> Iterator[str]:
    """A migrated database of its own (the servers run as separate processes)."""
    name = f"soudan_replicas_{os.getpid()}_{time.monotonic_ns() % 10**8}"
    url = postgres_server.create(name)
    database = Database(url)
    database.upgrade()
    database.dispose()
    yield url
    postgres_server.drop(name)


@pytest.fixture
def chroma_url(tmp_path: Path) -> Iterator[str]:
    with running_chroma_server(tmp_path / "chroma", tmp_path / "chroma.log") as url:
        yield url


def _ingest(environment: dict[str, str], workdir: Path) -> str:
    """``soudan ingest`` as its own process against the shared stores; its output."""
    script = Path(sys.executable).with_name("soudan")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "bot.cli.main"]
    done = subprocess.run(
        [*command, "ingest"], env=environment, cwd=workdir, capture_output=True, text=True,
        timeout=180,
    )
    assert done.returncode == 0, f"soudan ingest failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


async def _answer(api: MockSlackApi, thread: str, timeout: float = 60.0) -> str:
    """The bot's final answer in ``thread`` (its placeholder replaced)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        shown = [m for m in shown_messages(api)
                 if m.thread_ts == thread and m.text != "確認しています…"]
        if shown:
            return "\n".join(m.body() for m in shown)
        await asyncio.sleep(0.2)
    raise AssertionError(f"no answer in thread {thread}")


async def test_two_serve_replicas_share_ingests_and_apply_a_delivery_once(
    tmp_path: Path, shared_postgres: str, chroma_url: str, capsys: pytest.CaptureFixture[str],
) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text(FIRST, encoding="utf-8")
    api = MockSlackApi()
    await api.start()
    shared = {
        "SOUDAN_DATABASE_URL": shared_postgres,
        "SOUDAN_CHROMA_URL": chroma_url,
        "SOUDAN_DOCS_DIR": str(docs),
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_BASE_URL": api.base_url,
        "SOUDAN_INBOX_POLL_SECONDS": "0.5",
        "SOUDAN_OUTBOX_POLL_SECONDS": "0.5",
        "SOUDAN_OUTBOX_RETRY_SECONDS": "1",
    }
    replicas = []
    for name in ("a", "b"):
        workdir = tmp_path / name
        workdir.mkdir()
        replicas.append(ServerProcess(
            server_environment(workdir / "data", **shared), workdir, free_port()))
    first, second = replicas
    database = Database(shared_postgres)
    ingest_seconds: list[float] = []
    try:
        async with asyncio.timeout(TIME_LIMIT_SECONDS), aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=30)
        ) as http:
            began = time.monotonic()
            await asyncio.to_thread(_ingest, first.environment, first.workdir)
            ingest_seconds.append(time.monotonic() - began)
            await asyncio.gather(first.start(timeout=120), second.start(timeout=120))
            senders = [SlackSender(f"{r.url}/slack/events", SIGNING_SECRET, http,
                                   clock=r.clock) for r in replicas]

            # Before: b.md is not in the index, so the second replica cannot answer.
            before = dm(QUESTION, ts="1700100000.000001")
            assert (await senders[1].event(event_envelope(before)))[0] == 200
            assert "四半期" not in await _answer(api, before["ts"])

            # An ingest by another process; the running replicas are not restarted.
            (docs / "b.md").write_text(SECOND, encoding="utf-8")
            began = time.monotonic()
            await asyncio.to_thread(_ingest, first.environment, first.workdir)
            ingest_seconds.append(time.monotonic() - began)
            for n, sender in enumerate(senders):
                after = dm(QUESTION, ts=f"1700100001.00000{n}")
                assert (await sender.event(event_envelope(after)))[0] == 200
                assert "四半期" in await _answer(api, after["ts"]), replicas[n].log_tail()

            # The same delivery posted to both replicas at the same moment.
            doubled = []
            for n in range(DOUBLE_DELIVERIES):
                event = dm(f"複合機の調達について教えてください（{n}）",
                           ts=f"1700100002.00000{n}")
                envelope = event_envelope(event, event_id=f"Ev-both-{n}")
                statuses = await asyncio.gather(*(s.event(envelope) for s in senders))
                assert [status for status, _ in statuses] == [200, 200]
                doubled.append(event)
            for event in doubled:
                await _answer(api, event["ts"])
            await asyncio.sleep(1.5)  # time for a wrong second answer to show up

            # A notice queued elsewhere; Slack refuses the first post.
            api.fail_next("chat.postMessage", status=503, error="service_unavailable")
            with database.session() as session:
                # Due by the servers' clock (the suite may run with its own clock moved).
                server_now = lambda: datetime.fromtimestamp(first.clock(), UTC)  # noqa: E731
                notice_id = Outbox(database, {}, now=server_now).enqueue(
                    session=session, address=Address("slack", TEAM_ID, "D200:1700000000.5", "U200"),
                    parts=[Text(NOTICE)], kind="review.accepted", subject="2026-0001")
            await api.wait_for(lambda mock: any(
                p.args.get("text") == NOTICE for p in mock.posts()), timeout=30)
            await asyncio.sleep(1.5)  # time for a second post to show up
            assert first.stop() == 0 and second.stop() == 0
    finally:
        first.stop()
        second.stop()
        await api.stop()

    with database.session() as session:
        events = {e.delivery_id: e for e in list_inbox_events(session=session, channel="slack")}
        inbound = session.exec(
            select(Message).where(Message.direction == MessageDirection.INBOUND)
        ).all()
        notice = outbox_rows.get_outbox_message(session=session, message_id=notice_id)
    database.dispose()
    assert [p.args["thread_ts"] for p in api.posts() if p.args.get("text") == NOTICE] == [
        "1700000000.5"]
    assert notice is not None and notice.status == OutboxStatus.SENT and notice.attempts == 2
    for n, event in enumerate(doubled):
        stored = events[f"Ev-both-{n}"]
        assert stored.status == InboxStatus.DONE
        assert [m.text for m in inbound].count(event["text"]) == 1
        answers = [m for m in shown_messages(api) if m.thread_ts == event["ts"]]
        assert len(answers) == 1, [m.text for m in answers]
        assert len([c for c in api.of("reactions.add")
                    if c.args.get("timestamp") == event["ts"]]) == 1
    with capsys.disabled():
        print(f"\n[two replicas] ingest by another process answered without restart; "
              f"{DOUBLE_DELIVERIES}/{DOUBLE_DELIVERIES} deliveries posted to both applied once; "
              f"a queued notice posted once after a refused attempt; "
              f"starts {first.start_seconds[0]:.1f} / {second.start_seconds[0]:.1f} s, "
              f"ingests {' / '.join(f'{s:.1f}' for s in ingest_seconds)} s")
