"""The access matrix: eight kinds of user x six kinds of attempt, against the policy.

Every attempt, allowed or denied, must leave exactly one audit row, and a denial
must not reveal whether another department's sheet exists. A staff member whose
department is self-declared (pending) counts as having none beyond their own sheets;
a user from another Slack workspace (Slack Connect) or another Azure AD tenant (Teams)
counts as having no role at all.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from bot.cli.acting import os_operator
from bot.core.messages import Inbound
from bot.core.policy import OUTSIDE_TENANT, SHEET_UNAVAILABLE
from bot.review.desk import ReviewDesk
from bot.review.outcomes import ReviewRefused
from bot.review.records import Actor
from bot.review.store import ReviewStore
from bot.users import UserDirectory
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
# Declared 市民課 in chat; no administrator has confirmed it yet.
PENDING_A = Actor("slack", "T1", "UP", role="staff", department="市民課", department_pending=True)
# Writes in tenant T1's shared channel from workspace T9 (Slack Connect); whatever a
# profile says, they are outside (built by ReviewDesk.actor_for, checked below).
FOREIGN = Actor("slack", "T1", "UF", outside_from="T9")
# Writes in tenant T1's Teams from another Azure AD tenant (a shared channel).
TEAMS_GUEST = Actor("teams", "T1", "UG", outside_from="aad-tenant-other")

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
    "pending_a": {"view": False, "list": True, "edit": False, "export": True,
                  "digest": False, "change_status": False},
    "foreign": {"view": False, "list": False, "edit": False, "export": False,
                "digest": False, "change_status": False},
    "teams_guest": {"view": False, "list": False, "edit": False, "export": False,
                    "digest": False, "change_status": False},
}
ACTORS = {
    "staff_a": STAFF_A, "staff_b": STAFF_B, "reviewer": REVIEWER,
    "unassigned": UNASSIGNED, "other_tenant": OTHER_TENANT,
    "pending_a": PENDING_A, "foreign": FOREIGN, "teams_guest": TEAMS_GUEST,
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
    own = seeder.sheet(created_at=created, department="市民課", business="自分の申請",
                       requester_id=PENDING_A.user_id)
    return {
        "draft": draft.reference,
        "other_department": other.reference,
        "own_pending": own.reference,
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
        assert count_audit(session=session) == attempts == 48
        denied = count_audit(session=session, result=AuditResult.DENIED)
        for actor in ACTORS.values():
            assert count_audit(session=session, actor=actor.key) == len(ACTIONS)
        foreign_rows = list_audit(session=session, actor=FOREIGN.key)
        pending_rows = list_audit(session=session, actor=PENDING_A.key)
    assert denied == sum(not ok for row in EXPECTED.values() for ok in row.values())
    assert {r.detail.get("outside_from") for r in foreign_rows} == {"T9"}
    assert {r.result for r in foreign_rows} == {AuditResult.DENIED}
    assert {r.detail.get("department_status") for r in pending_rows} == {"pending"}

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
    # A pending department opens only the sheets its holder requested.
    listed_p = {s.reference for s in results["pending_a", "list"]}  # type: ignore[attr-defined]
    assert listed_p == {seeded["own_pending"]}
    exported_p = json.loads(results["pending_a", "export"])  # type: ignore[arg-type]
    assert {row["reference"] for row in exported_p} == {seeded["own_pending"]}
    # Outside the tenant: a polite refusal that mentions neither sheets nor departments.
    assert "組織の外" in str(results["foreign", "list"])
    assert "市民課" not in str(results["foreign", "view"])


def test_pending_department_gives_the_own_sheets_and_confirmation_the_department(
    database: Database, seeded: dict[str, str]
) -> None:
    store = ReviewStore(database)
    desk = ReviewDesk(store, now=lambda: NOW)
    store.save_user("slack", "T1", PENDING_A.user_id, role="staff", department="市民課")
    pending = desk.actor_for(Inbound("slack", "T1", "D1", PENDING_A.user_id))
    assert pending.department_pending and pending.confirmed_department is None

    assert desk.show(pending, seeded["own_pending"]).sheet.business == "自分の申請"
    assert desk.authorize(pending, "edit", seeded["own_pending"])
    with pytest.raises(ReviewRefused) as refused:
        desk.show(pending, seeded["draft"])
    assert refused.value.message == SHEET_UNAVAILABLE  # the same answer as a missing sheet

    with pytest.raises(ReviewRefused, match="管理者"):
        UserDirectory(store).confirm_department(pending.key, operator=STAFF_A)
    UserDirectory(store).confirm_department(pending.key, operator=os_operator())  # the shell
    confirmed = desk.actor_for(Inbound("slack", "T1", "D1", PENDING_A.user_id))
    assert confirmed.confirmed_department == "市民課"
    assert desk.show(confirmed, seeded["draft"]).sheet.business == "窓口予約"
    listed = {s.reference for s in desk.list_sheets(confirmed)}
    assert {seeded["draft"], seeded["own_pending"]} <= listed
    assert seeded["other_department"] not in listed
    with database.session() as session:
        rows = list_audit(session=session, action="review.user.confirm_department")
    assert [(r.actor, r.result) for r in rows] == [
        (STAFF_A.key, AuditResult.DENIED), (os_operator().key, AuditResult.ALLOWED),
    ]


def test_a_slack_connect_user_is_outside_whatever_their_profile_says(
    database: Database, seeded: dict[str, str]
) -> None:
    store = ReviewStore(database)
    store.save_user("slack", "T1", FOREIGN.user_id, role="reviewer")
    inbound = Inbound("slack", "T1", "C1:1.0", FOREIGN.user_id, home_tenant="T9")

    outside = ReviewDesk(store, now=lambda: NOW).actor_for(inbound)
    assert outside == FOREIGN
    assert ReviewDesk(store, now=lambda: NOW).consult_refusal(outside) == OUTSIDE_TENANT
    # A team the operator lists in SOUDAN_SLACK_ALLOWED_TEAMS counts as inside.
    admitted = ReviewDesk(store, now=lambda: NOW, admitted={"T9"}).actor_for(inbound)
    assert admitted.role == "reviewer" and admitted.outside_from is None
    # Home reported as the installation itself: inside.
    same = ReviewDesk(store).actor_for(Inbound("slack", "T1", "C1", FOREIGN.user_id,
                                               home_tenant="T1"))
    assert same.role == "reviewer"
    with database.session() as session:
        rows = list_audit(session=session, action="review.consult")
    assert [(r.result, r.detail.get("outside_from")) for r in rows] == [
        (AuditResult.DENIED, "T9"),
    ]


def test_a_teams_user_from_another_azure_ad_tenant_is_outside_unless_admitted(
    database: Database, seeded: dict[str, str]
) -> None:
    store = ReviewStore(database)
    store.save_user("teams", "T1", TEAMS_GUEST.user_id, role="staff", department="市民課",
                    confirmed_by="cli:local:operator")
    inbound = Inbound("teams", "T1", "19:c@thread.tacv2", TEAMS_GUEST.user_id,
                      home_tenant="aad-tenant-other")

    outside = ReviewDesk(store, now=lambda: NOW).actor_for(inbound)
    assert outside == TEAMS_GUEST
    assert ReviewDesk(store, now=lambda: NOW).consult_refusal(outside) == OUTSIDE_TENANT
    with pytest.raises(ReviewRefused):
        ReviewDesk(store, now=lambda: NOW).show(outside, seeded["draft"])
    # A tenant the operator lists in SOUDAN_TEAMS_ALLOWED_TENANTS counts as inside.
    admitted = ReviewDesk(store, now=lambda: NOW, admitted={"aad-tenant-other"})
    inside = admitted.actor_for(inbound)
    assert inside.confirmed_department == "市民課" and inside.outside_from is None
    assert admitted.show(inside, seeded["draft"]).sheet.business == "窓口予約"
    # A Slack team of the same name admits nobody else's tenant: the setting is per id.
    assert ReviewDesk(store, admitted={"T9"}).actor_for(inbound).outside_from == (
        "aad-tenant-other"
    )


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
