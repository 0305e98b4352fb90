"""Exactly-once claims across processes: inbound deliveries and weekly digests."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from storage import (
    Database,
    claim_digest_week,
    claim_inbound,
    forget_inbound_receipts,
    get_digest_run,
    mark_digest_posted,
)

T0 = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)


def _race(database: Database, workers: int, attempt: Callable[[Database, int], bool]) -> list[bool]:
    """Run ``attempt`` in ``workers`` threads over two engines on one database, released together."""
    other = Database(database.url.render_as_string(hide_password=False))
    engines = [database, other]
    barrier = threading.Barrier(workers)
    results: list[bool] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(index: int) -> None:
        try:
            barrier.wait()
            won = attempt(engines[index % 2], index)
            with lock:
                results.append(won)
        except BaseException as error:  # surfaced below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    other.dispose()
    assert errors == []
    return results


def test_claim_inbound_once_then_refused(database: Database) -> None:
    with database.session() as session:
        assert claim_inbound(session=session, key="slack:T1:Ev1") is True
        assert claim_inbound(session=session, key="slack:T1:Ev1") is False
        assert claim_inbound(session=session, key="slack:T1:Ev2") is True
    with database.session() as session:
        assert claim_inbound(session=session, key="slack:T1:Ev1") is False


def test_claim_inbound_exactly_once_across_four_threads_and_two_engines(
    database: Database,
) -> None:
    def attempt(db: Database, _index: int) -> bool:
        with db.session() as session:
            return claim_inbound(session=session, key="teams:tenant:activity-42")

    assert sorted(_race(database, 4, attempt)) == [False, False, False, True]


def test_a_rolled_back_claim_lets_the_redelivery_through(database: Database) -> None:
    with pytest.raises(RuntimeError), database.session() as session:
        assert claim_inbound(session=session, key="slack:T1:Ev9") is True
        raise RuntimeError("the turn failed before its result was saved")
    with database.session() as session:
        assert claim_inbound(session=session, key="slack:T1:Ev9") is True


def test_old_receipts_can_be_forgotten(database: Database) -> None:
    with database.session() as session:
        claim_inbound(session=session, key="old", now=T0 - timedelta(days=2))
        claim_inbound(session=session, key="new", now=T0)
        assert forget_inbound_receipts(session=session, older_than=T0 - timedelta(days=1)) == 1
    with database.session() as session:
        assert claim_inbound(session=session, key="old") is True
        assert claim_inbound(session=session, key="new") is False


def test_digest_week_is_claimed_exactly_once_by_two_schedulers(database: Database) -> None:
    def attempt(db: Database, index: int) -> bool:
        with db.session() as session:
            return claim_digest_week(
                session=session, week="2026-W48", channel="slack", claimed_by=f"replica-{index}"
            )

    assert sorted(_race(database, 4, attempt)) == [False, False, False, True]
    with database.session() as session:
        run = get_digest_run(session=session, week="2026-W48", channel="slack")
        assert run is not None and run.posted_at is None
        # Another destination for the same week is a separate claim.
        assert claim_digest_week(session=session, week="2026-W48", channel="teams") is True


def test_posted_digest_is_never_taken_over(database: Database) -> None:
    with database.session() as session:
        assert claim_digest_week(session=session, week="2026-W47", channel="slack", now=T0)
        mark_digest_posted(session=session, week="2026-W47", channel="slack", now=T0)
    with database.session() as session:
        later = T0 + timedelta(days=3)
        assert not claim_digest_week(
            session=session, week="2026-W47", channel="slack",
            stale_after=timedelta(hours=1), now=later,
        )
        run = get_digest_run(session=session, week="2026-W47", channel="slack")
        assert run is not None and run.posted_at == T0


def test_a_stale_unposted_claim_is_taken_over_once(database: Database) -> None:
    with database.session() as session:
        assert claim_digest_week(
            session=session, week="2026-W47", channel="slack", claimed_by="dead", now=T0
        )
    with database.session() as session:
        # Still fresh: not taken over.
        assert not claim_digest_week(
            session=session, week="2026-W47", channel="slack", claimed_by="b",
            stale_after=timedelta(hours=1), now=T0 + timedelta(minutes=30),
        )
        assert claim_digest_week(
            session=session, week="2026-W47", channel="slack", claimed_by="b",
            stale_after=timedelta(hours=1), now=T0 + timedelta(hours=2),
        )
        assert not claim_digest_week(
            session=session, week="2026-W47", channel="slack", claimed_by="c",
            stale_after=timedelta(hours=1), now=T0 + timedelta(hours=2),
        )
        run = get_digest_run(session=session, week="2026-W47", channel="slack")
        assert run is not None and run.claimed_by == "b"


