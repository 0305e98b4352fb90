"""The digest reads only the sheets that can appear in its week (selected in SQL), and
its content is what the week held — on SQLite and PostgreSQL.

One code path makes every digest (chat, CLI, scheduler, web console):
:func:`bot.review.desk.compile_digest`. Sheets created after the week, another
tenant's, and sheets neither created, moved nor open in it are never loaded.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import event

from bot.review.desk import compile_digest
from bot.review.digest import Digest
from bot.review.store import ReviewStore
from bot.review.weeks import IsoWeek
from storage import Database
from storage.models import ConsultationSheet
from tests.review.review_fakes import Seeder

JST = timezone(timedelta(hours=9))
W47 = IsoWeek(2026, 47)  # Monday 2026-11-16 .. Sunday 2026-11-22 (JST)
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=JST)  # the week after: the week is judged at its end


def at(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=JST).astimezone(UTC)


def refs(lines: tuple[Any, ...]) -> list[str]:
    return [line.reference for line in lines]


@pytest.fixture
def loaded() -> Iterator[list[str]]:
    """整理番号 of every sheet row loaded from the database while the test runs."""
    seen: list[str] = []

    def on_load(target: ConsultationSheet, _: object) -> None:
        seen.append(target.reference)

    event.listen(ConsultationSheet, "load", on_load)
    yield seen
    event.remove(ConsultationSheet, "load", on_load)


def seed(seeder: Seeder) -> dict[str, str]:
    """Sheets in, around and outside week 47; name -> 整理番号."""
    sheet = seeder.sheet
    made = {
        # In the digest:
        "new": sheet(created_at=at(11, 17), department="市民課", initial_cost=1_000_000,
                     business="新規", moves=[("submitted", at(11, 18))]),
        "waiting": sheet(created_at=at(10, 27), department="財政課", initial_cost=None,
                         business="待ち", moves=[("submitted", at(11, 4))]),
        "returned": sheet(created_at=at(10, 28), department="税務課", business="差戻",
                          moves=[("submitted", at(11, 5)), ("in_review", at(11, 9)),
                                 ("returned", at(11, 18))]),
        "accepted": sheet(created_at=at(11, 2), department="市民課", initial_cost=20_000_000,
                          business="受理", moves=[("submitted", at(11, 10)),
                                                 ("in_review", at(11, 11)),
                                                 ("accepted", at(11, 19)),
                                                 ("closed", at(11, 24))]),
        # Not in the digest, and never read for it:
        "closed_before": sheet(created_at=at(10, 1), business="完了済み",
                               moves=[("submitted", at(10, 2)), ("in_review", at(10, 3)),
                                      ("accepted", at(10, 5)), ("closed", at(10, 9))]),
        "quiet_draft": sheet(created_at=at(10, 20), business="下書き"),
        "created_after": sheet(created_at=at(11, 24), business="翌週",
                               moves=[("submitted", at(11, 25))]),
        "other_tenant": sheet(created_at=at(11, 17), tenant="T2", business="他団体",
                              moves=[("submitted", at(11, 18))]),
    }
    seeder.question("SLAとは", at=at(11, 18), answered=False)
    seeder.question("SLAとは", at=at(11, 20), answered=False)
    seeder.question("LGWANとは", at=at(11, 19), answered=True)
    seeder.question("翌週の質問", at=at(11, 24), answered=False)
    return {name: seeded.reference for name, seeded in made.items()}


def test_the_digest_reads_only_the_sheets_of_its_week(
    database: Database, seeder: Seeder, loaded: list[str]
) -> None:
    ref = seed(seeder)
    loaded.clear()  # seeding loads rows too

    digest: Digest = compile_digest(ReviewStore(database), W47, "T1", NOW)

    assert refs(digest.new) == [ref["new"]]
    assert refs(digest.submitted) == [ref["new"]]
    assert refs(digest.returned) == [ref["returned"]]
    assert refs(digest.accepted) == [ref["accepted"]]
    assert refs(digest.still_open) == sorted([ref["new"], ref["waiting"]])
    assert [(w.sheet.reference, w.waiting_days) for w in digest.waiting] == [(ref["waiting"], 18)]
    assert digest.by_status == (("提出済み", 2), ("差し戻し", 1), ("受理", 1))
    assert [(d.department, d.total) for d in digest.by_department] == [
        ("市民課", 2), ("税務課", 1), ("財政課", 1)]
    assert digest.cost_total == 1_000_000 + 4_500_000 + 20_000_000
    assert [(g.text, g.count) for g in digest.unanswered] == [("SLAとは", 2)]
    assert (digest.unanswered_count, digest.question_count) == (2, 3)

    shown = {ref[name] for name in ("new", "waiting", "returned", "accepted")}
    outside = {ref[name] for name in ("closed_before", "quiet_draft", "created_after",
                                      "other_tenant")}
    assert shown <= set(loaded)
    assert not outside & set(loaded), "sheets outside the week were read"
    assert len(loaded) == len(set(loaded)) == 4  # each shown sheet once, nothing else


def test_all_tenants_when_no_tenant_is_given(database: Database, seeder: Seeder) -> None:
    """The scheduler of a single-municipality deployment digests every tenant."""
    ref = seed(seeder)
    digest = compile_digest(ReviewStore(database), W47, None, NOW)
    assert refs(digest.new) == sorted([ref["new"], ref["other_tenant"]])
    assert ref["created_after"] not in refs(digest.still_open)
