"""The weekly digest on seeded sheets: week boundaries in Asia/Tokyo, sections, counts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.review.desk import compile_digest
from bot.review.digest import Digest, cost_band
from bot.review.store import ReviewStore
from bot.review.weeks import IsoWeek, WeekFormatError
from storage import Database
from tests.review.review_fakes import Seeder

JST = timezone(timedelta(hours=9))
W47 = IsoWeek(2026, 47)  # Monday 2026-11-16 .. Sunday 2026-11-22 (JST)


def jst(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in November 2026, Japan time, as UTC (how the database keeps it)."""
    return datetime(2026, 11, day, hour, minute, tzinfo=JST).astimezone(UTC)


def refs(lines: tuple[object, ...]) -> list[str]:
    return [line.reference for line in lines]  # type: ignore[attr-defined]


def test_iso_week_boundaries_are_tokyo_midnight() -> None:
    sunday_late = datetime(2026, 11, 22, 14, 30, tzinfo=UTC)  # Sunday 23:30 JST
    monday_early = datetime(2026, 11, 22, 15, 10, tzinfo=UTC)  # Monday 00:10 JST
    assert IsoWeek.containing(sunday_late) == W47
    assert IsoWeek.containing(monday_early) == IsoWeek(2026, 48)
    assert W47.contains(sunday_late) and not W47.contains(monday_early)
    assert W47.start() == datetime(2026, 11, 15, 15, 0, tzinfo=UTC)
    assert IsoWeek.parse("2026-W47") == W47 and str(W47) == "2026-W47"
    assert IsoWeek(2027, 1).previous() == IsoWeek(2026, 53)
    with pytest.raises(WeekFormatError):
        IsoWeek.parse("2026-47")
    with pytest.raises(WeekFormatError):
        IsoWeek.parse("2025-W53")  # 2025 has 52 ISO weeks


def test_cost_bands_edges() -> None:
    assert cost_band(2_999_999) == "300万円未満"
    assert cost_band(3_000_000) == "300万円以上1000万円未満"
    assert cost_band(9_999_999) == "300万円以上1000万円未満"
    assert cost_band(10_000_000) == "1000万円以上"
    assert cost_band(None) == "未記入"


@pytest.fixture
def week_digest(database: Database, seeder: Seeder) -> tuple[Digest, dict[str, str]]:
    made = {
        # Sunday 23:30 JST: still week 47 although the UTC date is the same Sunday.
        "sunday_late": seeder.sheet(created_at=jst(22, 23, 30), department="市民課",
                                    business="日曜深夜", initial_cost=1_000_000),
        # Monday 00:10 JST: week 48 (Sunday 15:10 UTC).
        "monday_early": seeder.sheet(created_at=jst(23, 0, 10), department="市民課",
                                     business="月曜未明", initial_cost=50_000_000),
        # Submitted in week 46 and still waiting: open, and waiting more than 7 days.
        "old_waiting": seeder.sheet(
            created_at=jst(9, 10), department="税務課", business="課税台帳",
            initial_cost=3_000_000, moves=[("submitted", jst(10, 9))],
        ),
        "returned": seeder.sheet(
            created_at=jst(17, 9), department="税務課", business="納税通知",
            initial_cost=12_000_000,
            outcomes={"dx_council_required": True, "rfi_recommended": True},
            moves=[("submitted", jst(17, 10)), ("in_review", jst(18, 10)),
                   ("returned", jst(20, 17))],
        ),
        "accepted": seeder.sheet(
            created_at=jst(16, 0, 5), department="市民課", business="窓口予約",
            initial_cost=2_000_000, outcomes={"dx_council_required": False,
                                              "rfi_recommended": True},
            moves=[("submitted", jst(16, 9)), ("in_review", jst(16, 10)),
                   ("accepted", jst(19, 11))],
        ),
        # Submitted at 23:50 JST on Sunday: counts as submitted in week 47, still open.
        "late_submit": seeder.sheet(
            created_at=jst(21, 12), department=None, business="部署なし",
            initial_cost=None, moves=[("submitted", jst(22, 23, 50))],
        ),
        # Accepted later (week 48): in week 47 it was still open (確認中).
        "later_accept": seeder.sheet(
            created_at=jst(2, 9), department="企画課", business="庁内チャット",
            initial_cost=8_000_000,
            moves=[("submitted", jst(18, 9)), ("in_review", jst(19, 9)),
                   ("accepted", jst(24, 9))],
        ),
        "other_tenant": seeder.sheet(created_at=jst(18, 9), tenant="T2", department="市民課",
                                     business="他団体"),
    }
    seeder.question("住民票の API 連携は？", at=jst(17, 9), answered=False)
    seeder.question("住民票の  API 連携は？", at=jst(22, 23, 59), answered=False)
    seeder.question("クラウド利用の基準は？", at=jst(19, 9), answered=False)
    seeder.question("RFI とは？", at=jst(18, 9), answered=True)
    seeder.question("翌週の質問", at=jst(23, 0, 5), answered=False)
    seeder.question("他団体の質問", at=jst(18, 9), answered=False, tenant="T2")
    digest = compile_digest(ReviewStore(database), W47, "T1", now=jst(25, 9))
    return digest, {name: sheet.reference for name, sheet in made.items()}


def test_digest_sections_follow_the_tokyo_week(
    week_digest: tuple[Digest, dict[str, str]],
) -> None:
    digest, ref = week_digest
    assert digest.as_of == W47.end()
    assert sorted(refs(digest.new)) == sorted(
        [ref["sunday_late"], ref["returned"], ref["accepted"], ref["late_submit"]]
    )
    assert ref["monday_early"] not in refs(digest.new)
    assert sorted(refs(digest.submitted)) == sorted(
        [ref["returned"], ref["accepted"], ref["late_submit"], ref["later_accept"]]
    )
    assert refs(digest.returned) == [ref["returned"]]
    assert refs(digest.accepted) == [ref["accepted"]]
    assert sorted(refs(digest.still_open)) == sorted(
        [ref["old_waiting"], ref["late_submit"], ref["later_accept"]]
    )
    # The status shown is the status at the end of the week, not today's.
    later = next(s for s in digest.still_open if s.reference == ref["later_accept"])
    assert later.status == "確認中"
    groups = {group.title: refs(group.sheets) for group in digest.groups}
    assert groups["DX推進本部会議での協議が必要"] == [ref["returned"]]
    assert sorted(groups["情報提供招請（RFI）が推奨"]) == sorted(
        [ref["returned"], ref["accepted"]]
    )
    assert [w.sheet.reference for w in digest.waiting] == [ref["old_waiting"]]
    assert digest.waiting[0].waiting_days == 12
    assert all("他団体" not in s.business for s in digest.new)


def test_digest_counts_bands_and_unanswered_questions(
    week_digest: tuple[Digest, dict[str, str]],
) -> None:
    digest, _ = week_digest
    bands = {band.label: (band.count, band.total) for band in digest.cost_bands}
    assert bands == {
        "300万円未満": (2, 3_000_000),
        "300万円以上1000万円未満": (2, 11_000_000),
        "1000万円以上": (1, 12_000_000),
        "未記入": (1, 0),
    }
    assert digest.cost_total == 26_000_000
    assert dict(digest.by_status) == {"下書き": 1, "提出済み": 2, "確認中": 1,
                                      "差し戻し": 1, "受理": 1}
    departments = {d.department: d.total for d in digest.by_department}
    assert departments == {"市民課": 2, "税務課": 2, "企画課": 1, "（部署未設定）": 1}
    assert digest.unanswered_count == 3
    assert digest.question_count == 4
    assert [(g.text, g.count) for g in digest.unanswered] == [
        ("住民票の API 連携は？", 2), ("クラウド利用の基準は？", 1),
    ]


def test_running_week_is_judged_now(database: Database, seeder: Seeder) -> None:
    sheet = seeder.sheet(created_at=jst(16, 9), moves=[("submitted", jst(16, 10))])
    digest = compile_digest(ReviewStore(database), W47, "T1", now=jst(18, 12))
    assert digest.as_of == jst(18, 12)
    assert refs(digest.still_open) == [sheet.reference]
    assert digest.waiting == ()
