"""What one 「レビュー」 queue open and one weekly digest cost with 500 sheets in a tenant:
SQL statements and rows.

Run from the repository root (not collected by pytest)::

    python -m tests.measure_review [--postgres URL]

It makes a database (SQLite in a temporary directory; with ``--postgres``, a fresh
database on that server), seeds one tenant with 500 sheets (120 waiting for the
CIO補佐, the rest drafts, returned, accepted and closed, over four departments) and a
second tenant with 50, registers a reviewer and a staff member, and then measures, as
the core calls it (``ReviewChat.handle`` inside one session; App Home's ``home`` runs
the same queue):

* ``reviewer 「レビュー」``: the reviewer's queue (what App Home shows too);
* ``staff 「レビュー」``: the staff member's department list;
* ``reviewer digest 2026-W22``: the weekly digest of a week in the middle of the data
  (``ReviewDesk.digest``, what ``soudan digest``, chat 「ダイジェスト」 and the scheduler
  build; 24 sheets created in that week).

For each: SQL statements (``after_cursor_execute``; ``selects`` = those reading),
rows loaded as ORM instances, per table (``load`` events; a count or an id list adds
no instance), and the time (median of five runs after a warm-up). It uses only APIs
that existed before the queries moved into ``storage/review_queries.py`` (c72d092),
so the same script measures the code before and after (the digest: before the
digest's candidate sheets were selected in SQL, 45957c9).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapper

from bot.core.messages import Inbound
from bot.review.desk import ReviewDesk
from bot.review.port import ReviewChat
from bot.review.store import ReviewStore
from bot.review.weeks import IsoWeek
from storage import ConsultationSheetCreate, Database, create_sheet, transition_sheet
from storage.lifecycle import SheetStatus

START = datetime(2026, 4, 1, 0, 0, tzinfo=UTC)
DEPARTMENTS = ("市民課", "財政課", "税務課", "福祉課")
PATHS: dict[str, tuple[SheetStatus, ...]] = {
    "draft": (),
    "submitted": (SheetStatus.SUBMITTED,),
    "in_review": (SheetStatus.SUBMITTED, SheetStatus.IN_REVIEW),
    "returned": (SheetStatus.SUBMITTED, SheetStatus.IN_REVIEW, SheetStatus.RETURNED),
    "accepted": (SheetStatus.SUBMITTED, SheetStatus.IN_REVIEW, SheetStatus.ACCEPTED),
    "closed": (
        SheetStatus.SUBMITTED, SheetStatus.IN_REVIEW, SheetStatus.ACCEPTED, SheetStatus.CLOSED
    ),
}
MIX = (["submitted"] * 3 + ["in_review"] * 3 + ["draft"] * 6 + ["returned"] * 2
       + ["accepted"] * 3 + ["closed"] * 8)
"""Per 25 sheets: 6 waiting (→ 120 of 500), the rest in every other status."""
DIGEST_WEEK = IsoWeek(2026, 22)
"""Monday 2026-05-25 .. Sunday 2026-05-31 (JST): 24 of the 500 sheets are created in it."""


def seed(database: Database, tenant: str, count: int) -> None:
    with database.session() as session:
        for n in range(count):
            created = START + timedelta(hours=n * 7)
            row = create_sheet(
                session=session,
                sheet_in=ConsultationSheetCreate(
                    channel="slack", tenant=tenant, conversation=f"C1:{1700000000 + n}.000100",
                    requester_id=f"U{n % 40}", requester_name="木更津 太郎",
                    department=DEPARTMENTS[n % len(DEPARTMENTS)], business=f"業務 {n}",
                    initial_cost=(n % 9) * 1_000_000 or None, flow_id="ict_adoption",
                ),
                now=created,
            )
            for step, status in enumerate(PATHS[MIX[n % len(MIX)]]):
                transition_sheet(
                    session=session, sheet_id=row.id, to_status=status, actor_id="seed",
                    now=created + timedelta(hours=1 + step),
                )


@dataclass
class Measured:
    statements: int = 0
    selects: int = 0
    loaded: Counter[str] = field(default_factory=Counter)
    seconds: list[float] = field(default_factory=list)


def measure(database: Database, run: Any) -> Measured:
    run()  # warm-up: imports, statement caches
    found = Measured()

    def on_execute(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        found.statements += 1
        if statement.lstrip().upper().startswith("SELECT"):
            found.selects += 1

    def on_load(target: Any, context: Any) -> None:
        found.loaded[type(target).__tablename__] += 1

    event.listen(database.engine, "after_cursor_execute", on_execute)
    event.listen(Mapper, "load", on_load)
    try:
        run()
    finally:
        event.remove(database.engine, "after_cursor_execute", on_execute)
        event.remove(Mapper, "load", on_load)
    for _ in range(5):
        began = time.perf_counter()
        run()
        found.seconds.append(time.perf_counter() - began)
    return found


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--postgres", help="server URL, e.g. postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        dropped: tuple[sa.Engine, str] | None = None
        if args.postgres:
            admin = sa.create_engine(args.postgres, isolation_level="AUTOCOMMIT")
            name = f"measure_review_{uuid.uuid4().hex[:8]}"
            with admin.connect() as connection:
                connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
            url = sa.make_url(args.postgres).set(database=name).render_as_string(False)
            dropped = (admin, name)
        else:
            url = f"sqlite:///{Path(tmp) / 'review.db'}"
        database = Database(url)
        try:
            database.upgrade()
            report(database, url.split(":")[0])
        finally:
            database.engine.dispose()
            if dropped is not None:
                with dropped[0].connect() as connection:
                    connection.exec_driver_sql(
                        f'DROP DATABASE IF EXISTS "{dropped[1]}" WITH (FORCE)'
                    )


def report(database: Database, backend: str) -> None:
    seed(database, "T1", 500)
    seed(database, "T2", 50)
    store = ReviewStore(database)
    store.save_user("slack", "T1", "UR", role="reviewer", confirmed_by="cli:local:operator")
    store.save_user("slack", "T1", "U1", role="staff", department="市民課",
                    confirmed_by="cli:local:operator")
    chat = ReviewChat(ReviewDesk(store, {}))

    def turn(user: str) -> Any:
        def run() -> None:
            with database.session() as session:
                chat.handle(session, Inbound("slack", "T1", "D1:1.0", user, text="レビュー"))
        return run

    desk = ReviewDesk(store, {})
    reviewer = store.actor("slack", "T1", "UR")

    def digest() -> None:
        desk.digest(reviewer, DIGEST_WEEK)

    print(f"backend: {backend}; tenant T1: 500 sheets (120 waiting), T2: 50")
    print("| open | statements | selects | rows loaded | by table | median ms |")
    print("|---|---:|---:|---:|---|---:|")
    for label, run in (("reviewer 「レビュー」", turn("UR")), ("staff 「レビュー」", turn("U1")),
                       (f"reviewer digest {DIGEST_WEEK}", digest)):
        found = measure(database, run)
        loaded = ", ".join(f"{t} {n}" for t, n in sorted(found.loaded.items()))
        rows = sum(found.loaded.values())
        print(f"| {label} | {found.statements} | {found.selects} | {rows} | {loaded} | "
              f"{statistics.median(found.seconds) * 1000:.0f} |")


if __name__ == "__main__":
    main(sys.argv[1:])
