"""The durable inbox's storage contract, on SQLite and PostgreSQL; leases across two workers."""

from __future__ import annotations

import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from storage import (
    Database,
    InboxEvent,
    InboxStatus,
    accept_applied_inbox_event,
    accept_inbox_event,
    apply_inbox_event,
    claim_inbox_events,
    finish_inbox_event,
    forget_inbox_events,
    get_inbox_event,
    inbox_lane_clear,
    list_inbox_events,
    lost_write_race,
    record_inbox_reply,
    release_inbox_event,
    renew_inbox_leases,
    update_inbox_payload,
)

T0 = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)


def _accept(database: Database, delivery: str, conversation: str = "D1:1", *,
            channel: str = "slack", tenant: str = "T1", at: datetime = T0) -> bool:
    with database.session() as session:
        return accept_inbox_event(
            session=session, channel=channel, tenant=tenant, conversation=conversation,
            delivery_id=delivery, payload={"inbound": {"text": f"text of {delivery}"}}, now=at,
        )


def _claim(database: Database, owner: str, *, at: datetime = T0, limit: int = 8,
           channels: tuple[str, ...] = ("slack",), max_attempts: int = 5) -> list[InboxEvent]:
    with database.session() as session:
        return claim_inbox_events(session=session, owner=owner, lease=LEASE, channels=channels,
                                  limit=limit, max_attempts=max_attempts, now=at)


def _deliveries(events: list[InboxEvent]) -> list[str]:
    return [event.delivery_id for event in events]


def _row(database: Database, event_id: int | None) -> InboxEvent:
    assert event_id is not None
    with database.session() as session:
        row = get_inbox_event(session=session, event_id=event_id)
    assert row is not None
    return row


def _apply(database: Database, event: InboxEvent, owner: str, reply: list[object]) -> bool:
    assert event.id is not None
    with database.session() as session:
        if not apply_inbox_event(session=session, event_id=event.id, owner=owner, now=T0):
            return False
        record_inbox_reply(session=session, event_id=event.id, reply=reply)
        return True


def _finish(database: Database, event: InboxEvent, owner: str,
            status: InboxStatus = InboxStatus.DONE) -> bool:
    assert event.id is not None
    with database.session() as session:
        return finish_inbox_event(session=session, event_id=event.id, owner=owner,
                                  status=status, now=T0)


def test_a_redelivered_event_adds_no_second_row(database: Database) -> None:
    assert _accept(database, "Ev1") is True
    assert _accept(database, "Ev1") is False
    assert _accept(database, "Ev1", tenant="T2") is True  # another workspace's id space
    assert _accept(database, "Ev1", channel="teams") is True

    with database.session() as session:
        rows = list_inbox_events(session=session)
    assert [(r.channel, r.tenant, r.delivery_id, r.status) for r in rows] == [
        ("slack", "T1", "Ev1", InboxStatus.PENDING),
        ("slack", "T2", "Ev1", InboxStatus.PENDING),
        ("teams", "T1", "Ev1", InboxStatus.PENDING),
    ]
    assert rows[0].payload == {"inbound": {"text": "text of Ev1"}}
    assert rows[0].received_at == T0
    assert rows[0].attempts == 0


def test_a_claim_leases_rows_that_no_other_worker_gets_until_the_lease_expires(
    database: Database,
) -> None:
    _accept(database, "Ev1", "D1:1")
    _accept(database, "Ev2", "D2:1")

    first = _claim(database, "worker-a")
    assert _deliveries(first) == ["Ev1", "Ev2"]
    assert {(e.status, e.lease_owner, e.attempts) for e in first} == {
        (InboxStatus.PROCESSING, "worker-a", 1)
    }
    assert first[0].lease_until == T0 + LEASE

    assert _claim(database, "worker-b", at=T0 + LEASE - timedelta(seconds=1)) == []
    taken_over = _claim(database, "worker-b", at=T0 + LEASE + timedelta(seconds=1))
    assert _deliveries(taken_over) == ["Ev1", "Ev2"]
    assert {(e.lease_owner, e.attempts) for e in taken_over} == {("worker-b", 2)}
    # The first worker lost the rows: it can neither apply nor finish them.
    assert _apply(database, first[0], "worker-a", []) is False
    assert _finish(database, first[0], "worker-a") is False


def test_only_the_channels_a_worker_serves_are_claimed(database: Database) -> None:
    _accept(database, "Ev1", channel="slack")
    _accept(database, "a1", channel="teams")

    assert _deliveries(_claim(database, "w", channels=("teams",))) == ["a1"]
    assert _deliveries(_claim(database, "w", channels=("slack", "teams"))) == ["Ev1"]


def test_a_conversation_is_processed_one_row_at_a_time_in_arrival_order(
    database: Database,
) -> None:
    for delivery, conversation in (("a1", "A"), ("a2", "A"), ("b1", "B"), ("a3", "A")):
        _accept(database, delivery, conversation)

    first = _claim(database, "w")
    assert _deliveries(first) == ["a1", "b1"]
    assert _claim(database, "w") == []  # a2 waits for a1, although it is pending

    a1 = first[0]
    assert _apply(database, a1, "w", [{"part": "Text", "data": {"text": "ok"}}])
    assert _claim(database, "w") == []  # applied but not yet answered: a2 still waits
    assert _finish(database, a1, "w")
    [a2] = _claim(database, "w")
    assert a2.delivery_id == "a2"
    assert _finish(database, a2, "w", InboxStatus.FAILED)  # a failed row does not block either
    assert _deliveries(_claim(database, "w")) == ["a3"]


def test_applying_happens_once_and_only_inside_a_committed_turn(database: Database) -> None:
    _accept(database, "Ev1")
    [event] = _claim(database, "w")
    assert event.id is not None

    with pytest.raises(RuntimeError), database.session() as session:
        assert apply_inbox_event(session=session, event_id=event.id, owner="w", now=T0)
        raise RuntimeError("the turn failed: its changes and the mark roll back together")
    assert _row(database, event.id).status == InboxStatus.PROCESSING

    reply = [{"part": "Text", "data": {"text": "回答"}}]
    assert _apply(database, event, "w", reply) is True
    assert _apply(database, event, "w", reply) is False  # never twice
    row = _row(database, event.id)
    assert (row.status, row.reply, row.applied_at) == (InboxStatus.APPLIED, reply, T0)


def test_an_applied_row_taken_over_keeps_its_reply_for_the_next_worker(
    database: Database,
) -> None:
    _accept(database, "Ev1")
    [event] = _claim(database, "dead-worker")
    _apply(database, event, "dead-worker", [{"part": "Text", "data": {"text": "回答"}}])

    [again] = _claim(database, "w", at=T0 + 2 * LEASE)
    assert (again.status, again.lease_owner, again.attempts) == (InboxStatus.APPLIED, "w", 2)
    assert again.reply == [{"part": "Text", "data": {"text": "回答"}}]
    assert _apply(database, again, "w", []) is False  # the turn is not applied again
    assert _finish(database, again, "w")


def test_finishing_erases_the_users_text_and_keeps_the_key_for_redeliveries(
    database: Database,
) -> None:
    _accept(database, "Ev1")
    [event] = _claim(database, "w")
    _apply(database, event, "w", [{"part": "Text", "data": {"text": "回答"}}])

    assert _finish(database, event, "w") is True
    row = _row(database, event.id)
    assert (row.status, row.payload, row.reply, row.lease_owner, row.lease_until) == (
        InboxStatus.DONE, None, None, None, None)
    assert row.finished_at == T0
    assert _finish(database, event, "w") is False
    assert _accept(database, "Ev1") is False
    assert _claim(database, "w", at=T0 + 10 * LEASE) == []
    with pytest.raises(ValueError):
        _finish(database, event, "w", InboxStatus.PENDING)


def test_the_payload_can_be_updated_by_the_lease_holder_only(database: Database) -> None:
    _accept(database, "Ev1")
    [event] = _claim(database, "w")
    assert event.id is not None
    with database.session() as session:
        assert update_inbox_payload(session=session, event_id=event.id, owner="other",
                                    payload={"x": 1}) is False
        assert update_inbox_payload(session=session, event_id=event.id, owner="w",
                                    payload={"x": 2}) is True
    assert _row(database, event.id).payload == {"x": 2}


def test_a_released_row_is_pending_again_and_a_row_failing_every_attempt_is_given_up(
    database: Database,
) -> None:
    _accept(database, "Ev1")
    for attempt in range(1, 4):
        [event] = _claim(database, "w", max_attempts=3)
        assert event.attempts == attempt
        assert event.id is not None
        with database.session() as session:
            assert release_inbox_event(session=session, event_id=event.id, owner="w")
        assert _row(database, event.id).status == InboxStatus.PENDING

    assert _claim(database, "w", max_attempts=3) == []
    row = _row(database, event.id)
    assert (row.status, row.payload) == (InboxStatus.FAILED, None)


def test_a_heartbeat_extends_only_the_leases_still_held(database: Database) -> None:
    _accept(database, "Ev1", "A")
    [first] = _claim(database, "w")
    _accept(database, "Ev2", "B")
    [second] = _claim(database, "other")
    assert first.id is not None and second.id is not None

    later = T0 + timedelta(seconds=10)
    with database.session() as session:
        renewed = renew_inbox_leases(session=session, event_ids=[first.id, second.id],
                                     owner="w", lease=LEASE, now=later)
    assert renewed == 1
    assert _row(database, first.id).lease_until == later + LEASE
    assert _row(database, second.id).lease_until == T0 + LEASE


def test_old_finished_rows_can_be_forgotten(database: Database) -> None:
    _accept(database, "old")
    _accept(database, "open", "B")
    [old, still_open] = _claim(database, "w")
    _finish(database, old, "w")

    with database.session() as session:
        assert forget_inbox_events(session=session, older_than=T0 + timedelta(days=1)) == 1
    with database.session() as session:
        assert _deliveries(list_inbox_events(session=session)) == ["open"]
    assert still_open.delivery_id == "open"


# --- two workers on PostgreSQL ---------------------------------------------------------------


@pytest.mark.postgres
def test_two_workers_on_postgresql_never_both_apply_a_row_and_keep_each_conversations_order(
    postgres_database: Database,
) -> None:
    """Two workers (two engines, two threads) drain 60 rows of 6 conversations.

    The first worker "dies" holding its first claims (it never answers them); the
    other takes them over once their short lease has expired. Every row is applied by
    exactly one worker, and each conversation's rows in arrival order.
    """
    database = postgres_database
    conversations = [f"C{n}" for n in range(6)]
    for index in range(60):
        _accept(database, f"Ev{index:02d}", conversations[index % 6])
    other = Database(database.url.render_as_string(hide_password=False))
    lease = timedelta(seconds=1)
    applied: list[tuple[str, str, int]] = []
    lock = threading.Lock()
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def work(db: Database, owner: str, dies_after_first_claim: bool) -> None:
        try:
            start.wait()
            deadline = time.monotonic() + 30
            idle_since: float | None = None
            while time.monotonic() < deadline:
                with db.session() as session:
                    claimed = claim_inbox_events(session=session, owner=owner, lease=lease,
                                                 channels=["slack"], limit=3)
                if dies_after_first_claim:
                    return  # a crash: the leases run out, nothing was applied
                if not claimed:
                    idle_since = idle_since or time.monotonic()
                    if time.monotonic() - idle_since > 2.5:  # longer than a lease
                        return
                    time.sleep(0.05)
                    continue
                idle_since = None
                for event in claimed:
                    assert event.id is not None
                    with db.session() as session:
                        if apply_inbox_event(session=session, event_id=event.id, owner=owner):
                            with lock:
                                applied.append((owner, event.conversation, event.id))
                    with db.session() as session:
                        finish_inbox_event(session=session, event_id=event.id, owner=owner)
        except BaseException as error:  # surfaced below
            errors.append(error)

    threads = [
        threading.Thread(target=work, args=(database, "replica-1", True)),
        threading.Thread(target=work, args=(other, "replica-2", False)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    other.dispose()
    assert errors == []

    ids = [event_id for _, _, event_id in applied]
    assert len(ids) == 60
    assert Counter(ids).most_common(1)[0][1] == 1  # no row applied twice
    for conversation in conversations:
        order = [event_id for _, c, event_id in applied if c == conversation]
        assert order == sorted(order)
    with database.session() as session:
        rows = list_inbox_events(session=session)
    assert {row.status for row in rows} == {InboxStatus.DONE}
    assert max(row.attempts for row in rows) == 2  # the dead worker's rows, taken over once


@pytest.mark.postgres
def test_concurrent_claims_on_postgresql_hand_each_row_to_one_worker(
    postgres_database: Database,
) -> None:
    for index in range(40):
        _accept(postgres_database, f"Ev{index:02d}", f"C{index}")
    other = Database(postgres_database.url.render_as_string(hide_password=False))
    engines = [postgres_database, other]
    barrier = threading.Barrier(4)
    got: list[tuple[str, int]] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            barrier.wait()
            while True:
                with engines[index % 2].session() as session:
                    claimed = claim_inbox_events(session=session, owner=f"w{index}",
                                                 lease=LEASE, channels=["slack"], limit=2)
                if not claimed:
                    return
                with lock:
                    got.extend((f"w{index}", e.id or 0) for e in claimed)
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    other.dispose()
    assert errors == []
    assert sorted(event_id for _, event_id in got) == sorted({event_id for _, event_id in got})
    assert len(got) == 40
    assert len({owner for owner, _ in got}) > 1  # really concurrent


# --- a turn applied as it arrives (the inline path) -----------------------------------------


def _accept_applied(session: Session, delivery: str, conversation: str = "D1:1", *,
                    owner: str = "inline", at: datetime = T0) -> int | None:
    return accept_applied_inbox_event(
        session=session, channel="slack", tenant="T1", conversation=conversation,
        delivery_id=delivery, payload={"inbound": {"text": f"text of {delivery}"}},
        owner=owner, lease=LEASE, now=at,
    )


def test_an_event_applied_on_arrival_is_stored_only_when_new_and_its_conversation_clear(
    database: Database,
) -> None:
    assert _accept(database, "Ev-waiting", "C-busy")
    with database.session() as session:
        busy = _accept_applied(session, "Ev-busy", "C-busy")
        fresh = _accept_applied(session, "Ev-fresh", "C-free")
        again = _accept_applied(session, "Ev-fresh", "C-other")  # a redelivery
        lanes = [inbox_lane_clear(session=session, channel="slack", tenant="T1",
                                  conversation=c, delivery_id="Ev-new")
                 for c in ("C-busy", "C-free", "C-other")]

    assert (busy, again) == (None, None)
    assert lanes == [False, False, True]  # C-free has its applied row open now
    row = _row(database, fresh)
    assert (row.status, row.attempts, row.lease_owner, row.conversation) == (
        InboxStatus.APPLIED, 1, "inline", "C-free")
    # The inline worker died before posting: another worker takes the applied row over.
    claimed = _claim(database, "w2", at=datetime.now(UTC) + LEASE * 2)
    assert [(e.delivery_id, e.status) for e in claimed] == [
        ("Ev-waiting", InboxStatus.PROCESSING), ("Ev-fresh", InboxStatus.APPLIED)]


def test_on_sqlite_an_event_stored_during_an_inline_turn_makes_the_turn_start_again(
    sqlite_database: Database,
) -> None:
    """The inline turn reads without the write lock; a store committed meanwhile makes its
    first write fail at once (the core then runs the turn again holding the lock)."""
    database = sqlite_database
    errors: list[BaseException] = []
    with pytest.raises(OperationalError) as raised, database.session(
        lock_on_write=True
    ) as session:
        assert inbox_lane_clear(session=session, channel="slack", tenant="T1",
                                conversation="C1", delivery_id="Ev-inline")
        other = threading.Thread(target=lambda: errors.extend(_stored(database)))
        other.start()
        other.join()
        _accept_applied(session, "Ev-inline", "C1")
    assert lost_write_race(raised.value) and errors == []
    with database.session() as session:  # run again, holding the lock: not clear now
        assert _accept_applied(session, "Ev-inline", "C1") is None


def _stored(database: Database) -> list[BaseException]:
    try:
        assert _accept(database, "Ev-stored", "C1")
    except BaseException as error:  # pragma: no cover - reported by the test
        return [error]
    return []


@pytest.mark.postgres
def test_on_postgresql_an_event_stored_during_an_inline_turn_waits_for_it(
    postgres_database: Database,
) -> None:
    """Read committed would let both see "nothing open": the conversation's advisory lock
    makes the store wait until the inline turn committed; the stored row then waits for
    the applied one (order kept), and no worker gets it meanwhile."""
    database = postgres_database
    other = Database(database.url.render_as_string(hide_password=False))
    stored = threading.Event()
    try:
        with database.session() as session:
            assert inbox_lane_clear(session=session, channel="slack", tenant="T1",
                                    conversation="C1", delivery_id="Ev-inline")
            store = threading.Thread(target=lambda: (_accept(other, "Ev-later", "C1"),
                                                     stored.set()))
            store.start()
            assert not stored.wait(0.5)  # held by the inline transaction's lock
            inline_id = _accept_applied(session, "Ev-inline", "C1")
        store.join(10)
        assert stored.is_set()
        rows = {e.delivery_id: e for e in _list(database)}
        assert inline_id == rows["Ev-inline"].id
        assert rows["Ev-inline"].id < rows["Ev-later"].id  # type: ignore[operator]
        assert _claim(database, "w2", at=datetime.now(UTC)) == []  # waits for the applied one
        with other.session() as session:  # nor is a later turn applied inline
            assert _accept_applied(session, "Ev-third", "C1") is None
    finally:
        other.dispose()


def _list(database: Database) -> list[InboxEvent]:
    with database.session() as session:
        return list_inbox_events(session=session)
