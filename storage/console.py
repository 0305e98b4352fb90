"""The web console's sign-in links and sessions (tables and repository functions).

A sign-in link is issued in chat (「管理画面」) and redeemed once: its row records
when it was used, and :func:`redeem_sign_in` marks it in one conditional ``UPDATE``
so two clicks racing on two replicas cannot both open a session. A console session
is a row keyed by the SHA-256 of the cookie's random value (the cookie itself is
never stored); it expires, slides while used, and can be revoked.

Example:
    >>> with db.session() as session:                                    # doctest: +SKIP
    ...     issue_sign_in(session=session, link_id="abc", actor="slack:T1:U1",
    ...                   expires_at=now + timedelta(minutes=10), now=now)
    ...     redeem_sign_in(session=session, link_id="abc", now=now)
    True
"""

from __future__ import annotations

import hashlib
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, select, update

from storage.columns import UTCDateTime, utc_now


class ConsoleSignIn(SQLModel, table=True):
    """A sign-in link issued in chat: bound to one user, valid until used or expired."""

    __tablename__ = "console_sign_in"

    id: str = Field(primary_key=True, max_length=64)
    actor: str = Field(max_length=300, description="who it signs in, e.g. slack:T1:U1")
    issued_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class ConsoleSession(SQLModel, table=True):
    """A signed-in browser. ``id`` is the SHA-256 of the cookie value."""

    __tablename__ = "console_session"
    __table_args__ = (sa.Index("ix_console_session_actor", "actor"),)

    id: str = Field(primary_key=True, max_length=64)
    actor: str = Field(max_length=300)
    csrf_token: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    last_seen_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    """Absolute end of the session (no sliding past this)."""
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


def session_key(cookie_value: str) -> str:
    """What the table stores for a cookie value (its SHA-256, hex)."""
    return hashlib.sha256(cookie_value.encode("utf-8")).hexdigest()


def issue_sign_in(
    *, session: Session, link_id: str, actor: str, expires_at: datetime, now: datetime | None = None
) -> ConsoleSignIn:
    """Record a new sign-in link (not yet used)."""
    row = ConsoleSignIn(
        id=link_id, actor=actor, issued_at=now or utc_now(), expires_at=expires_at
    )
    session.add(row)
    session.flush()
    return row


def redeem_sign_in(*, session: Session, link_id: str, now: datetime | None = None) -> str | None:
    """Mark the link used; its actor key when this call redeemed it, else ``None``.

    ``None`` when the link is unknown, expired or already used: exactly one caller
    ever gets the actor back for a given link.
    """
    moment = now or utc_now()
    statement = (
        update(ConsoleSignIn)
        .where(
            col(ConsoleSignIn.id) == link_id,
            col(ConsoleSignIn.used_at).is_(None),
            col(ConsoleSignIn.expires_at) > moment,
        )
        .values(used_at=moment)
    )
    result = session.execute(statement)
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return None
    row = session.get(ConsoleSignIn, link_id, populate_existing=True)
    return row.actor if row is not None else None


def open_session(
    *,
    session: Session,
    cookie_value: str,
    actor: str,
    csrf_token: str,
    expires_at: datetime,
    now: datetime | None = None,
) -> ConsoleSession:
    """Record a new console session for ``actor``."""
    moment = now or utc_now()
    row = ConsoleSession(
        id=session_key(cookie_value), actor=actor, csrf_token=csrf_token,
        created_at=moment, last_seen_at=moment, expires_at=expires_at,
    )
    session.add(row)
    session.flush()
    return row


def find_session(
    *, session: Session, cookie_value: str, idle_limit_seconds: float, now: datetime | None = None
) -> ConsoleSession | None:
    """The live session for a cookie value (touching ``last_seen_at``), or ``None``.

    A session is dead once revoked, past ``expires_at``, or unused for longer than
    ``idle_limit_seconds``.
    """
    moment = now or utc_now()
    row = session.get(ConsoleSession, session_key(cookie_value))
    if row is None or row.revoked_at is not None or row.expires_at <= moment:
        return None
    if (moment - row.last_seen_at).total_seconds() > idle_limit_seconds:
        return None
    if (moment - row.last_seen_at).total_seconds() > 60:  # write at most once a minute
        row.last_seen_at = moment
        session.add(row)
    return row


def revoke_session(*, session: Session, cookie_value: str, now: datetime | None = None) -> bool:
    """End one session (sign-out). True when a live session was revoked."""
    statement = (
        update(ConsoleSession)
        .where(
            col(ConsoleSession.id) == session_key(cookie_value),
            col(ConsoleSession.revoked_at).is_(None),
        )
        .values(revoked_at=now or utc_now())
    )
    return bool(session.execute(statement).rowcount)  # type: ignore[attr-defined]


def revoke_sessions_of(*, session: Session, actor: str, now: datetime | None = None) -> int:
    """End every live session of ``actor`` (an administrator's revocation); how many."""
    statement = (
        update(ConsoleSession)
        .where(col(ConsoleSession.actor) == actor, col(ConsoleSession.revoked_at).is_(None))
        .values(revoked_at=now or utc_now())
    )
    return int(session.execute(statement).rowcount)  # type: ignore[attr-defined]


def list_sessions(*, session: Session, actor: str | None = None) -> list[ConsoleSession]:
    """Sessions (of ``actor``), newest first."""
    statement = select(ConsoleSession)
    if actor is not None:
        statement = statement.where(ConsoleSession.actor == actor)
    return list(session.exec(statement.order_by(col(ConsoleSession.created_at).desc())).all())


def forget_expired(*, session: Session, before: datetime) -> int:
    """Delete links and sessions that ended before ``before``; how many rows went."""
    links = session.execute(
        sa.delete(ConsoleSignIn).where(col(ConsoleSignIn.expires_at) < before)
    ).rowcount  # type: ignore[attr-defined]
    ended = session.execute(
        sa.delete(ConsoleSession).where(
            sa.or_(col(ConsoleSession.expires_at) < before, col(ConsoleSession.revoked_at) < before)
        )
    ).rowcount  # type: ignore[attr-defined]
    return int(links) + int(ended)
