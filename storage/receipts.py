"""Exactly-once bookkeeping shared by all replicas: inbound deliveries and weekly digests.

Both rely on a unique constraint and ``INSERT ... ON CONFLICT DO NOTHING``: the
database decides who was first, so two processes on one database cannot both win.
Claim in the same transaction as the work it guards; if that transaction rolls
back, the claim is undone with it and the redelivery is applied.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, col, select

from storage.columns import utc_now
from storage.conflicts import insert_unless_present
from storage.models import DigestRun, InboundReceipt


def claim_inbound(*, session: Session, key: str, now: datetime | None = None) -> bool:
    """Record that the delivery ``key`` is being applied.

    Args:
        key: a delivery id unique per channel, e.g. ``"slack:T1:Ev123"``.

    Returns:
        True the first time a key is claimed, False for a key already claimed
        (a retried delivery: do nothing).
    """
    return insert_unless_present(
        session=session,
        model=InboundReceipt,
        values={"key": key, "received_at": now or utc_now()},
        conflict=["key"],
    )


def forget_inbound_receipts(*, session: Session, older_than: datetime) -> int:
    """Delete receipts received before ``older_than`` (channels stop retrying after minutes)."""
    result = session.execute(
        sa.delete(InboundReceipt).where(col(InboundReceipt.received_at) < older_than)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def claim_digest_week(
    *,
    session: Session,
    week: str,
    channel: str,
    claimed_by: str | None = None,
    stale_after: timedelta | None = None,
    now: datetime | None = None,
) -> bool:
    """Claim the right to post the digest of ``week`` (e.g. ``"2026-W47"``) to ``channel``.

    Exactly one caller gets True per (week, channel) across every replica. With
    ``stale_after``, a claim that was never marked posted and is older than that
    may be taken over (the replica that claimed it died before posting).
    """
    at = now or utc_now()
    if insert_unless_present(
        session=session,
        model=DigestRun,
        values={"week": week, "channel": channel, "claimed_by": claimed_by, "claimed_at": at},
        conflict=["week", "channel"],
    ):
        return True
    if stale_after is None:
        return False
    takeover = (
        sa.update(DigestRun)
        .where(
            col(DigestRun.week) == week,
            col(DigestRun.channel) == channel,
            col(DigestRun.posted_at).is_(None),
            col(DigestRun.claimed_at) < at - stale_after,
        )
        .values(claimed_by=claimed_by, claimed_at=at)
        .execution_options(synchronize_session=False)
    )
    return bool(session.execute(takeover).rowcount == 1)  # type: ignore[attr-defined]


def mark_digest_posted(
    *, session: Session, week: str, channel: str, now: datetime | None = None
) -> None:
    """Record that the claimed digest was posted."""
    session.execute(
        sa.update(DigestRun)
        .where(col(DigestRun.week) == week, col(DigestRun.channel) == channel)
        .values(posted_at=now or utc_now())
        .execution_options(synchronize_session=False)
    )




def get_digest_run(*, session: Session, week: str, channel: str) -> DigestRun | None:
    """The claim row of (week, channel), or None."""
    statement = (
        select(DigestRun)
        .where(DigestRun.week == week, DigestRun.channel == channel)
        .execution_options(populate_existing=True)
    )
    return session.exec(statement).first()


def list_digest_runs(*, session: Session, channel: str | None = None) -> list[DigestRun]:
    """Digest claims, newest week first."""
    statement = select(DigestRun)
    if channel is not None:
        statement = statement.where(DigestRun.channel == channel)
    return list(session.exec(statement.order_by(col(DigestRun.week).desc())).all())
