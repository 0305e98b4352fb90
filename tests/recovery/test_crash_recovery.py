"""Nothing acknowledged is lost: ``soudan serve`` SIGKILLed at random points of consultations.

A real server process (SQLite file, Slack HTTP mode against the mock Web API on
127.0.0.1; Teams anonymous mode against the mock Bot Connector) is fed a consultation
turn by turn over HTTP (without waiting for the answers, so turns queue up) and
killed at seeded random moments: while a request is in flight, right after the ack,
while the answers are being prepared or after, after a reply was posted but before
its 👀 came off, and again while a restarted server is recovering. It is restarted on
the same data each time, and a request that got no answer is delivered again with
the same delivery id, as Slack and the Bot Connector do.

Every acknowledged (HTTP 200) message must be applied exactly once and in order: the
transcript of each consultation holds each answer once, each consultation has one
flow session, completed, and one submitted 相談シート; every 👀 is removed; replies
land in their conversation. The figure is printed, e.g. ``29/29``.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlmodel import col, select

from storage import (
    ConsultationSheet,
    Database,
    FlowSession,
    FlowStatus,
    InboxStatus,
    Message,
    MessageDirection,
    SheetStatus,
    list_inbox_events,
)
from tests.recovery.server_process import ServerProcess, free_port, server_environment
from tests.slack.harness import BOT_TOKEN, SIGNING_SECRET
from tests.slack.mock_web_api import MockSlackApi
from tests.slack.slack_requests import SlackSender, dm, event_envelope
from tests.teams.activities import PERSONAL_CONVERSATION, message
from tests.teams.connector import ConnectorCall, MockConnector
from tests.teams.teams_user import shown_text

pytestmark = pytest.mark.chaos

SEED = 20261202
TIME_LIMIT_SECONDS = 85.0
START = "相談を始める"

# Two consultations of the ICT-adoption flow; every answer differs from the others of
# its consultation, so that a lost or doubled turn shows in the transcript.
CONSULTATION_1 = (
    START, "情報政策課", "住民票の窓口交付（予約制の導入）",
    "待ち時間が長く、繁忙期は窓口が混雑している", "はい", "オンライン予約システムと呼出表示の導入",
    "500万円", "年額30万円", "いいえ", "該当しません", "なし", "不足しています", "あります",
    "既存の住民記録システムとの連携方法が不明", "扱います", "確定",
)
CONSULTATION_2 = (
    START, "保育所入所申請の受付・審査", "紙の申請書の入力作業に時間がかかっている", "いいえ",
    "来年度に申請様式を見直す予定", "AI-OCR による申請書の読み取り", "120万円", "なし", "はい",
    "整理済み", "特にない", "扱わない", "確定",
)
BUSINESS = {1: CONSULTATION_1[2], 2: CONSULTATION_2[1]}

DURING_REQUEST = "during the request"
RIGHT_AFTER_ACK = "right after the ack"
WHILE_ANSWERING = "while answering"
BEFORE_CLEANUP = "reply posted, turn not yet closed"
TWICE = "while answering, then again during recovery"


@dataclass(frozen=True)
class Turn:
    consultation: int
    text: str
    index: int


@dataclass
class Chaos:
    """Delivers turns to the server and kills it where the seeded plan says."""

    server: ServerProcess
    rng: random.Random
    hold: Callable[[], Awaitable[None]] | None = None
    """Set up a held call to the mock and wait until the server is stuck in it (mode
    :data:`BEFORE_CLEANUP`); released by :attr:`release` after the kill."""
    release: Callable[[], None] | None = None
    redeliveries: int = 0
    modes: list[str] = field(default_factory=list)

    async def restart(self) -> None:
        await self.server.start()

    async def deliver(self, send: Callable[[int], Awaitable[int]], mode: str | None) -> None:
        """Send until the server answers 200; kill it around that as ``mode`` says."""
        if mode is not None:
            self.modes.append(mode)
        holding: asyncio.Task[None] | None = None
        if mode == BEFORE_CLEANUP and self.hold is not None:
            holding = asyncio.create_task(self.hold())
        attempt = 0
        while True:
            killer: asyncio.Task[None] | None = None
            if mode == DURING_REQUEST and attempt == 0:
                killer = asyncio.create_task(self._kill_after(self.rng.uniform(0.0, 0.015)))
            try:
                status: int | None = await send(attempt)
            except (aiohttp.ClientError, TimeoutError):
                status = None  # the process died under the request: not acknowledged
            if mode == RIGHT_AFTER_ACK and status == 200:
                self.server.kill()  # no await since the 200: the turn cannot have finished
                await self.restart()
            if killer is not None:
                await killer
                await self.restart()
            if status == 200:
                break
            attempt += 1
            self.redeliveries += 1
            assert attempt <= 5, f"never acknowledged:\n{self.server.log_tail()}"
            await asyncio.sleep(0.05)
        if mode in (WHILE_ANSWERING, TWICE):
            # Within 0.3 s: while this turn (or the queue before it) is answered, or after.
            await self._kill_after(self.rng.uniform(0.0, 0.3))
            await self.restart()
        if mode == TWICE:
            await self._kill_after(self.rng.uniform(0.0, 0.4))
            await self.restart()
        if holding is not None:
            await asyncio.wait_for(holding, 20)
            self.server.kill()
            assert self.release is not None
            self.release()
            await self.restart()

    async def _kill_after(self, delay: float) -> None:
        await asyncio.sleep(delay)
        self.server.kill()


def plan(rng: random.Random, turns: int, modes: list[str]) -> dict[int, str]:
    """Which turn gets which kill (never the first: its thread must exist)."""
    chosen = sorted(rng.sample(range(1, turns), len(modes)))
    shuffled = modes[:]
    rng.shuffle(shuffled)
    return dict(zip(chosen, shuffled, strict=True))


async def wait_until_settled(database: Database, channel: str, rows: int,
                             server: ServerProcess, timeout: float = 30.0) -> None:
    """Until the server has finished every stored event of ``channel``."""
    deadline = time.monotonic() + timeout
    while True:
        with database.session() as session:
            events = list_inbox_events(session=session, channel=channel)
        if len(events) >= rows and all(
            e.status in (InboxStatus.DONE, InboxStatus.FAILED) for e in events
        ):
            return
        if time.monotonic() > deadline:
            states = [(e.delivery_id, e.status, e.attempts) for e in events]
            raise AssertionError(f"not settled: {states}\n{server.log_tail()}")
        await asyncio.sleep(0.2)


def applied_once(database: Database, channel: str, conversations: dict[int, str],
                 turns: list[Turn]) -> tuple[int, dict[int, list[str]]]:
    """How many turns left exactly one trace, and each consultation's transcript.

    A typed answer leaves one inbound transcript message in its consultation's
    conversation; 「相談を始める」 leaves one flow session there.
    """
    with database.session() as session:
        inbound = session.exec(
            select(Message)
            .where(Message.channel == channel, Message.direction == MessageDirection.INBOUND)
            .order_by(col(Message.created_at))
        ).all()
        flow_sessions = session.exec(select(FlowSession).where(FlowSession.channel == channel)).all()
    transcripts = {
        n: [m.text for m in inbound if m.conversation == conversation]
        for n, conversation in conversations.items()
    }
    once = 0
    for turn in turns:
        conversation = conversations[turn.consultation]
        if turn.text == START:
            traces = sum(1 for s in flow_sessions if s.conversation == conversation)
        else:
            traces = transcripts[turn.consultation].count(turn.text)
        once += traces == 1
    return once, transcripts


def check_consultations(database: Database, channel: str,
                        conversations: dict[int, str]) -> None:
    with database.session() as session:
        flow_sessions = session.exec(select(FlowSession).where(FlowSession.channel == channel)).all()
        sheets = session.exec(
            select(ConsultationSheet).where(ConsultationSheet.channel == channel)
        ).all()
        events = list_inbox_events(session=session, channel=channel)
    assert sorted((s.conversation, s.status) for s in flow_sessions) == sorted(
        (c, FlowStatus.COMPLETED) for c in conversations.values())
    assert sorted((s.conversation, s.status, s.business) for s in sheets) == sorted(
        (c, SheetStatus.SUBMITTED, BUSINESS[n]) for n, c in conversations.items())
    assert {e.status for e in events} == {InboxStatus.DONE}
    assert all(e.payload is None and e.reply is None for e in events)  # no user text kept


@contextlib.asynccontextmanager
async def time_limit(seconds: float) -> AsyncIterator[None]:
    async with asyncio.timeout(seconds):
        yield


# --- Slack ---------------------------------------------------------------------------------


@dataclass
class HoldingSlackApi(MockSlackApi):
    """The mock Web API, able to hold one call of a method until released."""

    hold_method: str | None = None
    held: asyncio.Event = field(default_factory=asyncio.Event)
    released: asyncio.Event = field(default_factory=asyncio.Event)

    async def _api(self, request: web.Request) -> web.Response:
        if self.hold_method is not None and request.match_info["method"] == self.hold_method:
            self.hold_method = None
            self.held.set()
            await self.released.wait()  # the server is killed meanwhile
            return web.json_response({"ok": False, "error": "fatal_error"})
        return await super()._api(request)

    async def hold(self, method: str) -> None:
        self.held.clear()
        self.released.clear()
        self.hold_method = method
        await self.held.wait()


async def test_slack_acknowledged_messages_survive_sigkill_exactly_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api = HoldingSlackApi()
    await api.start()
    server = ServerProcess(
        server_environment(
            tmp_path / "data",
            SLACK_BOT_TOKEN=BOT_TOKEN,
            SLACK_SIGNING_SECRET=SIGNING_SECRET,
            SLACK_API_BASE_URL=api.base_url,
            SOUDAN_INBOX_LEASE_SECONDS="2",
            SOUDAN_INBOX_POLL_SECONDS="0.5",
        ),
        tmp_path,
        free_port(),
    )
    rng = random.Random(SEED)
    roots = {1: "1700001000.000001", 2: "1700002000.000001"}
    conversations = {n: f"D100:{ts}" for n, ts in roots.items()}
    turns = [Turn(1, t, i) for i, t in enumerate(CONSULTATION_1)] + [
        Turn(2, t, len(CONSULTATION_1) + i) for i, t in enumerate(CONSULTATION_2)]
    kills = plan(rng, len(turns), [DURING_REQUEST, RIGHT_AFTER_ACK, WHILE_ANSWERING,
                                   BEFORE_CLEANUP, TWICE])
    chaos = Chaos(server, rng, hold=lambda: api.hold("reactions.remove"),
                  release=api.released.set)
    acknowledged = 0
    database = Database(f"sqlite:///{tmp_path / 'data' / 'soudan.db'}")
    connector = aiohttp.TCPConnector(force_close=True)
    try:
        async with time_limit(TIME_LIMIT_SECONDS), aiohttp.ClientSession(
            connector=connector, timeout=aiohttp.ClientTimeout(total=10)
        ) as http:
            await server.start()
            sender = SlackSender(f"{server.url}/slack/events", SIGNING_SECRET, http,
                                 clock=server.clock)
            for turn in turns:
                root = roots[turn.consultation]
                ts = root if turn.text == START else f"{root[:-6]}{turn.index + 1:06d}"
                event = dm(turn.text, ts=ts, thread_ts=None if turn.text == START else root)
                envelope = event_envelope(event, event_id=f"Ev-crash-{turn.index:03d}")

                async def send(attempt: int, envelope: dict[str, Any] = envelope) -> int:
                    status, _ = await sender.event(envelope, retry_num=attempt or None)
                    return status

                await chaos.deliver(send, kills.get(turn.index))
                acknowledged += 1
            await wait_until_settled(database, "slack", len(turns), server)
            assert server.stop() == 0
    finally:
        server.stop()
        api.released.set()
        await api.stop()

    once, transcripts = applied_once(database, "slack", conversations, turns)
    with database.session() as session:
        events = list_inbox_events(session=session, channel="slack")
    recovered = sum(1 for e in events if e.attempts > 1)
    with capsys.disabled():
        print(f"\n[crash recovery] Slack: acknowledged messages applied exactly once: "
              f"{once}/{acknowledged} ({server.kills} SIGKILLs: {' / '.join(chaos.modes)}; "
              f"{chaos.redeliveries} redelivered; {recovered} turns taken over after a crash; "
              f"starts took {', '.join(f'{s:.1f}' for s in server.start_seconds)} s)")

    assert once == acknowledged == len(turns), server.log_tail()
    assert transcripts == {1: list(CONSULTATION_1[1:]), 2: list(CONSULTATION_2[1:])}
    check_consultations(database, "slack", conversations)
    assert recovered >= 2  # a kill right after an ack, and one before the 👀 came off
    # Every 👀 came off, also those of turns finished by another process.
    assert api.reactions == set()
    added = {c.args["timestamp"] for c in api.of("reactions.add") if c.result.get("ok")}
    removed = {c.args["timestamp"] for c in api.of("reactions.remove") if c.result.get("ok")}
    assert added and added <= removed
    # Replies, recovered ones included, went to the consultation's own thread.
    posts = api.posts()
    assert {(p.args["channel"], p.args.get("thread_ts")) for p in posts} <= {
        ("D100", root) for root in roots.values()}
    for root in roots.values():
        assert any("CIO補佐に提出しました" in str(p.args.get("text"))
                   for p in posts if p.args.get("thread_ts") == root)
    database.dispose()


# --- Teams ---------------------------------------------------------------------------------


class HoldingConnector(MockConnector):
    """The mock Bot Connector, able to hold the bot's next reply until released."""

    def __init__(self) -> None:
        super().__init__()
        self._hold = False
        self.held = threading.Event()
        self.released = threading.Event()

    def start(self) -> None:
        super().start()
        assert self._server is not None
        # Answering a killed bot fails with a broken pipe: expected here, not worth a traceback.
        self._server.handle_error = lambda request, client_address: None  # type: ignore[method-assign]

    def record(self, call: ConnectorCall) -> None:
        if self._hold and call.type == "message":
            self._hold = False
            self.held.set()
            self.released.wait(30)  # the bot is killed meanwhile
        super().record(call)

    async def hold(self) -> None:
        self.held.clear()
        self.released.clear()
        self._hold = True
        assert await asyncio.to_thread(self.held.wait, 20)


async def test_teams_acknowledged_messages_survive_sigkill_exactly_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    connector = HoldingConnector()
    connector.start()
    server = ServerProcess(
        server_environment(
            tmp_path / "data",
            SOUDAN_TEAMS_ALLOW_ANONYMOUS="true",
            SOUDAN_INBOX_LEASE_SECONDS="2",
            SOUDAN_INBOX_POLL_SECONDS="0.5",
        ),
        tmp_path,
        free_port(),
    )
    rng = random.Random(SEED + 1)
    turns = [Turn(1, t, i) for i, t in enumerate(CONSULTATION_1)]
    kills = plan(rng, len(turns), [RIGHT_AFTER_ACK, BEFORE_CLEANUP])
    chaos = Chaos(server, rng, hold=connector.hold, release=connector.released.set)
    conversations = {1: PERSONAL_CONVERSATION}
    acknowledged = 0
    database = Database(f"sqlite:///{tmp_path / 'data' / 'soudan.db'}")
    try:
        async with time_limit(TIME_LIMIT_SECONDS), aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(force_close=True),
            timeout=aiohttp.ClientTimeout(total=10),
        ) as http:
            await server.start()
            for turn in turns:
                activity = message(connector.service_url, turn.text,
                                   activity_id=f"1700{turn.index:09d}")

                async def send(attempt: int, activity: dict[str, Any] = activity) -> int:
                    async with http.post(f"{server.url}/api/messages", json=activity) as reply:
                        await reply.read()
                        return reply.status

                await chaos.deliver(send, kills.get(turn.index))
                acknowledged += 1
            await wait_until_settled(database, "teams", len(turns), server)
            assert server.stop() == 0
    finally:
        server.stop()
        connector.released.set()
        connector.stop()

    once, transcripts = applied_once(database, "teams", conversations, turns)
    with database.session() as session:
        recovered = sum(1 for e in list_inbox_events(session=session, channel="teams")
                        if e.attempts > 1)
    with capsys.disabled():
        print(f"\n[crash recovery] Teams: acknowledged messages applied exactly once: "
              f"{once}/{acknowledged} ({server.kills} SIGKILLs: {' / '.join(chaos.modes)}; "
              f"{chaos.redeliveries} redelivered; {recovered} turns taken over after a crash; "
              f"starts took {', '.join(f'{s:.1f}' for s in server.start_seconds)} s)")

    assert once == acknowledged == len(turns), server.log_tail()
    assert transcripts == {1: list(CONSULTATION_1[1:])}
    check_consultations(database, "teams", conversations)
    assert recovered >= 1  # at least the reply held while the bot was killed, posted again
    replies = connector.messages()
    assert {r.conversation for r in replies} == {PERSONAL_CONVERSATION}
    assert "CIO補佐に提出しました" in shown_text(replies)
    database.dispose()
