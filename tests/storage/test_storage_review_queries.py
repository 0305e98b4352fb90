"""The review side's sheet queries (storage/review_queries.py) on SQLite and PostgreSQL:
each filter is a WHERE clause, each order is total, a page comes with its count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from storage import Database, create_sheet, transition_sheet
from storage.lifecycle import SheetStatus
from storage.models import ConsultationSheet
from storage.review_queries import (
    SheetFilter,
    count_sheets,
    digest_candidates,
    find_sheets,
    sheet_departments,
    sheet_ids,
    sheet_page,
    sheets_by_ids,
    transitions_by_sheet,
)
from tests.storage.factories import sheet_in

NOW = datetime(2026, 11, 16, 1, 0, tzinfo=UTC)  # Monday 10:00 in Tokyo
WEEK = (datetime(2026, 11, 15, 15, 0, tzinfo=UTC), datetime(2026, 11, 22, 15, 0, tzinfo=UTC))


def _make(database: Database) -> dict[str, str]:
    """Seven sheets over two tenants; returns reference -> id."""
    made: dict[str, str] = {}
    with database.session() as session:
        def sheet(days: float, **fields: object) -> str:
            row = create_sheet(
                session=session, sheet_in=sheet_in(**fields), now=NOW + timedelta(days=days)
            )
            made[row.reference] = row.id
            return row.id

        early = sheet(-20, department="市民課")                       # 0001, old, moved this week
        sheet(-10, department="財政課", requester_id="U2", initial_cost=None)  # 0002
        late = sheet(1, department="市民課", flow_id="rfi", initial_cost=20_000_000)  # 0003
        sheet(2, tenant="T2", department="市民課")                    # 0004, other tenant
        sheet(3, department="市民課", channel="teams")                # 0005, teams U1
        waiting = sheet(-5, department="財政課", initial_cost=1_000_000)  # 0006
        sheet(-30, department=None)                                 # 0007
        for sheet_id, days in ((late, 1.5), (early, 0.5), (waiting, -4)):
            transition_sheet(
                session=session, sheet_id=sheet_id, to_status=SheetStatus.SUBMITTED,
                now=NOW + timedelta(days=days),
            )
    return made


def _refs(rows: list[ConsultationSheet]) -> list[str]:
    return [row.reference for row in rows]


def test_each_filter_is_applied_in_sql(database: Database) -> None:
    _make(database)
    with database.session() as session:
        def refs(**fields: Any) -> list[str]:
            return _refs(find_sheets(session=session, where=SheetFilter(**fields)))

        assert refs(tenant="T1") == ["2026-0007", "2026-0001", "2026-0002", "2026-0006",
                                     "2026-0003", "2026-0005"]
        assert refs(tenant="T2") == ["2026-0004"]
        assert refs(tenant="T1", department="財政課") == ["2026-0002", "2026-0006"]
        assert refs(tenant="T1", requesters=(("slack", "U1"),)) == [
            "2026-0007", "2026-0001", "2026-0006", "2026-0003"]
        assert refs(requesters=(("teams", "U1"),)) == ["2026-0005"]
        assert refs(requesters=(("slack", "U1"), ("slack", "U2"))) == []
        assert refs(tenant="T1", statuses=(SheetStatus.SUBMITTED,)) == [
            "2026-0001", "2026-0006", "2026-0003"]
        # In the week: created in it (0003, 0005) or moved in it (0001); 0006 moved before.
        assert refs(tenant="T1", week=WEEK) == ["2026-0001", "2026-0003", "2026-0005"]
        assert refs(flow="rfi") == ["2026-0003"]
        assert refs(tenant="T1", cost=(None, None)) == ["2026-0002"]
        assert refs(tenant="T1", cost=(10_000_000, None)) == ["2026-0003"]
        assert refs(tenant="T1", cost=(None, 3_000_000)) == ["2026-0006"]
        assert count_sheets(session=session, where=SheetFilter(tenant="T1")) == 6
        assert sheet_departments(session=session, tenant="T1") == ["市民課", "財政課"]
        assert sheet_departments(session=session, tenant="T1", department="財政課") == ["財政課"]


def test_orders_and_pages(database: Database) -> None:
    made = _make(database)
    open_t1 = SheetFilter(tenant="T1", statuses=(SheetStatus.SUBMITTED, SheetStatus.IN_REVIEW))
    with database.session() as session:
        # The reviewer's queue: by last submission (then 整理番号).
        queue = find_sheets(session=session, where=open_t1, order="queue")
        assert _refs(queue) == ["2026-0006", "2026-0001", "2026-0003"]
        # A never-submitted sheet counts from its creation in that order.
        every = find_sheets(session=session, where=SheetFilter(tenant="T1"), order="queue")
        keys = [(row.submitted_at or row.created_at, row.reference) for row in every]
        assert keys == sorted(keys)

        first = sheet_page(session=session, where=open_t1, order="queue", limit=2)
        assert (_refs(first.rows), first.total) == (["2026-0006", "2026-0001"], 3)
        rest = sheet_page(session=session, where=open_t1, order="queue", limit=2, offset=2)
        assert (_refs(rest.rows), rest.total) == (["2026-0003"], 3)
        whole = sheet_page(session=session, where=open_t1, order="queue", limit=10)
        assert (len(whole.rows), whole.total) == (3, 3)
        beyond = sheet_page(session=session, where=open_t1, order="queue", limit=2, offset=4)
        assert (beyond.rows, beyond.total) == ([], 3)

        assert sheet_ids(session=session, where=SheetFilter(tenant="T1"), order="reference",
                         limit=2, offset=1) == [made["2026-0002"], made["2026-0003"]]
        assert _refs(find_sheets(session=session, where=SheetFilter(tenant="T1"),
                                 order="cost", limit=2)) == ["2026-0003", "2026-0007"]

        wanted = [made["2026-0005"], "unknown", made["2026-0001"]]
        assert _refs(sheets_by_ids(session=session, ids=wanted)) == ["2026-0005", "2026-0001"]
        history = transitions_by_sheet(session=session, sheet_ids=[made["2026-0001"]])
        assert [t.to_status for t in history[made["2026-0001"]]] == [SheetStatus.SUBMITTED]


def test_digest_candidates(database: Database) -> None:
    made = _make(database)
    with database.session() as session:
        ids = [row.id for row in digest_candidates(
            session=session, tenant="T1", start=WEEK[0], end=WEEK[1],
        )]
    # 0002 and 0007 (drafts untouched since before the week) cannot be in the digest.
    assert ids == [made[r] for r in ("2026-0001", "2026-0003", "2026-0005", "2026-0006")]


@pytest.mark.parametrize("order", ["oldest", "queue", "waiting", "submitted", "created",
                                   "reference", "department", "cost", "status"])
def test_every_order_is_total(database: Database, order: str) -> None:
    """Pages never overlap or skip, whatever the order (ties broken by 整理番号)."""
    _make(database)
    where = SheetFilter(tenant="T1")
    with database.session() as session:
        whole = sheet_ids(session=session, where=where, order=order)  # type: ignore[arg-type]
        paged = [
            i for offset in range(0, 6, 2)
            for i in sheet_ids(session=session, where=where, order=order,  # type: ignore[arg-type]
                               limit=2, offset=offset)
        ]
        assert paged == whole and len(set(whole)) == 6
        everything = sa.select(sa.func.count()).select_from(ConsultationSheet)
        assert session.execute(everything).scalar() == 7
