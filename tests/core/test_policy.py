"""The one policy module: who may do what with a 相談シート, and the one audit writer.

The review matrix (``tests/review/test_review_access_matrix.py``) covers the review
actions through the desk; this covers the decisions the core and the CLI ask for
(a requester's own sheets, follow-ups, reopening, review memos, reading) and
:func:`write_audit` on a real database.
"""

from __future__ import annotations

import pytest

from bot.core.policy import (
    NOT_REGISTERED,
    NOT_YOURS,
    OUTSIDE_TENANT,
    REVIEWERS_ONLY,
    SHEET_UNAVAILABLE,
    SPEC_MEMO_NOT_ALLOWED,
    Actor,
    Sheet,
    decide,
    write_audit,
)
from storage import AuditResult, Database, list_audit

REQUESTER = Actor("slack", "T1", "U1", role="staff", department="市民課")
OTHER_REQUESTER = Actor("slack", "T1", "U2", role="staff", department="税務課")
COLLEAGUE = Actor("slack", "T1", "U3", role="staff", department="市民課")
REVIEWER = Actor("slack", "T1", "UR", role="reviewer")
ADMIN = Actor("slack", "T1", "UA", role="admin")
OTHER_TENANT = Actor("slack", "T2", "UR2", role="reviewer")
SAME_ID_ELSEWHERE = Actor("teams", "T1", "U1", role="staff", department="市民課")
UNREGISTERED_REQUESTER = Actor("slack", "T1", "U1")
FOREIGN = Actor("slack", "T1", "U1", outside_from="T9")


def sheet(status: str = "returned", *, requester: str = "U1") -> Sheet:
    return Sheet("s-1", "2026-0001", "T1", "市民課", status, ("slack", requester))


PEOPLE = {
    "requester": REQUESTER, "other requester": OTHER_REQUESTER, "colleague": COLLEAGUE,
    "reviewer": REVIEWER, "admin": ADMIN, "other tenant": OTHER_TENANT,
    "same id in another channel": SAME_ID_ELSEWHERE,
    "unregistered requester": UNREGISTERED_REQUESTER, "from outside": FOREIGN,
}

# Allowed (True) or the reason given, for each (person, action) on a returned sheet.
EXPECTED: dict[str, dict[str, bool | str]] = {
    "requester": {"reopen": True, "follow_up": True, "spec_memo": True, "view": True},
    "other requester": {"reopen": NOT_YOURS, "follow_up": NOT_YOURS,
                        "spec_memo": SPEC_MEMO_NOT_ALLOWED, "view": SHEET_UNAVAILABLE},
    "colleague": {"reopen": NOT_YOURS, "follow_up": NOT_YOURS,
                  "spec_memo": SPEC_MEMO_NOT_ALLOWED, "view": True},
    "reviewer": {"reopen": NOT_YOURS, "follow_up": NOT_YOURS, "spec_memo": True, "view": True},
    "admin": {"reopen": NOT_YOURS, "follow_up": NOT_YOURS,
              "spec_memo": SPEC_MEMO_NOT_ALLOWED, "view": REVIEWERS_ONLY},
    "other tenant": {"reopen": NOT_YOURS, "follow_up": NOT_YOURS,
                     "spec_memo": SPEC_MEMO_NOT_ALLOWED, "view": SHEET_UNAVAILABLE},
    "same id in another channel": {"reopen": NOT_YOURS, "follow_up": NOT_YOURS,
                                   "spec_memo": SPEC_MEMO_NOT_ALLOWED, "view": True},
    "unregistered requester": {"reopen": True, "follow_up": True, "spec_memo": True,
                               "view": NOT_REGISTERED},
    "from outside": {"reopen": OUTSIDE_TENANT, "follow_up": OUTSIDE_TENANT,
                     "spec_memo": OUTSIDE_TENANT, "view": OUTSIDE_TENANT},
}


@pytest.mark.parametrize("who", list(PEOPLE))
@pytest.mark.parametrize("action", ["reopen", "follow_up", "spec_memo", "view"])
def test_decisions_on_a_returned_sheet(who: str, action: str) -> None:
    decision = decide(PEOPLE[who], action, sheet())  # type: ignore[arg-type]
    expected = EXPECTED[who][action]
    if expected is True:
        assert decision.allowed and decision.reason == ""
    else:
        assert not decision.allowed and decision.reason == expected


def test_the_status_decides_reopen_and_follow_up_for_the_requester() -> None:
    submitted = sheet("submitted")
    assert decide(REQUESTER, "follow_up", submitted).allowed
    closed = decide(REQUESTER, "follow_up", sheet("closed"))
    assert not closed.allowed and "「完了」のため、続きの相談を追加できません" in closed.reason
    refused = decide(REQUESTER, "reopen", submitted)
    assert not refused.allowed
    assert refused.reason == ("相談シート 2026-0001 は「提出済み」のため修正できません。"
                              "差し戻されたシートだけを修正・再提出できます。")


def test_a_missing_sheet_is_refused_like_someone_elses() -> None:
    assert decide(REQUESTER, "reopen", None).reason == NOT_YOURS
    assert decide(REVIEWER, "spec_memo", None).reason == SHEET_UNAVAILABLE
    assert decide(REVIEWER, "view", None).reason == SHEET_UNAVAILABLE


def test_everyone_of_the_tenant_lists_only_their_own_sheets() -> None:
    for actor in (REQUESTER, REVIEWER, ADMIN, UNREGISTERED_REQUESTER):
        scope = decide(actor, "list_own").scope
        assert scope is not None
        assert scope.includes(sheet()) is (actor.user_id == "U1")
    assert decide(FOREIGN, "list_own").reason == OUTSIDE_TENANT


def test_write_audit_is_the_one_writer(database: Database) -> None:
    cli_user = Actor("slack", "T1", "UR", role="reviewer", via="cli", department_pending=True)
    with database.session() as session:
        write_audit(session, REQUESTER, "sheet.submit", target="s-1")
        write_audit(session, cli_user, "sheet.export", detail={"count": 2})
        write_audit(session, "teams:T9:U9", "teams.activity", "denied", tenant="T9",
                    detail={"reason": "tenant"})
        write_audit(session, REVIEWER, "review.change_status", "failed", target="s-1")
    with database.session() as session:
        rows = list_audit(session=session)
    assert [(r.actor, r.action, r.result, r.tenant, r.target, r.detail) for r in rows] == [
        ("slack:T1:U1", "sheet.submit", AuditResult.ALLOWED, "T1", "s-1", {}),
        ("slack:T1:UR", "sheet.export", AuditResult.ALLOWED, "T1", None,
         {"count": 2, "via": "cli", "department_status": "pending"}),
        ("teams:T9:U9", "teams.activity", AuditResult.DENIED, "T9", None, {"reason": "tenant"}),
        ("slack:T1:UR", "review.change_status", AuditResult.DENIED, "T1", "s-1",
         {"outcome": "failed"}),
    ]
