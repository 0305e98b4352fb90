"""The access matrix: five kinds of user x six kinds of attempt, against the policy.

Every attempt, allowed or denied, must leave exactly one audit row, and a denial
must not reveal whether another department's sheet exists.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from bot.review.desk import ReviewDesk
from bot.review.outcomes import ReviewRefused
from bot.review.records import Actor
from bot.review.store import ReviewStore
from storage import Database
from storage.audit import count_audit, list_audit
from storage.models import AuditResult
from tests.review.review_fakes import Seeder

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)  # Friday 12:00 JST, week 2026-W47

STAFF_A = Actor("slack", "T1", "UA", role="staff", department="市民課")
STAFF_B = Actor("slack", "T1", "UB", role="staff", department="税務課")
REVIEWER = Actor("slack", "T1", "UR", role="reviewer")
UNASSIGNED = Actor("slack", "T1", "UX")
OTHER_TENANT = Actor("slack", "T2", "UR2", role="reviewer")

ACTIONS = ("view", "list", "edit", "export", "digest", "change_status")

# True = allowed. For list/export/digest "allowed" still means scoped: checked below.
EXPECTED = {
    "staff_a": {"view": True, "list": True, "edit": True, "export": True, "digest": False,
                "change_status": False},
    "staff_b": {"view": False, "list": True, "edit": False, "export": True, "digest": False,
                "change_status": False},
    "reviewer": {"view": True, "list": True, "edit": False, "export": True, "digest": True,
                 "change_status": True},
    "unassigned": {"view": False, "list": False, "edit": False, "export": False,
                   "digest": False, "change_status": False},
    "other_tenant": {"view": False, "list": True, "edit": False, "export": True,
                     "digest": True, "change_status": False},
}
ACTORS = {
    "staff_a": STAFF_A, "staff_b": STAFF_B, "reviewer": REVIEWER,
    "unassigned": UNASSIGNED, "other_tenant": OTHER_TENANT,
}


@pytest.fixture
def seeded(database: Database, seeder: Seeder) -> dict[str, str]:
    created = datetime(2026, 11, 17, 1, 0, tzinfo=UTC)
    submitted = datetime(2026, 11, 17, 2, 0, tzinfo=UTC)
    draft = seeder.sheet(created_at=created, department="市民課", business="窓口予約")
    pending = {
        name: seeder.sheet(
            created_at=created, department="市民課", business=f"申請受付 {name}",
            moves=[("submitted", submitted)],
        )
        for name in ACTORS
    }
    other = seeder.sheet(created_at=created, department="税務課", business="課税台帳")
    return {
        "draft": draft.reference,
        "other_department": other.reference,
        **{f"pending:{name}": sheet.reference for name, sheet in pending.items()},
    }


def _attempts(
    desk: ReviewDesk, actor: Actor, name: str, refs: dict[str, str]
) -> dict[str, Callable[[], object]]:
    return {
        "view": lambda: desk.show(actor, refs["draft"]),
        "list": lambda: desk.list_sheets(actor),
        "edit": lambda: desk.authorize(actor, "edit", refs["draft"]),
        "export": lambda: desk.export(actor, "json"),
        "digest": lambda: desk.digest(actor),
        "change_status": lambda: desk.start_review(actor, refs[f"pending:{name}"]),
    }


def test_access_matrix_matches_policy_and_audits_every_attempt(
    database: Database, seeded: dict[str, str]
) -> None:
    desk = ReviewDesk(ReviewStore(database), now=lambda: NOW)
    results: dict[tuple[str, str], object] = {}
    attempts = 0
    for name, actor in ACTORS.items():
        for action, run in _attempts(desk, actor, name, seeded).items():
            attempts += 1
            try:
                results[name, action] = run()
                allowed = True
            except ReviewRefused as refusal:
                results[name, action] = refusal.message
                allowed = False
            assert allowed is EXPECTED[name][action], (name, action, results[name, action])

    with database.session() as session:
        assert count_audit(session=session) == attempts == 30
        denied = count_audit(session=session, result=AuditResult.DENIED)
        for actor in ACTORS.values():
            assert count_audit(session=session, actor=actor.key) == len(ACTIONS)
    assert denied == sum(not ok for row in EXPECTED.values() for ok in row.values())

    a_refs = {seeded["draft"], seeded["pending:staff_a"]}
    # Staff of department A see A's sheets and nothing of B.
    listed_a = {s.reference for s in results["staff_a", "list"]}  # type: ignore[attr-defined]
    assert a_refs <= listed_a and seeded["other_department"] not in listed_a
    # Staff of department B see B's sheet only.
    listed_b = {s.reference for s in results["staff_b", "list"]}  # type: ignore[attr-defined]
    assert listed_b == {seeded["other_department"]}
    exported_b = json.loads(results["staff_b", "export"])  # type: ignore[arg-type]
    assert {row["reference"] for row in exported_b} == {seeded["other_department"]}
    # The reviewer sees every department.
    listed_r = {s.reference for s in results["reviewer", "list"]}  # type: ignore[attr-defined]
    assert seeded["other_department"] in listed_r and a_refs <= listed_r
    # Another tenant's reviewer sees nothing of tenant T1.
    assert results["other_tenant", "list"] == []
    assert json.loads(results["other_tenant", "export"]) == []  # type: ignore[arg-type]
    digest_t2 = results["other_tenant", "digest"]
    assert digest_t2.new == () and digest_t2.submitted == ()  # type: ignore[attr-defined]


def test_denial_does_not_reveal_other_departments_sheets(
    database: Database, seeded: dict[str, str]
) -> None:
    desk = ReviewDesk(ReviewStore(database), now=lambda: NOW)
    with pytest.raises(ReviewRefused) as foreign:
        desk.show(STAFF_A, seeded["other_department"])
    with pytest.raises(ReviewRefused) as missing:
        desk.show(STAFF_A, "2026-9999")
    assert foreign.value.message == missing.value.message
    assert "税務課" not in foreign.value.message
    assert "課税台帳" not in foreign.value.message
    with database.session() as session:
        rows = list_audit(session=session, actor=STAFF_A.key)
    assert [(r.action, r.result) for r in rows] == [
        ("review.view", AuditResult.DENIED), ("review.view", AuditResult.DENIED),
    ]


def test_staff_edit_only_while_draft_or_returned(
    database: Database, seeded: dict[str, str]
) -> None:
    desk = ReviewDesk(ReviewStore(database), now=lambda: NOW)
    assert desk.authorize(STAFF_A, "edit", seeded["draft"]).reference == seeded["draft"]
    with pytest.raises(ReviewRefused, match="提出済み"):
        desk.authorize(STAFF_A, "edit", seeded["pending:staff_a"])
