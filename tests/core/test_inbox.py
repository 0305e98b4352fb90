"""The durable inbox's worker (bot.core.inbox) on SQLite and PostgreSQL.

Channels are replaced by a recording courier; the core is the real ``Assistant`` where
exactly-once matters for what it stores, a small receipt-honouring core elsewhere.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlmodel import select

import storage
from bot.core.assistant import Assistant, TurnReceipt
from bot.core.codec import (
    CodecError,
    inbound_from_json,
    inbound_to_json,
    parts_from_json,
    parts_to_json,
)
from bot.core.inbox import Envelope, Inbox, InboxTurn, Outcome
from bot.core.messages import (
    Action,
    Choice,
    Choices,
    Citation,
    CitationList,
    FeedbackRequest,
    Form,
    FormField,
    Inbound,
    Part,
    SheetSummary,
    Text,
)
from bot.settings import Settings
from flows import load_flows
from storage import Database, InboxStatus
from tests.teams.fakes import GuidelineExcerpts


def _inbound(text: str, delivery: str, conversation: str = "D1:1") -> Inbound:
    return Inbound(channel="slack", tenant="T1", conversation=conversation, user_id="U1",
                   text=text, inbound_id=delivery)


class Recorder:
    """A courier that applies each turn and keeps what it would have shown."""

    def __init__(self, *, fail_first: int = 0) -> None:
        self.shown: list[tuple[str | None, int, Outcome | None, list[Part]]] = []
        self._fail_first = fail_first

    async def run(self, turn: InboxTurn) -> None:
        if self._fail_first > 0:
            self._fail_first -= 1
            raise ConnectionError("the channel is down before anything was applied")
        try:
            parts = await turn.apply()
        except RuntimeError:
            parts = [Text("エラーが発生しました")]
        self.shown.append((turn.inbound.text, turn.attempt, turn.outcome, parts))


class EchoCore:
    """Applies a turn once through its receipt and remembers the order it saw them in."""

    def __init__(self, database: Database, *, delay: float = 0.0, fail: bool = False) -> None:
        self.database = database
        self.delay = delay
        self.fail = fail
        self.applied: list[tuple[str, str | None]] = []
        self.inside = 0
        self.most_at_once = 0
        self._lock = threading.Lock()

    def handle(self, inbound: Inbound, *, receipt: TurnReceipt | None = None) -> list[Part]:
        if self.fail:
            raise RuntimeError("the core failed")
        with self._lock:
            self.inside += 1
            self.most_at_once = max(self.most_at_once, self.inside)
        try:
            time.sleep(self.delay)
            with self.database.session() as session:
                assert receipt is not None
                if not receipt.claim(session):
                    return []
                parts: list[Part] = [Text(f"受け付けました: {inbound.text}")]
                receipt.record(session, parts)
                with self._lock:
                    self.applied.append((inbound.conversation, inbound.text))
                return parts
        finally:
            with self._lock:
                self.inside -= 1


def _inbox(database: Database, core: object, courier: Recorder, **kwargs: object) -> Inbox:
    return Inbox(database=database, core=core, channel="slack", courier=courier,  # type: ignore[arg-type]
                 poll_seconds=0.1, **kwargs)  # type: ignore[arg-type]


def _events(database: Database) -> list[storage.InboxEvent]:
    with database.session() as session:
        return storage.list_inbox_events(session=session)


@pytest.fixture
def assistant_for() -> Callable[[Database], Assistant]:
    def build(database: Database) -> Assistant:
        settings = Settings(_env_file=None)  # type: ignore[call-arg]
        return Assistant(database=database, knowledge=GuidelineExcerpts(),
                         flows=load_flows(settings.flows_dir), titles={})
    return build


async def test_an_event_delivered_three_times_is_stored_once_and_applied_once(
    database: Database, assistant_for: Callable[[Database], Assistant],
) -> None:
    assistant = assistant_for(database)
    courier = Recorder()
    inbox = _inbox(database, assistant, courier)
    envelope = Envelope(_inbound("相談を始める", "Ev1"))

    assert [await inbox.accept(envelope) for _ in range(3)] == [True, False, False]
    await inbox.drain()
    await inbox.stop()

    [(text, attempt, outcome, parts)] = courier.shown
    assert (text, attempt, outcome) == ("相談を始める", 1, Outcome.APPLIED)
    assert any(isinstance(p, Text) and "相談を始めます" in p.text for p in parts)
    with database.session() as session:
        assert len(session.exec(select(storage.FlowSession)).all()) == 1
    [event] = _events(database)
    assert (event.status, event.payload, event.reply) == (InboxStatus.DONE, None, None)


async def test_events_a_crashed_worker_left_are_taken_over_when_a_worker_starts(
    database: Database, assistant_for: Callable[[Database], Assistant],
) -> None:
    dead = _inbox(database, assistant_for(database), Recorder())
    await dead.accept(Envelope(_inbound("相談を始める", "Ev1")))  # accepted, then the crash:
    with database.session() as session:  # its worker had claimed it and died
        storage.claim_inbox_events(session=session, owner="dead", lease=timedelta(seconds=0.2),
                                   channels=["slack"])
    await dead.stop()
    await asyncio.sleep(0.3)

    courier = Recorder()
    fresh = _inbox(database, assistant_for(database), courier, lease_seconds=0.2)
    await fresh.start()
    await fresh.drain()
    await fresh.stop()

    [(text, attempt, outcome, _)] = courier.shown
    assert (text, attempt, outcome) == ("相談を始める", 2, Outcome.APPLIED)
    assert [e.status for e in _events(database)] == [InboxStatus.DONE]


async def test_a_turn_applied_before_the_crash_is_not_applied_again_only_answered(
    database: Database, assistant_for: Callable[[Database], Assistant],
) -> None:
    assistant = assistant_for(database)
    dead = _inbox(database, assistant, Recorder(), lease_seconds=0.2)
    await dead.accept(Envelope(_inbound("相談を始める", "Ev1")))
    with database.session() as session:
        [event] = storage.claim_inbox_events(session=session, owner=dead.owner,
                                             lease=timedelta(seconds=0.2), channels=["slack"])
    # The dead worker applied the turn (and died before it could post the reply).
    turn = InboxTurn(dead, event, inbound_from_json(event.payload["inbound"]), {})  # type: ignore[index]
    applied_parts = await turn.apply()
    assert turn.outcome is Outcome.APPLIED
    await dead.stop()
    await asyncio.sleep(0.3)

    courier = Recorder()
    fresh = _inbox(database, assistant, courier, lease_seconds=0.2)
    await fresh.drain()

    [(_, attempt, outcome, parts)] = courier.shown
    assert (attempt, outcome) == (2, Outcome.REPLAYED)
    assert parts == applied_parts
    with database.session() as session:
        [flow_session] = session.exec(select(storage.FlowSession)).all()
    assert flow_session.version == 1  # started once, never stepped again


async def test_a_conversation_is_answered_in_arrival_order_and_others_alongside(
    database: Database,
) -> None:
    core = EchoCore(database, delay=0.05)
    courier = Recorder()
    inbox = _inbox(database, core, courier)
    for n in range(4):
        for conversation in ("A", "B", "C"):
            await inbox.accept(Envelope(_inbound(f"{conversation}{n}", f"{conversation}-{n}",
                                                 conversation)))
    await inbox.drain()
    await inbox.stop()

    for conversation in ("A", "B", "C"):
        assert [t for c, t in core.applied if c == conversation] == [
            f"{conversation}{n}" for n in range(4)]
    assert core.most_at_once > 1  # different conversations do not wait for each other


async def test_two_replicas_share_the_stored_events_and_apply_each_once(
    database: Database,
) -> None:
    other_database = Database(database.url.render_as_string(hide_password=False))
    core_a, core_b = EchoCore(database, delay=0.01), EchoCore(other_database, delay=0.01)
    inbox_a = _inbox(database, core_a, Recorder(), owner="replica-a")
    inbox_b = _inbox(other_database, core_b, Recorder(), owner="replica-b")
    for n in range(24):
        envelope = Envelope(_inbound(f"m{n}", f"Ev{n}", f"C{n % 6}"))
        # A redelivery may reach the other replica.
        await inbox_a.accept(envelope)
        await inbox_b.accept(envelope)

    await asyncio.gather(inbox_a.drain(), inbox_b.drain())
    await asyncio.gather(inbox_a.stop(), inbox_b.stop())
    other_database.dispose()

    applied = core_a.applied + core_b.applied
    assert sorted(t for _, t in applied) == sorted(f"m{n}" for n in range(24))
    assert len(_events(database)) == 24
    assert {e.status for e in _events(database)} == {InboxStatus.DONE}


async def test_a_refused_turn_is_closed_as_failed_and_a_channel_failure_is_retried(
    database: Database,
) -> None:
    refused = Recorder()
    inbox = _inbox(database, EchoCore(database, fail=True), refused)
    await inbox.accept(Envelope(_inbound("壊れる", "Ev1")))
    await inbox.drain()
    assert [(t, o) for t, _, o, _ in refused.shown] == [("壊れる", Outcome.REFUSED)]
    assert [e.status for e in _events(database)] == [InboxStatus.FAILED]
    await inbox.stop()

    flaky = Recorder(fail_first=1)
    core = EchoCore(database)
    inbox = _inbox(database, core, flaky)
    await inbox.accept(Envelope(_inbound("届く", "Ev2")))
    await inbox.drain()
    await inbox.stop()
    assert [(t, a, o) for t, a, o, _ in flaky.shown] == [("届く", 2, Outcome.APPLIED)]
    assert core.applied == [("D1:1", "届く")]


async def test_the_worker_started_with_the_server_picks_up_what_was_stored(
    database: Database,
) -> None:
    core = EchoCore(database)
    courier = Recorder()
    inbox = _inbox(database, core, courier)
    inbox.store(Envelope(_inbound("前のプロセスが受け付けた", "Ev1")))  # before the loop runs

    await inbox.start()
    deadline = time.monotonic() + 10
    while not courier.shown and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    await inbox.stop()

    assert [t for t, _, _, _ in courier.shown] == ["前のプロセスが受け付けた"]


def test_inbound_and_parts_survive_json() -> None:
    inbound = Inbound(
        channel="teams", tenant="t", conversation="c", user_id="u", user_name="山田",
        action=Action("flow.answer", "yes", "s1:q1"), form={"type": "x", "business": "窓口"},
        inbound_id="a1", home_tenant="other",
    )
    assert inbound_from_json(inbound_to_json(inbound)) == inbound
    parts: list[Part] = [
        Text("回答"),
        Choices("次へ", (Choice("はい", Action("flow.answer", "yes", "s1:q1"), "primary"),)),
        CitationList((Citation("g.md", "ガイドライン", "【Ⅰ】 > 3", "引用"),)),
        Form("確認", (FormField("business", "業務", "窓口", multiline=True),),
             Action("flow.submit", "s1"), reopen=Action("flow.show_form", "s1")),
        SheetSummary("s1", "2026-0001", "下書き", (("業務", "窓口"),)),
        FeedbackRequest("m1"),
    ]
    assert parts_from_json(parts_to_json(parts)) == parts
    with pytest.raises(CodecError):
        parts_from_json([{"part": "Popen", "data": {}}])
    with pytest.raises(CodecError):
        inbound_from_json({"channel": "slack"})


def test_a_field_chooser_survives_the_inbox_json() -> None:
    from bot.core.codec import parts_from_json, parts_to_json

    chooser = Form("修正する項目を選ぶ", (FormField("business", "業務", "窓口"),),
                   Action("flow.submit", "s1", "s1:confirm"),
                   pick=Action("flow.edit_field", "", "s1:confirm"))
    assert parts_from_json(parts_to_json([chooser])) == [chooser]


class Thief(Recorder):
    """A courier whose row another worker takes over (its lease ran out) before the turn."""

    def __init__(self, database: Database) -> None:
        super().__init__()
        self.database = database

    async def run(self, turn: InboxTurn) -> None:
        with self.database.session() as session:
            row = session.get(storage.InboxEvent, turn.event_id)
            assert row is not None
            row.lease_owner = "another-worker"
            session.add(row)
        await super().run(turn)


async def test_a_turn_whose_row_another_worker_took_is_lost_not_applied_or_shown(
    database: Database,
) -> None:
    courier = Thief(database)
    core = EchoCore(database)
    inbox = _inbox(database, core, courier)
    await inbox.accept(Envelope(_inbound("取られる", "Ev1")))
    await inbox.drain()
    await inbox.stop()
    assert [(t, o, p) for t, _, o, p in courier.shown] == [("取られる", Outcome.LOST, [])]
    assert core.applied == []
    [event] = _events(database)
    assert (event.status, event.lease_owner) == (InboxStatus.PROCESSING, "another-worker")


class RollingBackCore(EchoCore):
    """Claims, then fails inside the transaction and answers with an error message, as
    the real core does (its transaction, the claim with it, is rolled back)."""

    def handle(self, inbound: Inbound, *, receipt: TurnReceipt | None = None) -> list[Part]:
        try:
            with self.database.session() as session:
                assert receipt is not None and receipt.claim(session)
                raise ValueError("the turn failed after its claim")
        except ValueError:
            return [Text("エラーが発生しました")]


async def test_a_turn_rolled_back_after_its_claim_is_refused_not_applied(
    database: Database,
) -> None:
    courier = Recorder()
    inbox = _inbox(database, RollingBackCore(database), courier)
    await inbox.accept(Envelope(_inbound("戻される", "Ev1")))
    await inbox.drain()
    await inbox.stop()
    assert [(t, o) for t, _, o, _ in courier.shown] == [("戻される", Outcome.REFUSED)]
    [event] = _events(database)
    assert event.status == InboxStatus.FAILED
    assert event.reply is None
