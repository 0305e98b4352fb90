"""Repository of user profiles (role, department) and conversation references.

Departments change only through :func:`assign_department`: a self-declared one is
pending until an administrator confirms it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final

import sqlalchemy as sa
from sqlmodel import Session, col, select

from storage.columns import utc_now
from storage.conflicts import dialect_insert
from storage.models import ConversationRef, UserProfile, UserRole, new_id


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset()
"""Marks an argument that was not given (``None`` means "clear the value")."""


def get_user_profile(
    *, session: Session, channel: str, tenant: str, user_id: str
) -> UserProfile | None:
    """The profile of a chat user, or None when nobody assigned one yet."""
    statement = (
        select(UserProfile)
        .where(
            UserProfile.channel == channel,
            UserProfile.tenant == tenant,
            UserProfile.user_id == user_id,
        )
        .execution_options(populate_existing=True)
    )
    return session.exec(statement).first()


def upsert_user_profile(
    *,
    session: Session,
    channel: str,
    tenant: str,
    user_id: str,
    display_name: str | _Unset | None = UNSET,
    department: str | _Unset | None = UNSET,
    role: UserRole | _Unset = UNSET,
    now: datetime | None = None,
) -> UserProfile:
    """Create the profile or change only the fields given (one atomic upsert).

    A new profile gets role ``staff`` unless ``role`` is given. ``department`` is
    passed on to :func:`assign_department` as a self-declared (pending) one; code
    that knows an administrator set it calls :func:`assign_department` itself.
    """
    at = now or utc_now()
    changes: dict[str, Any] = {"updated_at": at}
    if not isinstance(display_name, _Unset):
        changes["display_name"] = display_name
    if not isinstance(role, _Unset):
        changes["role"] = UserRole(role).value
    profile = _upsert(session, channel, tenant, user_id, changes)
    if isinstance(department, _Unset):
        return profile
    return assign_department(
        session=session, channel=channel, tenant=tenant, user_id=user_id,
        department=department, confirmed_by=None, now=at,
    )


def assign_department(
    *,
    session: Session,
    channel: str,
    tenant: str,
    user_id: str,
    department: str | None,
    confirmed_by: str | None,
    now: datetime | None = None,
) -> UserProfile:
    """Set a user's department: the one function every path goes through.

    Args:
        department: the department name; ``None`` clears it.
        confirmed_by: the administrator's audit actor key (``cli:local:<OS user>``,
            ``slack:T1:UADMIN``) when an administrator set or confirmed it; ``None``
            for a department the user declared themselves, which stays *pending*
            (it opens only the user's own sheets) until an administrator confirms it.
            Declaring the department a user already has confirmed keeps the
            confirmation.

    Creates the profile (role ``staff``) when there is none. The caller writes the
    audit row.
    """
    at = now or utc_now()
    current = get_user_profile(session=session, channel=channel, tenant=tenant, user_id=user_id)
    keep = (
        confirmed_by is None
        and current is not None
        and current.department == department
        and current.department_confirmed_at is not None
    )
    changes: dict[str, Any] = {"department": department, "updated_at": at}
    if not keep:
        confirmed = confirmed_by is not None and department is not None
        changes["department_confirmed_at"] = at if confirmed else None
        changes["department_confirmed_by"] = confirmed_by if confirmed else None
    return _upsert(session, channel, tenant, user_id, changes)


def _upsert(
    session: Session, channel: str, tenant: str, user_id: str, changes: dict[str, Any]
) -> UserProfile:
    values = {
        "id": new_id(),
        "channel": channel,
        "tenant": tenant,
        "user_id": user_id,
        "role": UserRole.STAFF.value,
        **changes,
    }
    statement = (
        dialect_insert(session, UserProfile)
        .values(**values)
        .on_conflict_do_update(index_elements=["channel", "tenant", "user_id"], set_=changes)
    )
    session.execute(statement)
    profile = get_user_profile(session=session, channel=channel, tenant=tenant, user_id=user_id)
    assert profile is not None  # just upserted
    return profile


def list_user_profiles(
    *,
    session: Session,
    channel: str | None = None,
    tenant: str | None = None,
    role: UserRole | None = None,
    department: str | None = None,
    pending: bool | None = None,
) -> list[UserProfile]:
    """Profiles matching every filter given, by channel, tenant and user id.

    ``pending=True``: only profiles whose department awaits an administrator's
    confirmation; ``False``: only the others.
    """
    statement = select(UserProfile)
    if channel is not None:
        statement = statement.where(UserProfile.channel == channel)
    if tenant is not None:
        statement = statement.where(UserProfile.tenant == tenant)
    if role is not None:
        statement = statement.where(UserProfile.role == UserRole(role))
    if department is not None:
        statement = statement.where(UserProfile.department == department)
    if pending is not None:
        waiting = sa.and_(
            col(UserProfile.department).is_not(None),
            col(UserProfile.department_confirmed_at).is_(None),
        )
        statement = statement.where(waiting if pending else sa.not_(waiting))
    statement = statement.order_by(
        col(UserProfile.channel), col(UserProfile.tenant), col(UserProfile.user_id)
    )
    return list(session.exec(statement).all())


def upsert_conversation_ref(
    *,
    session: Session,
    channel: str,
    tenant: str,
    conversation: str,
    reference: dict[str, Any],
    user_id: str | None = None,
    now: datetime | None = None,
) -> ConversationRef:
    """Store how to reach a conversation later; the newest reference replaces the old one."""
    at = now or utc_now()
    changes: dict[str, Any] = {"reference": dict(reference), "updated_at": at}
    if user_id is not None:
        changes["user_id"] = user_id
    statement = (
        dialect_insert(session, ConversationRef)
        .values(
            {
                "id": new_id(),
                "channel": channel,
                "tenant": tenant,
                "conversation": conversation,
                "user_id": user_id,
                **changes,
            }
        )
        .on_conflict_do_update(index_elements=["channel", "tenant", "conversation"], set_=changes)
    )
    session.execute(statement)
    ref = get_conversation_ref(
        session=session, channel=channel, tenant=tenant, conversation=conversation
    )
    assert ref is not None  # just upserted
    return ref


def get_conversation_ref(
    *, session: Session, channel: str, tenant: str, conversation: str
) -> ConversationRef | None:
    """The stored reference of a conversation, or None."""
    statement = (
        select(ConversationRef)
        .where(
            ConversationRef.channel == channel,
            ConversationRef.tenant == tenant,
            ConversationRef.conversation == conversation,
        )
        .execution_options(populate_existing=True)
    )
    return session.exec(statement).first()


def find_conversation_ref(
    *, session: Session, channel: str, conversation: str
) -> ConversationRef | None:
    """The most recently updated reference of a conversation in any tenant, or None.

    For an address that names a conversation but no tenant (e.g. the Teams digest
    conversation configured as a bare conversation id).
    """
    statement = (
        select(ConversationRef)
        .where(
            ConversationRef.channel == channel,
            ConversationRef.conversation == conversation,
        )
        .order_by(col(ConversationRef.updated_at).desc())
        .execution_options(populate_existing=True)
    )
    return session.exec(statement).first()


def find_user_conversation_ref(
    *, session: Session, channel: str, tenant: str, user_id: str
) -> ConversationRef | None:
    """The user's most recently updated conversation reference (for a DM), or None."""
    statement = (
        select(ConversationRef)
        .where(
            ConversationRef.channel == channel,
            ConversationRef.tenant == tenant,
            ConversationRef.user_id == user_id,
        )
        .order_by(col(ConversationRef.updated_at).desc())
        .execution_options(populate_existing=True)
    )
    return session.exec(statement).first()
