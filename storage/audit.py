"""監査ログ (audit log): one append-only row per attempt, allowed or denied.

There is no update or delete function, the ORM refuses to flush a change to an
existing row, and the database refuses ``UPDATE`` / ``DELETE`` with triggers.

Write the audit row for a *denied* attempt in a transaction that is committed
even though the action was refused: record it and commit, then raise/answer the
denial (don't nest a second ``db.session()``; see ``Database.session``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from storage.columns import utc_now
from storage.models import AuditLog, AuditResult


def actor_key(channel: str, tenant: str, user_id: str) -> str:
    """Who did it, as the audit log writes it: ``channel:tenant:user_id`` (e.g. ``slack:T1:U1``)."""
    return f"{channel}:{tenant}:{user_id}"


def record_audit(
    *,
    session: Session,
    actor: str,
    action: str,
    result: AuditResult,
    target: str | None = None,
    tenant: str | None = None,
    detail: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> AuditLog:
    """Append one audit row.

    Args:
        actor: who, e.g. ``"slack:T1:U1"`` (an id, never a name or e-mail address).
        action: what, e.g. ``"sheet.view"``, ``"sheet.transition"``, ``"digest.view"``.
        result: allowed or denied.
        target: what it was done to, e.g. a sheet id or ``"digest:2026-W47"``.
        detail: extra facts (e.g. ``{"to": "accepted"}``); no personal information.
    """
    row = AuditLog(
        actor=actor,
        action=action,
        result=AuditResult(result),
        target=target,
        tenant=tenant,
        detail=dict(detail or {}),
        at=now or utc_now(),
    )
    session.add(row)
    session.flush()
    return row


def _filtered(
    statement: Any,
    *,
    actor: str | None,
    action: str | None,
    target: str | None,
    result: AuditResult | None,
    since: datetime | None,
    before: datetime | None,
) -> Any:
    if actor is not None:
        statement = statement.where(AuditLog.actor == actor)
    if action is not None:
        statement = statement.where(AuditLog.action == action)
    if target is not None:
        statement = statement.where(AuditLog.target == target)
    if result is not None:
        statement = statement.where(AuditLog.result == AuditResult(result))
    if since is not None:
        statement = statement.where(AuditLog.at >= since)
    if before is not None:
        statement = statement.where(AuditLog.at < before)
    return statement


def list_audit(
    *,
    session: Session,
    actor: str | None = None,
    action: str | None = None,
    target: str | None = None,
    result: AuditResult | None = None,
    since: datetime | None = None,
    before: datetime | None = None,
    limit: int | None = None,
) -> list[AuditLog]:
    """Audit rows matching every filter given, oldest first."""
    statement = _filtered(
        select(AuditLog), actor=actor, action=action, target=target, result=result,
        since=since, before=before,
    ).order_by(col(AuditLog.id))  # insertion order, whatever ``at`` says
    if limit is not None:
        statement = statement.limit(limit)
    return list(session.exec(statement).all())


def count_audit(
    *,
    session: Session,
    actor: str | None = None,
    action: str | None = None,
    target: str | None = None,
    result: AuditResult | None = None,
    since: datetime | None = None,
    before: datetime | None = None,
) -> int:
    """Number of audit rows matching every filter given."""
    statement = _filtered(
        sa.select(sa.func.count()).select_from(AuditLog), actor=actor, action=action,
        target=target, result=result, since=since, before=before,
    )
    return int(session.execute(statement).scalar_one())
