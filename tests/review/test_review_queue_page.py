"""The chat queue (「レビュー」, App Home) reads one page and a count in SQL and shows
what the whole list showed: the count, the first ten in the list's order, 「ほかに N 件」."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event

from bot.core.messages import SheetSummary, Text
from bot.review.chat import queue
from bot.review.desk import ReviewDesk
from bot.review.parts import QUEUE_LIMIT
from bot.review.records import Actor
from bot.review.store import ReviewStore
from storage import Database
from storage.audit import list_audit
from storage.models import ConsultationSheet
from tests.review.review_fakes import Seeder

REVIEWER = Actor("slack", "T1", "UR", role="reviewer")
STAFF = Actor("slack", "T1", "U1", role="staff", department="市民課")
PENDING = Actor("slack", "T1", "U1", role="staff", department="市民課", department_pending=True)
START = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)


@pytest.fixture
def desk(database: Database, seeder: Seeder) -> ReviewDesk:
    """13 open sheets submitted in an order unlike their creation, drafts, another
    department's and another tenant's sheets."""
    for n in range(13):
        created = START + timedelta(hours=n)
        submitted = START + timedelta(days=1, hours=(n * 5) % 13)
        moves = [("submitted", submitted)]
        if n % 4 == 0:
            moves.append(("in_review", submitted + timedelta(minutes=5)))
        seeder.sheet(created_at=created, moves=moves, requester_id=f"U{n % 3}")
    seeder.sheet(created_at=START + timedelta(hours=30))  # a draft: not waiting
    seeder.sheet(created_at=START + timedelta(hours=31), department="財政課",
                 moves=[("submitted", START + timedelta(days=3))])
    seeder.sheet(created_at=START, tenant="T2", moves=[("submitted", START)])
    return ReviewDesk(ReviewStore(database), {}, now=lambda: START + timedelta(days=5))


def _shown(parts: list[object]) -> tuple[str, list[str], str | None]:
    assert isinstance(parts[0], Text)
    refs = [p.reference for p in parts if isinstance(p, SheetSummary)]
    more = parts[-1].text if isinstance(parts[-1], Text) and len(parts) > 1 else None
    return parts[0].text, refs, more


def test_reviewer_queue_is_the_first_ten_of_the_whole_list(desk: ReviewDesk) -> None:
    whole = desk.pending(REVIEWER)
    expected = sorted(whole, key=lambda s: (s.submitted_at or s.created_at, s.reference))
    assert [s.reference for s in whole] == [s.reference for s in expected]
    assert len(whole) == 14

    title, refs, more = _shown(queue(desk, REVIEWER))
    assert title == "確認待ちの相談シート（14件）"
    assert refs == [s.reference for s in expected[:QUEUE_LIMIT]]
    assert more is not None and more.startswith("ほかに 4 件あります。")


def test_staff_lists_are_oldest_first_and_scoped(desk: ReviewDesk, seeder: Seeder) -> None:
    title, refs, more = _shown(queue(desk, STAFF))
    department = seeder.made[:14]  # 13 open + the draft, all 市民課 of T1
    assert title == "市民課の相談シート（14件）"
    assert refs == [s.reference for s in department[:QUEUE_LIMIT]]
    assert more is not None and more.startswith("ほかに 4 件あります。")

    title, refs, more = _shown(queue(desk, PENDING)[1:])
    # Requested by U1: four of the open ones, the draft and the 財政課 sheet.
    own = [seeder.made[i].reference for i in (1, 4, 7, 10, 13, 14)]
    assert title == f"あなたの相談シート（{len(own)}件）"
    assert refs == own and more is None


def test_queue_open_reads_a_page_not_the_tenant(desk: ReviewDesk, database: Database) -> None:
    """The sheet rows loaded are the page's, not every sheet of the tenant; two
    statements on consultation_sheet (the page, then the count: more than ten wait);
    one audit row, as before."""
    loaded: list[str] = []
    statements: list[str] = []

    def on_load(target: ConsultationSheet, context: object) -> None:
        loaded.append(target.reference)

    def on_execute(conn: object, cursor: object, statement: str, *args: object) -> None:
        if "consultation_sheet" in statement:
            statements.append(statement)

    event.listen(ConsultationSheet, "load", on_load)
    event.listen(database.engine, "after_cursor_execute", on_execute)
    try:
        queue(desk, REVIEWER)
    finally:
        event.remove(ConsultationSheet, "load", on_load)
        event.remove(database.engine, "after_cursor_execute", on_execute)
    assert len(loaded) == QUEUE_LIMIT
    assert len(statements) == 2 and "count" in statements[1].lower()
    with database.session() as session:
        [row] = [r for r in list_audit(session=session) if r.action == "review.list"]
    assert row.detail == {"statuses": "submitted,in_review"} and row.result == "allowed"
