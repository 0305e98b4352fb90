"""Repository of flow sessions: the persisted state of each conversation's flow.

Optimistic concurrency: every save names the version it was based on and bumps
it with ``UPDATE ... WHERE id = :id AND version = :expected``. A save based on an
old version matches no row and raises :class:`StaleSessionError`, so two replicas
handling two clicks at once never silently overwrite each other.

Example:
    >>> fs = start_flow_session(session=s, channel="slack", tenant="T1",
    ...     conversation="C1:17.1", user_id="U1", flow_id="ict_adoption")   # doctest: +SKIP
    >>> fs = save_flow_session(session=s, flow_session_id=fs.id,
    ...     expected_version=fs.version, state={"step": "initial_cost"})    # doctest: +SKIP
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from storage.columns import utc_now
from storage.errors import ActiveSessionExistsError, NotFoundError, StaleSessionError
from storage.models import FlowSession, FlowStatus

RESUMABLE_STATUSES = (FlowStatus.ACTIVE, FlowStatus.SUSPENDED)


def start_flow_session(
    *,
    session: Session,
    channel: str,
    tenant: str,
    conversation: str,
    user_id: str,
    flow_id: str,
    state: dict[str, Any] | None = None,
    sheet_id: str | None = None,
    now: datetime | None = None,
) -> FlowSession:
    """Create an ``active`` flow session at version 1.

    Raises:
        ActiveSessionExistsError: the conversation already has an active session
            (also when another replica started one at the same moment).
    """
    at = now or utc_now()
    flow_session = FlowSession(
        channel=channel,
        tenant=tenant,
        conversation=conversation,
        user_id=user_id,
        flow_id=flow_id,
        state=dict(state or {}),
        sheet_id=sheet_id,
        status=FlowStatus.ACTIVE,
        version=1,
        created_at=at,
        updated_at=at,
    )
    try:
        with session.begin_nested():
            session.add(flow_session)
    except sa.exc.IntegrityError as error:
        raise ActiveSessionExistsError(conversation) from error
    return flow_session


def get_flow_session(*, session: Session, flow_session_id: str) -> FlowSession | None:
    """The flow session with this id as stored now, or None."""
    return session.get(FlowSession, flow_session_id, populate_existing=True)


def get_active_flow_session(
    *, session: Session, channel: str, tenant: str, conversation: str
) -> FlowSession | None:
    """The conversation's active flow session (there is at most one), or None."""
    statement = (
        select(FlowSession)
        .where(
            FlowSession.channel == channel,
            FlowSession.tenant == tenant,
            FlowSession.conversation == conversation,
            FlowSession.status == FlowStatus.ACTIVE,
        )
        .execution_options(populate_existing=True)
    )
    return session.exec(statement).first()


def find_resumable_flow_session(
    *,
    session: Session,
    channel: str,
    tenant: str,
    user_id: str,
    flow_id: str | None = None,
) -> FlowSession | None:
    """The user's most recently updated active or suspended session, in any conversation.

    This is what 「続きから」 resumes, possibly days later in a new conversation
    (rebind it with ``save_flow_session(..., conversation=...)``).
    """
    statement = select(FlowSession).where(
        FlowSession.channel == channel,
        FlowSession.tenant == tenant,
        FlowSession.user_id == user_id,
        col(FlowSession.status).in_(RESUMABLE_STATUSES),
    )
    if flow_id is not None:
        statement = statement.where(FlowSession.flow_id == flow_id)
    statement = statement.order_by(
        col(FlowSession.updated_at).desc(), col(FlowSession.version).desc()
    ).execution_options(populate_existing=True)
    return session.exec(statement).first()


def save_flow_session(
    *,
    session: Session,
    flow_session_id: str,
    expected_version: int,
    state: dict[str, Any] | None = None,
    status: FlowStatus | None = None,
    sheet_id: str | None = None,
    conversation: str | None = None,
    now: datetime | None = None,
) -> FlowSession:
    """Save a flow session that was loaded at ``expected_version``; bump the version.

    Arguments left as None keep their stored value. ``conversation`` moves the
    session to another conversation (resume elsewhere).

    Returns:
        The session as stored, with ``version == expected_version + 1``.

    Raises:
        StaleSessionError: someone saved a newer version first.
        ActiveSessionExistsError: moving/reactivating it would give the target
            conversation a second active session.
        NotFoundError: no such session.
    """
    values: dict[str, Any] = {
        "version": FlowSession.version + 1,
        "updated_at": now or utc_now(),
    }
    if state is not None:
        values["state"] = dict(state)
    if status is not None:
        values["status"] = FlowStatus(status)
    if sheet_id is not None:
        values["sheet_id"] = sheet_id
    if conversation is not None:
        values["conversation"] = conversation
    statement = (
        sa.update(FlowSession)
        .where(
            col(FlowSession.id) == flow_session_id,
            col(FlowSession.version) == expected_version,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    try:
        with session.begin_nested():
            result = session.execute(statement)
    except sa.exc.IntegrityError as error:
        raise ActiveSessionExistsError(conversation or "") from error
    if result.rowcount != 1:  # type: ignore[attr-defined]
        if session.get(FlowSession, flow_session_id) is None:
            raise NotFoundError("相談の進行状況", flow_session_id)
        raise StaleSessionError(flow_session_id, expected_version)
    saved = get_flow_session(session=session, flow_session_id=flow_session_id)
    assert saved is not None  # the update above just matched it
    return saved
