"""User profiles and conversation references contract."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from storage import (
    Database,
    UserRole,
    find_conversation_ref,
    find_user_conversation_ref,
    get_conversation_ref,
    get_user_profile,
    list_user_profiles,
    upsert_conversation_ref,
    upsert_user_profile,
)

T0 = datetime(2026, 11, 16, 0, 0, tzinfo=UTC)
USER: dict[str, Any] = {"channel": "slack", "tenant": "T1", "user_id": "U1"}


def test_profile_is_created_as_staff_and_changed_field_by_field(database: Database) -> None:
    with database.session() as session:
        assert get_user_profile(session=session, **USER) is None
        created = upsert_user_profile(session=session, **USER, display_name="木更津 太郎", now=T0)
        assert (created.role, created.department) == (UserRole.STAFF, None)

    with database.session() as session:
        upsert_user_profile(session=session, **USER, department="市民課")
        changed = upsert_user_profile(
            session=session, **USER, role=UserRole.REVIEWER, now=T0 + timedelta(days=1)
        )
        assert changed.id == created.id
        assert (changed.display_name, changed.department, changed.role) == (
            "木更津 太郎", "市民課", UserRole.REVIEWER,
        )
        assert changed.updated_at == T0 + timedelta(days=1)
        cleared = upsert_user_profile(session=session, **USER, department=None)
        assert cleared.department is None


def test_profiles_are_per_channel_and_tenant(database: Database) -> None:
    with database.session() as session:
        upsert_user_profile(session=session, **USER, department="市民課")
        upsert_user_profile(session=session, channel="slack", tenant="T2", user_id="U1",
                            role=UserRole.ADMIN)
        upsert_user_profile(session=session, channel="teams", tenant="T1", user_id="U1",
                            department="財政課")
        upsert_user_profile(session=session, channel="slack", tenant="T1", user_id="U0",
                            department="財政課", role=UserRole.REVIEWER)

    with database.session() as session:
        profile = get_user_profile(session=session, **USER)
        assert profile is not None and profile.department == "市民課"
        assert [p.user_id for p in list_user_profiles(session=session, tenant="T1")] == [
            "U0", "U1", "U1",
        ]
        assert len(list_user_profiles(session=session, channel="slack", tenant="T1")) == 2
        assert [p.tenant for p in list_user_profiles(session=session, role=UserRole.ADMIN)] == ["T2"]
        assert len(list_user_profiles(session=session, department="財政課")) == 2


def test_conversation_reference_upsert_and_lookup(database: Database) -> None:
    key = {"channel": "teams", "tenant": "tid", "conversation": "a:1"}
    with database.session() as session:
        upsert_conversation_ref(
            session=session, **key, user_id="29:u1",
            reference={"serviceUrl": "https://smba.example/", "v": 1}, now=T0,
        )
        upsert_conversation_ref(
            session=session, channel="teams", tenant="tid", conversation="a:2", user_id="29:u1",
            reference={"v": "other"}, now=T0 + timedelta(hours=1),
        )
    with database.session() as session:
        updated = upsert_conversation_ref(
            session=session, **key, reference={"serviceUrl": "https://smba.example/", "v": 2},
            now=T0 + timedelta(hours=2),
        )
        assert updated.reference["v"] == 2
        assert updated.user_id == "29:u1"  # not given: kept

    with database.session() as session:
        stored = get_conversation_ref(session=session, **key)
        assert stored is not None and stored.reference == {"serviceUrl": "https://smba.example/", "v": 2}
        latest = find_user_conversation_ref(session=session, channel="teams", tenant="tid", user_id="29:u1")
        assert latest is not None and latest.conversation == "a:1"
        assert get_conversation_ref(session=session, channel="slack", tenant="tid", conversation="a:1") is None


def test_a_conversation_reference_in_any_tenant_is_the_newest_of_that_channel(
    database: Database,
) -> None:
    with database.session() as session:
        for tenant, hours, channel in (("t1", 0, "teams"), ("t2", 1, "teams"), ("t3", 2, "slack")):
            upsert_conversation_ref(
                session=session, channel=channel, tenant=tenant, conversation="19:digest",
                reference={"tenant": tenant}, now=T0 + timedelta(hours=hours),
            )
    with database.session() as session:
        found = find_conversation_ref(session=session, channel="teams", conversation="19:digest")
        assert found is not None and found.reference == {"tenant": "t2"}
        assert find_conversation_ref(session=session, channel="teams", conversation="19:x") is None
