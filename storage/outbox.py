"""The durable outbox: messages to users written in the turn's transaction, posted after it.

Life of a row (:class:`OutboxStatus`)::

    enqueue ──> pending ──claim──> sending ──delivered──> sent (parts erased)
                  ^                   │
                  └── retry_at ───────┤ (the channel failed; back-off)
                                      └── too many attempts ──> undeliverable
                     lease expired (the dispatcher died): any dispatcher claims it again

* :func:`enqueue_outbox_message` inserts a row inside the caller's transaction: a review
  notice exists exactly when the status change it announces was committed.
* :func:`claim_outbox_messages` leases due rows to one dispatcher (``UPDATE ... WHERE``
  re-checks the claim, ``FOR UPDATE SKIP LOCKED`` on PostgreSQL), like the inbox, so two
  replicas never post the same row at once. A dispatcher that dies while posting leaves
  a row whose lease runs out; it is posted again (at least once, never lost).
* :func:`mark_outbox_sent` / :func:`mark_outbox_failed` close an attempt. Only the type of
  an error is kept (``last_error``), never a message that could quote the user's text.
* :func:`list_outbox_messages` feeds ``soudan review outbox``;
  :func:`requeue_outbox_message` gives an undeliverable row another round.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, Session, SQLModel, col, select

from storage.columns import JSONDocument, UTCDateTime, enum_string, utc_now


class OutboxStatus(StrEnum):
    """Where an outbound message stands."""

    PENDING = "pending"
    """Waiting to be posted (first time, or again at ``next_attempt_at``)."""
    SENDING = "sending"
    """Claimed by a dispatcher (``lease_owner``) until ``lease_until``."""
    SENT = "sent"
    """Posted; the parts are erased."""
    UNDELIVERABLE = "undeliverable"
    """Given up after too many failed attempts (``soudan review outbox`` lists it)."""


class OutboxMessage(SQLModel, table=True):
    """One message to post to a user or conversation outside the turn that caused it."""

    __tablename__ = "outbox_message"
    __table_args__ = (
        sa.Index("ix_outbox_message_due", "status", "next_attempt_at"),
        sa.Index("ix_outbox_message_recipient", "channel", "tenant", "user_id"),
    )

    id: int | None = Field(
        default=None,
        primary_key=True,
        sa_type=sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
    )
    channel: str = Field(max_length=20)
    tenant: str = Field(max_length=200)
    conversation: str = Field(default="", max_length=500)
    user_id: str | None = Field(default=None, max_length=200)
    kind: str = Field(max_length=40)
    """What it is, e.g. ``review.returned``; the listing labels it in Japanese."""
    subject: str | None = Field(default=None, max_length=200)
    """What it is about (a sheet's 整理番号), for the listing; never the user's text."""
    parts: list[Any] | None = Field(default=None, sa_type=JSONDocument)
    """The serialized parts to post; erased once sent."""
    status: OutboxStatus = Field(
        default=OutboxStatus.PENDING, sa_type=enum_string(OutboxStatus, 15)
    )
    attempts: int = Field(default=0)
    created_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    next_attempt_at: datetime = Field(default_factory=utc_now, sa_type=UTCDateTime)
    lease_owner: str | None = Field(default=None, max_length=200)
    lease_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, max_length=200)
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime, index=True)


def enqueue_outbox_message(
    *,
    session: Session,
    channel: str,
    tenant: str,
    conversation: str,
    user_id: str | None,
    kind: str,
    parts: list[Any],
    subject: str | None = None,
    now: datetime | None = None,
) -> int:
    """Add a message to post once the caller's transaction commits.

    Returns:
        The row id.
    """
    at = now or utc_now()
    row = OutboxMessage(
        channel=channel, tenant=tenant, conversation=conversation, user_id=user_id,
        kind=kind, subject=subject, parts=parts, created_at=at, next_attempt_at=at,
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    return row.id


def _claimable(at: datetime) -> sa.ColumnElement[bool]:
    return sa.or_(
        sa.and_(
            col(OutboxMessage.status) == OutboxStatus.PENDING,
            col(OutboxMessage.next_attempt_at) <= at,
        ),
        sa.and_(
            col(OutboxMessage.status) == OutboxStatus.SENDING,
            sa.or_(col(OutboxMessage.lease_until).is_(None), col(OutboxMessage.lease_until) < at),
        ),
    )


def claim_outbox_messages(
    *,
    session: Session,
    owner: str,
    lease: timedelta,
    channels: Collection[str],
    ids: Collection[int] | None = None,
    user: tuple[str, str] | None = None,
    limit: int = 20,
    now: datetime | None = None,
) -> list[OutboxMessage]:
    """Lease the due rows of ``channels`` to ``owner`` (oldest first).

    Args:
        ids: only these rows (a notice just committed).
        user: only the rows for this (tenant, user id) (the terminal chat's own notices).

    Returns:
        The claimed rows; each claim counts an attempt.
    """
    at = now or utc_now()
    channels = list(channels)
    if not channels or limit <= 0:
        return []
    candidates = sa.select(col(OutboxMessage.id)).where(
        col(OutboxMessage.channel).in_(channels), _claimable(at)
    )
    if ids is not None:
        candidates = candidates.where(col(OutboxMessage.id).in_(list(ids)))
    if user is not None:
        candidates = candidates.where(
            col(OutboxMessage.tenant) == user[0], col(OutboxMessage.user_id) == user[1]
        )
    candidates = candidates.order_by(col(OutboxMessage.id)).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    found = list(session.execute(candidates).scalars())
    if not found:
        return []
    claimed = session.execute(
        sa.update(OutboxMessage)
        .where(col(OutboxMessage.id).in_(found), _claimable(at))
        .values(
            status=OutboxStatus.SENDING,
            lease_owner=owner,
            lease_until=at + lease,
            attempts=col(OutboxMessage.attempts) + 1,
        )
        .returning(col(OutboxMessage.id))
        .execution_options(synchronize_session=False)
    )
    claimed_ids = sorted(claimed.scalars())
    if not claimed_ids:
        return []
    rows = session.exec(
        select(OutboxMessage)
        .where(col(OutboxMessage.id).in_(claimed_ids))
        .order_by(col(OutboxMessage.id))
        .execution_options(populate_existing=True)
    )
    return list(rows.all())


def _held(message_id: int, owner: str) -> sa.ColumnElement[bool]:
    return sa.and_(
        col(OutboxMessage.id) == message_id,
        col(OutboxMessage.lease_owner) == owner,
        col(OutboxMessage.status) == OutboxStatus.SENDING,
    )


def mark_outbox_sent(
    *, session: Session, message_id: int, owner: str, now: datetime | None = None
) -> bool:
    """The row ``owner`` holds was posted: ``sent``, parts erased.

    Returns:
        False when ``owner`` no longer held it (its lease ran out and another took it).
    """
    result = session.execute(
        sa.update(OutboxMessage)
        .where(_held(message_id, owner))
        .values(
            status=OutboxStatus.SENT, sent_at=now or utc_now(), parts=sa.null(),
            lease_owner=None, lease_until=None, last_error=None,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def mark_outbox_failed(
    *,
    session: Session,
    message_id: int,
    owner: str,
    error: str,
    retry_at: datetime | None,
) -> bool:
    """The post failed: try again at ``retry_at``, or give up (``None``: undeliverable).

    ``error`` is a short reason without user text (an exception type, ``no_channel``).
    """
    values: dict[str, Any] = {
        "lease_owner": None, "lease_until": None, "last_error": error[:200],
    }
    if retry_at is None:
        values["status"] = OutboxStatus.UNDELIVERABLE
    else:
        values |= {"status": OutboxStatus.PENDING, "next_attempt_at": retry_at}
    result = session.execute(
        sa.update(OutboxMessage)
        .where(_held(message_id, owner))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def requeue_outbox_message(
    *, session: Session, message_id: int, now: datetime | None = None
) -> bool:
    """Give an undeliverable row another round of attempts, due now.

    Returns:
        False when there is no such undeliverable row.
    """
    result = session.execute(
        sa.update(OutboxMessage)
        .where(
            col(OutboxMessage.id) == message_id,
            col(OutboxMessage.status) == OutboxStatus.UNDELIVERABLE,
        )
        .values(status=OutboxStatus.PENDING, attempts=0, next_attempt_at=now or utc_now())
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def get_outbox_message(*, session: Session, message_id: int) -> OutboxMessage | None:
    """The row as stored now."""
    statement = (
        select(OutboxMessage)
        .where(col(OutboxMessage.id) == message_id)
        .execution_options(populate_existing=True)
    )
    return session.exec(statement).first()


def list_outbox_messages(
    *, session: Session, statuses: Collection[OutboxStatus] | None = None
) -> list[OutboxMessage]:
    """Rows oldest first, optionally of some statuses."""
    statement = select(OutboxMessage)
    if statuses is not None:
        statement = statement.where(col(OutboxMessage.status).in_(list(statuses)))
    statement = statement.order_by(col(OutboxMessage.id)).execution_options(
        populate_existing=True
    )
    return list(session.exec(statement).all())


def forget_sent_outbox_messages(*, session: Session, older_than: datetime) -> int:
    """Delete rows sent before ``older_than``; how many were deleted."""
    result = session.execute(
        sa.delete(OutboxMessage).where(
            col(OutboxMessage.status) == OutboxStatus.SENT,
            col(OutboxMessage.sent_at) < older_than,
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
