"""Flow session contract: one active per conversation, optimistic concurrency, resume."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from storage import (
    ActiveSessionExistsError,
    Database,
    FlowStatus,
    NotFoundError,
    StaleSessionError,
    create_sheet,
    find_resumable_flow_session,
    get_active_flow_session,
    get_flow_session,
    save_flow_session,
    start_flow_session,
)
from tests.storage.factories import sheet_in

T0 = datetime(2026, 11, 16, 0, 0, tzinfo=UTC)
KEY: dict[str, Any] = {"channel": "slack", "tenant": "T1", "conversation": "C1:1.1"}


def _start(database: Database, **overrides: object) -> str:
    values: dict = {**KEY, "user_id": "U1", "flow_id": "ict_adoption", "state": {"step": "business"}}
    values.update(overrides)
    with database.session() as session:
        return start_flow_session(session=session, **values).id


def test_state_survives_a_new_process(database: Database) -> None:
    flow_session_id = _start(database)
    with database.session() as session:
        save_flow_session(
            session=session,
            flow_session_id=flow_session_id,
            expected_version=1,
            state={"step": "initial_cost", "slots": {"business": "窓口予約"}, "history": ["business"]},
        )

    # A new Database object is what a restarted process has.
    restarted = Database(database.url.render_as_string(hide_password=False))
    with restarted.session() as session:
        active = get_active_flow_session(session=session, **KEY)
        assert active is not None
        assert active.id == flow_session_id
        assert active.version == 2
        assert active.state["step"] == "initial_cost"
        assert active.state["slots"] == {"business": "窓口予約"}
    restarted.dispose()


def test_one_active_session_per_conversation(database: Database) -> None:
    first = _start(database)
    with pytest.raises(ActiveSessionExistsError, match="進行中"):
        _start(database, user_id="U2")

    # Another conversation is fine, and so is a new start once the first is done.
    _start(database, conversation="C1:2.2")
    with database.session() as session:
        save_flow_session(
            session=session, flow_session_id=first, expected_version=1, status=FlowStatus.COMPLETED
        )
    _start(database)


def test_a_failed_start_leaves_the_transaction_usable(database: Database) -> None:
    _start(database)
    with database.session() as session:
        with pytest.raises(ActiveSessionExistsError):
            start_flow_session(session=session, **KEY, user_id="U1", flow_id="rfi")
        other = start_flow_session(
            session=session, **{**KEY, "conversation": "C9"}, user_id="U1", flow_id="rfi"
        )
    with database.session() as session:
        assert get_flow_session(session=session, flow_session_id=other.id) is not None


def test_second_save_from_the_same_version_is_refused(database: Database) -> None:
    # Two turns (e.g. two replicas) load version 1, then each saves what it made of it.
    flow_session_id = _start(database)
    with database.session() as a:
        loaded_a = get_flow_session(session=a, flow_session_id=flow_session_id)
    with database.session() as b:
        loaded_b = get_flow_session(session=b, flow_session_id=flow_session_id)
    assert loaded_a is not None and loaded_b is not None
    assert loaded_a.version == loaded_b.version == 1
    with database.session() as a:
        save_flow_session(
            session=a, flow_session_id=flow_session_id, expected_version=loaded_a.version,
            state={"answer": "A"},
        )
    with database.session() as b, pytest.raises(StaleSessionError) as raised:
        save_flow_session(
            session=b, flow_session_id=flow_session_id, expected_version=loaded_b.version,
            state={"answer": "B"},
        )
    assert "先に更新" in str(raised.value)

    with database.session() as session:
        stored = get_flow_session(session=session, flow_session_id=flow_session_id)
        assert stored is not None
        assert (stored.version, stored.state) == (2, {"answer": "A"})


def test_concurrent_saves_from_two_engines_exactly_one_wins(database: Database) -> None:
    flow_session_id = _start(database)
    other = Database(database.url.render_as_string(hide_password=False))
    engines = [database, other]
    workers = 4
    barrier = threading.Barrier(workers)
    results: list[str] = []
    lock = threading.Lock()

    def save(index: int) -> None:
        barrier.wait()
        try:
            with engines[index % 2].session() as session:
                save_flow_session(
                    session=session, flow_session_id=flow_session_id, expected_version=1,
                    state={"writer": index},
                )
            outcome = f"saved:{index}"
        except StaleSessionError:
            outcome = "stale"
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=save, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    other.dispose()

    winners = [r for r in results if r.startswith("saved")]
    assert len(winners) == 1
    assert results.count("stale") == workers - 1
    with database.session() as session:
        stored = get_flow_session(session=session, flow_session_id=flow_session_id)
        assert stored is not None
        assert stored.version == 2
        assert f"saved:{stored.state['writer']}" == winners[0]


def test_save_of_unknown_session_raises_not_found(database: Database) -> None:
    with database.session() as session, pytest.raises(NotFoundError):
        save_flow_session(session=session, flow_session_id="missing", expected_version=1)


def test_resume_finds_the_latest_suspended_or_active_session_anywhere(database: Database) -> None:
    _start(database, conversation="C-old", now=T0)
    newer = _start(database, conversation="C-new", now=T0 + timedelta(days=1))
    done = _start(database, conversation="C-done", now=T0 + timedelta(days=2))
    _start(database, conversation="C-other-user", user_id="U2", now=T0 + timedelta(days=3))
    with database.session() as session:
        save_flow_session(
            session=session, flow_session_id=newer, expected_version=1,
            status=FlowStatus.SUSPENDED, now=T0 + timedelta(days=1, hours=1),
        )
        save_flow_session(
            session=session, flow_session_id=done, expected_version=1,
            status=FlowStatus.COMPLETED, now=T0 + timedelta(days=2, hours=1),
        )

    with database.session() as session:
        found = find_resumable_flow_session(session=session, channel="slack", tenant="T1", user_id="U1")
        assert found is not None and found.id == newer
        by_flow = find_resumable_flow_session(
            session=session, channel="slack", tenant="T1", user_id="U1", flow_id="rfi"
        )
        assert by_flow is None
        assert find_resumable_flow_session(
            session=session, channel="teams", tenant="T1", user_id="U1"
        ) is None

        # 「続きから」 in a fresh conversation days later: move it there and reactivate.
        moved = save_flow_session(
            session=session, flow_session_id=newer, expected_version=2,
            status=FlowStatus.ACTIVE, conversation="C-today",
        )
        assert (moved.conversation, moved.status, moved.version) == ("C-today", FlowStatus.ACTIVE, 3)
        here = get_active_flow_session(
            session=session, channel="slack", tenant="T1", conversation="C-today"
        )
        assert here is not None and here.id == newer


def test_moving_onto_a_conversation_with_an_active_session_is_refused(database: Database) -> None:
    _start(database, conversation="C-busy")
    suspended = _start(database, conversation="C-old")
    with database.session() as session:
        save_flow_session(
            session=session, flow_session_id=suspended, expected_version=1,
            status=FlowStatus.SUSPENDED,
        )
    with database.session() as session, pytest.raises(ActiveSessionExistsError):
        save_flow_session(
            session=session, flow_session_id=suspended, expected_version=2,
            status=FlowStatus.ACTIVE, conversation="C-busy",
        )


def test_session_links_to_its_sheet(database: Database) -> None:
    flow_session_id = _start(database)
    with database.session() as session:
        sheet = create_sheet(session=session, sheet_in=sheet_in())
        saved = save_flow_session(
            session=session, flow_session_id=flow_session_id, expected_version=1, sheet_id=sheet.id
        )
        assert saved.sheet_id == sheet.id
        assert saved.state == {"step": "business"}  # state=None keeps the stored state
