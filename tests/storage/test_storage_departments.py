"""Departments: self-declared ones stay pending until an administrator confirms them.

:func:`storage.assign_department` is the one way a department changes; migration
0003 sorts the departments recorded before it existed by the audit log.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from storage import (
    AuditResult,
    Database,
    assign_department,
    get_user_profile,
    list_user_profiles,
    record_audit,
    upsert_user_profile,
)

T0 = datetime(2026, 11, 16, 0, 0, tzinfo=UTC)
USER: dict[str, Any] = {"channel": "slack", "tenant": "T1", "user_id": "U1"}
ADMIN = "cli:local:operator"


def test_declared_is_pending_and_an_administrator_confirms(database: Database) -> None:
    with database.session() as session:
        declared = assign_department(session=session, **USER, department="税務課",
                                     confirmed_by=None, now=T0)
        assert declared.department == "税務課" and declared.department_pending
        assert declared.role.value == "staff"

        confirmed = assign_department(session=session, **USER, department="税務課",
                                      confirmed_by=ADMIN, now=T0 + timedelta(hours=1))
        assert not confirmed.department_pending
        assert (confirmed.department_confirmed_at, confirmed.department_confirmed_by) == (
            T0 + timedelta(hours=1), ADMIN,
        )
        # Declaring the same department again keeps the confirmation ...
        again = assign_department(session=session, **USER, department="税務課",
                                  confirmed_by=None)
        assert not again.department_pending
        # ... a different one is a new claim, and so is a name set through upsert.
        moved = upsert_user_profile(session=session, **USER, department="市民課")
        assert moved.department_pending and moved.department_confirmed_by is None
        cleared = assign_department(session=session, **USER, department=None,
                                    confirmed_by=ADMIN)
        assert cleared.department is None and not cleared.department_pending


def test_pending_profiles_can_be_listed(database: Database) -> None:
    with database.session() as session:
        assign_department(session=session, **USER, department="税務課", confirmed_by=None)
        assign_department(session=session, channel="slack", tenant="T1", user_id="U2",
                          department="市民課", confirmed_by=ADMIN)
        upsert_user_profile(session=session, channel="slack", tenant="T1", user_id="U3",
                            display_name="部署なし")
        assert [p.user_id for p in list_user_profiles(session=session, pending=True)] == ["U1"]
        assert [p.user_id for p in list_user_profiles(session=session, pending=False)] == [
            "U2", "U3",
        ]


def test_migration_0003_confirms_only_what_an_administrator_set(
    empty_database: Database,
) -> None:
    empty_database.upgrade("0002")
    profiles = {
        "UADMIN_SET": "市民課",    # soudan users add
        "USELF": "税務課",         # answered the core's question
        "USELF_DESK": "財政課",    # the review desk's form
        "UNOAUDIT": "総務課",      # no audit row at all
        "USELF_THEN_ADMIN": "企画課",  # declared, later set by an administrator
    }
    insert = sa.text(
        "INSERT INTO user_profile (id, channel, tenant, user_id, department, role, updated_at) "
        "VALUES (:id, 'slack', 'T1', :user, :department, 'staff', :at)"
    )
    with empty_database.engine.begin() as connection:
        for user, department in profiles.items():
            connection.execute(insert, {"id": user, "user": user, "department": department,
                                        "at": T0.replace(tzinfo=None)})
    with empty_database.session() as session:
        def audit(actor: str, action: str, target: str | None, at: datetime) -> None:
            record_audit(session=session, actor=actor, action=action,
                         result=AuditResult.ALLOWED, target=target, tenant="T1", now=at)

        audit(ADMIN, "review.user.add", "slack:T1:UADMIN_SET", T0)
        audit("slack:T1:USELF", "user.set_department", None, T0)
        audit("slack:T1:USELF_DESK", "review.user.set_department", "slack:T1:USELF_DESK", T0)
        audit("slack:T1:USELF_THEN_ADMIN", "user.set_department", None, T0)
        audit(ADMIN, "review.user.set_department", "slack:T1:USELF_THEN_ADMIN",
              T0 + timedelta(days=1))

    empty_database.upgrade()

    with empty_database.session() as session:
        found = {
            user: get_user_profile(session=session, channel="slack", tenant="T1", user_id=user)
            for user in profiles
        }
    pending = {user for user, profile in found.items() if profile and profile.department_pending}
    assert pending == {"USELF", "USELF_DESK", "UNOAUDIT"}
    confirmed = found["USELF_THEN_ADMIN"]
    assert confirmed is not None and confirmed.department_confirmed_by == ADMIN
    assert confirmed.department_confirmed_at == T0 + timedelta(days=1)
