"""The durable inbox: inbound channel events stored before the channel is acknowledged.

Life of a row (:class:`~storage.models.InboxStatus`)::

    accept ──> pending ──claim──> processing ──the turn's transaction──> applied ──> done
                  ^                    │                                     │
                  └──── release ───────┤ (core refused the turn) ──> failed  │
                                       └─ lease expired: any worker claims it again ┘

* :func:`accept_inbox_event` inserts the row unless its delivery id is already there
  (a redelivery). It must be committed before the channel is acknowledged.
* :func:`accept_applied_inbox_event` is the other way in (a turn applied as it arrives,
  before the channel is acknowledged): inside the turn's transaction it inserts the row
  ``applied`` and leased, only when the delivery is new and its conversation has no open
  row (:func:`inbox_lane_clear`), so per-conversation order holds. On PostgreSQL both
  ways in take a transaction-scoped advisory lock on the conversation first
  (:func:`lock_inbox_conversation`); on SQLite the write lock serializes them.
* :func:`claim_inbox_events` gives a worker the next rows with a lease. A row is
  claimable when it is pending, or when its lease expired (its worker died); the rows
  of one conversation are taken one at a time in arrival (``id``) order. PostgreSQL
  selects with ``FOR UPDATE SKIP LOCKED``; on both backends the claim itself is an
  ``UPDATE ... WHERE`` that re-checks the lease, so two workers never both hold a row.
* :func:`apply_inbox_event` runs inside the turn's own transaction: the turn's changes
  and the ``applied`` mark commit together or not at all, so a turn is applied once
  however often its row is claimed. :func:`record_inbox_reply` keeps the reply with it.
* :func:`finish_inbox_event` closes the row (``done`` / ``failed``) and erases the
  user's text (payload and reply); the key stays for redeliveries until
  :func:`forget_inbox_events` removes old finished rows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from storage.columns import utc_now
from storage.conflicts import insert_unless_present, inserted_value
from storage.models import InboxEvent, InboxStatus

OPEN_STATUSES = (InboxStatus.PENDING, InboxStatus.PROCESSING, InboxStatus.APPLIED)
"""Not finished: a later row of the same conversation waits for these."""
LEASED_STATUSES = (InboxStatus.PROCESSING, InboxStatus.APPLIED)


def accept_inbox_event(
    *,
    session: Session,
    channel: str,
    tenant: str,
    conversation: str,
    delivery_id: str,
    payload: dict[str, Any],
    now: datetime | None = None,
) -> bool:
    """Store an inbound event unless its delivery id is already stored.

    Returns:
        True if the row was inserted, False for a redelivery (nothing changed).
    """
    lock_inbox_conversation(
        session=session, channel=channel, tenant=tenant, conversation=conversation
    )
    return insert_unless_present(
        session=session,
        model=InboxEvent,
        values={
            "channel": channel,
            "tenant": tenant,
            "conversation": conversation,
            "delivery_id": delivery_id,
            "payload": payload,
            "received_at": now or utc_now(),
            "status": InboxStatus.PENDING,
            "attempts": 0,
        },
        conflict=["channel", "tenant", "delivery_id"],
    )


def lock_inbox_conversation(
    *, session: Session, channel: str, tenant: str, conversation: str
) -> None:
    """PostgreSQL: hold the conversation's advisory lock until the transaction ends.

    Storing an event and applying one as it arrives both take it first, so a turn
    applied on arrival never overlaps an event of its conversation stored meanwhile
    (read committed would let both see "nothing open"). SQLite needs none: its write
    lock and the turn's snapshot check (``storage.lost_write_race``) serialize them.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    digest = hashlib.blake2b(
        f"inbox\0{channel}\0{tenant}\0{conversation}".encode(), digest_size=8
    ).digest()
    key = int.from_bytes(digest, "big", signed=True)
    session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def inbox_lane_clear(
    *, session: Session, channel: str, tenant: str, conversation: str, delivery_id: str
) -> bool:
    """Whether a turn may be applied as it arrives: its delivery id is not stored and its
    conversation has no open (pending, processing, applied) row. Takes the
    conversation's lock (:func:`lock_inbox_conversation`) first."""
    lock_inbox_conversation(
        session=session, channel=channel, tenant=tenant, conversation=conversation
    )
    same_lane = sa.and_(
        col(InboxEvent.channel) == channel,
        col(InboxEvent.tenant) == tenant,
        col(InboxEvent.conversation) == conversation,
        col(InboxEvent.status).in_(OPEN_STATUSES),
    )
    same_delivery = sa.and_(
        col(InboxEvent.channel) == channel,
        col(InboxEvent.tenant) == tenant,
        col(InboxEvent.delivery_id) == delivery_id,
    )
    found = session.execute(
        sa.select(col(InboxEvent.id)).where(sa.or_(same_lane, same_delivery)).limit(1)
    ).first()
    return found is None


def accept_applied_inbox_event(
    *,
    session: Session,
    channel: str,
    tenant: str,
    conversation: str,
    delivery_id: str,
    payload: dict[str, Any],
    owner: str,
    lease: timedelta,
    now: datetime | None = None,
) -> int | None:
    """Store an event whose turn this transaction applies (as it arrives), ``applied``
    and leased to ``owner``, unless the delivery is stored already or its conversation
    has an open row (then roll the turn back and store the event the usual way).

    Returns:
        The new row's id, or None when it was not stored.
    """
    if not inbox_lane_clear(session=session, channel=channel, tenant=tenant,
                            conversation=conversation, delivery_id=delivery_id):
        return None
    applied = utc_now()
    inserted = inserted_value(
        session=session,
        model=InboxEvent,
        values=dict(
            channel=channel, tenant=tenant, conversation=conversation,
            delivery_id=delivery_id, payload=payload, received_at=now or applied,
            status=InboxStatus.APPLIED, attempts=1, lease_owner=owner,
            lease_until=applied + lease, applied_at=applied,
        ),
        conflict=["channel", "tenant", "delivery_id"],
        column="id",
    )
    return None if inserted is None else int(inserted)


def _claimable(at: datetime) -> sa.ColumnElement[bool]:
    return sa.or_(
        col(InboxEvent.status) == InboxStatus.PENDING,
        sa.and_(
            col(InboxEvent.status).in_(LEASED_STATUSES),
            sa.or_(col(InboxEvent.lease_until).is_(None), col(InboxEvent.lease_until) < at),
        ),
    )


def claim_inbox_events(
    *,
    session: Session,
    owner: str,
    lease: timedelta,
    channels: Collection[str],
    limit: int = 8,
    max_attempts: int = 5,
    now: datetime | None = None,
) -> list[InboxEvent]:
    """Lease the next claimable rows of ``channels`` to ``owner``.

    At most one row per conversation is returned (the oldest open one, and only when
    it is claimable). A row keeps ``applied`` when it is taken over after its turn was
    applied (only its reply is left to post); otherwise it becomes ``processing``.
    Each claim counts an attempt; a claimable row that already had ``max_attempts``
    is marked ``failed`` instead (it crashed every worker that took it).

    Returns:
        The claimed rows, oldest first.
    """
    at = now or utc_now()
    channels = list(channels)
    if not channels or limit <= 0:
        return []
    session.execute(
        sa.update(InboxEvent)
        .where(
            col(InboxEvent.channel).in_(channels),
            _claimable(at),
            col(InboxEvent.attempts) >= max_attempts,
        )
        .values(**_finished(InboxStatus.FAILED, at))
        .execution_options(synchronize_session=False)
    )
    older = aliased(InboxEvent)
    waiting = (
        sa.select(col(older.id))
        .where(
            col(older.channel) == col(InboxEvent.channel),
            col(older.tenant) == col(InboxEvent.tenant),
            col(older.conversation) == col(InboxEvent.conversation),
            col(older.id) < col(InboxEvent.id),
            col(older.status).in_(OPEN_STATUSES),
        )
        .exists()
    )
    candidates = (
        sa.select(col(InboxEvent.id))
        .where(col(InboxEvent.channel).in_(channels), _claimable(at), ~waiting)
        .order_by(col(InboxEvent.id))
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        # Rows another worker is claiming right now are skipped, not waited for.
        candidates = candidates.with_for_update(skip_locked=True, of=InboxEvent.__table__)  # type: ignore[attr-defined]
    ids = list(session.execute(candidates).scalars())
    if not ids:
        return []
    claimed = session.execute(
        sa.update(InboxEvent)
        .where(col(InboxEvent.id).in_(ids), _claimable(at))
        .values(
            status=sa.case(
                (col(InboxEvent.status) == InboxStatus.APPLIED, InboxStatus.APPLIED.value),
                else_=InboxStatus.PROCESSING.value,
            ),
            lease_owner=owner,
            lease_until=at + lease,
            attempts=col(InboxEvent.attempts) + 1,
        )
        .returning(col(InboxEvent.id))
        .execution_options(synchronize_session=False)
    )
    claimed_ids = sorted(claimed.scalars())
    if not claimed_ids:
        return []
    rows = session.exec(
        select(InboxEvent)
        .where(col(InboxEvent.id).in_(claimed_ids))
        .order_by(col(InboxEvent.id))
        .execution_options(populate_existing=True)
    )
    return list(rows.all())


def apply_inbox_event(
    *,
    session: Session,
    event_id: int,
    owner: str,
    lease: timedelta | None = None,
    now: datetime | None = None,
) -> bool:
    """Mark the row applied, inside the transaction that applies its turn.

    Returns:
        True when ``owner`` holds the row and it was not applied yet; False otherwise
        (another worker took it over, or it is applied already): roll the turn back.
    """
    at = now or utc_now()
    values: dict[str, Any] = {"status": InboxStatus.APPLIED, "applied_at": at}
    if lease is not None:
        values["lease_until"] = at + lease
    result = session.execute(
        sa.update(InboxEvent)
        .where(
            col(InboxEvent.id) == event_id,
            col(InboxEvent.status) == InboxStatus.PROCESSING,
            col(InboxEvent.lease_owner) == owner,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def record_inbox_reply(*, session: Session, event_id: int, reply: list[Any]) -> None:
    """Keep the applied turn's reply (JSON) with its row, in the turn's transaction."""
    session.execute(
        sa.update(InboxEvent)
        .where(col(InboxEvent.id) == event_id)
        .values(reply=reply)
        .execution_options(synchronize_session=False)
    )


def update_inbox_payload(
    *, session: Session, event_id: int, owner: str, payload: dict[str, Any]
) -> bool:
    """Replace the payload of a row ``owner`` holds (what the channel learnt on the way,
    e.g. the thread it opened), so that a worker taking it over continues from there."""
    result = session.execute(
        sa.update(InboxEvent)
        .where(
            col(InboxEvent.id) == event_id,
            col(InboxEvent.lease_owner) == owner,
            col(InboxEvent.status).in_(LEASED_STATUSES),
        )
        .values(payload=payload)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def _finished(status: InboxStatus, at: datetime) -> dict[str, Any]:
    return {
        "status": status,
        "finished_at": at,
        "payload": sa.null(),
        "reply": sa.null(),
        "lease_owner": None,
        "lease_until": None,
    }


def finish_inbox_event(
    *,
    session: Session,
    event_id: int,
    owner: str,
    status: InboxStatus = InboxStatus.DONE,
    now: datetime | None = None,
) -> bool:
    """Close a row ``owner`` holds as ``done`` or ``failed``; its payload and reply are erased.

    Returns:
        False when ``owner`` no longer holds it (another worker took it over).
    """
    if status not in (InboxStatus.DONE, InboxStatus.FAILED):
        raise ValueError(f"not a final status: {status}")
    result = session.execute(
        sa.update(InboxEvent)
        .where(
            col(InboxEvent.id) == event_id,
            col(InboxEvent.lease_owner) == owner,
            col(InboxEvent.status).in_(LEASED_STATUSES),
        )
        .values(**_finished(status, now or utc_now()))
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def release_inbox_event(*, session: Session, event_id: int, owner: str) -> bool:
    """Give a row that was not applied back (pending) for another attempt."""
    result = session.execute(
        sa.update(InboxEvent)
        .where(
            col(InboxEvent.id) == event_id,
            col(InboxEvent.lease_owner) == owner,
            col(InboxEvent.status) == InboxStatus.PROCESSING,
        )
        .values(status=InboxStatus.PENDING, lease_owner=None, lease_until=None)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def renew_inbox_leases(
    *,
    session: Session,
    event_ids: Sequence[int],
    owner: str,
    lease: timedelta,
    now: datetime | None = None,
) -> int:
    """Extend the leases ``owner`` still holds on ``event_ids`` (a heartbeat while they run).

    Returns:
        How many leases were extended.
    """
    if not event_ids:
        return 0
    result = session.execute(
        sa.update(InboxEvent)
        .where(
            col(InboxEvent.id).in_(list(event_ids)),
            col(InboxEvent.lease_owner) == owner,
            col(InboxEvent.status).in_(LEASED_STATUSES),
        )
        .values(lease_until=(now or utc_now()) + lease)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def get_inbox_event(*, session: Session, event_id: int) -> InboxEvent | None:
    """The row as stored now."""
    statement = (
        select(InboxEvent)
        .where(col(InboxEvent.id) == event_id)
        .execution_options(populate_existing=True)
    )
    return session.exec(statement).first()


def list_inbox_events(
    *,
    session: Session,
    channel: str | None = None,
    statuses: Collection[InboxStatus] | None = None,
) -> list[InboxEvent]:
    """Rows in arrival order, optionally of one channel and some statuses."""
    statement = select(InboxEvent)
    if channel is not None:
        statement = statement.where(col(InboxEvent.channel) == channel)
    if statuses is not None:
        statement = statement.where(col(InboxEvent.status).in_(list(statuses)))
    statement = statement.order_by(col(InboxEvent.id)).execution_options(populate_existing=True)
    return list(session.exec(statement).all())


def forget_inbox_events(*, session: Session, older_than: datetime) -> int:
    """Delete finished rows closed before ``older_than`` (channels stop redelivering
    after minutes; keep a day or so)."""
    result = session.execute(
        sa.delete(InboxEvent).where(
            col(InboxEvent.status).in_((InboxStatus.DONE, InboxStatus.FAILED)),
            col(InboxEvent.finished_at) < older_than,
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
