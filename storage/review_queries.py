"""The review side's reads of 相談シート: filters as SQL ``WHERE`` clauses, pages with
``LIMIT``/``OFFSET``, a count beside each page.

One :class:`SheetFilter` serves the chat queue (「レビュー」, App Home), the CLI list,
the web console's queue and 自分の相談, so a list costs the same with 50 sheets or
50,000 in a tenant, and every caller applies the same rule for "in this week" (created
in the week, or any status change in it). The order of each list is named by
:data:`SheetOrder`; a page is the ids or rows in that order.

Example:
    >>> wanted = SheetFilter(tenant="T1", statuses=(SheetStatus.SUBMITTED,))  # doctest: +SKIP
    >>> page = sheet_page(session=session, where=wanted, order="queue", limit=10)  # doctest: +SKIP
    >>> page.total, [row.reference for row in page.rows]                      # doctest: +SKIP
    (14, ['2026-0003', ...])
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from storage.lifecycle import OPEN_STATUSES, SheetStatus
from storage.models import ConsultationSheet, Message, SheetTransition, UserProfile
from storage.sheets import rows_by_sheet

SheetOrder = Literal[
    "oldest", "queue", "waiting", "submitted", "created", "reference", "department", "cost",
    "status",
]
"""``oldest``: created first (the chat's department list, the CLI);
``queue``: (last) submitted first, a never-submitted sheet by its creation (the
reviewer's chat queue); the others are the web console's sort keys."""


@dataclass(frozen=True)
class SheetFilter:
    """Which sheets: every field given must match (``None`` / empty: no condition)."""

    tenant: str | None = None
    department: str | None = None
    requesters: tuple[tuple[str, str], ...] = ()
    """(channel, user id) pairs the sheet's requester must equal — all of them."""
    statuses: tuple[SheetStatus, ...] = ()
    week: tuple[datetime, datetime] | None = None
    """``[start, end)``: created in it, or changed status in it."""
    flow: str | None = None
    cost: tuple[int | None, int | None] | None = None
    """``(low, high)`` yen, low inclusive, high exclusive; ``(None, None)``: cost unknown."""

    def clauses(self) -> list[sa.ColumnElement[bool]]:
        sheet = ConsultationSheet
        where: list[sa.ColumnElement[bool]] = []
        if self.tenant is not None:
            where.append(col(sheet.tenant) == self.tenant)
        if self.department is not None:
            where.append(col(sheet.department) == self.department)
        for channel, user_id in self.requesters:
            where.append(col(sheet.channel) == channel)
            where.append(col(sheet.requester_id) == user_id)
        if self.statuses:
            where.append(col(sheet.status).in_([SheetStatus(s) for s in self.statuses]))
        if self.flow is not None:
            where.append(col(sheet.flow_id) == self.flow)
        if self.cost is not None:
            where.append(_cost_clause(*self.cost))
        if self.week is not None:
            start, end = self.week
            moved = select(SheetTransition.sheet_id).where(
                col(SheetTransition.at) >= start, col(SheetTransition.at) < end
            )
            where.append(sa.or_(
                sa.and_(col(sheet.created_at) >= start, col(sheet.created_at) < end),
                col(sheet.id).in_(moved),
            ))
        return where


def _cost_clause(low: int | None, high: int | None) -> sa.ColumnElement[bool]:
    cost = col(ConsultationSheet.initial_cost)
    if low is None and high is None:
        return cost.is_(None)
    parts: list[sa.ColumnElement[bool]] = [cost.is_not(None)]
    if low is not None:
        parts.append(cost >= low)
    if high is not None:
        parts.append(cost < high)
    return sa.and_(*parts)


def _order(order: SheetOrder) -> list[Any]:
    sheet = ConsultationSheet
    tie = col(sheet.reference).desc()
    if order == "oldest":
        return [col(sheet.created_at).asc(), col(sheet.reference).asc()]
    if order == "queue":
        return [
            func.coalesce(col(sheet.submitted_at), col(sheet.created_at)).asc(),
            col(sheet.reference).asc(),
        ]
    if order == "waiting":
        return [col(sheet.submitted_at).asc().nulls_last(), col(sheet.reference).asc()]
    if order == "submitted":
        return [col(sheet.submitted_at).desc().nulls_last(), tie]
    if order == "created":
        return [col(sheet.created_at).desc(), tie]
    if order == "reference":
        return [col(sheet.reference).asc()]
    if order == "department":
        return [col(sheet.department).asc().nulls_last(), tie]
    if order == "cost":
        return [col(sheet.initial_cost).desc().nulls_last(), tie]
    return [col(sheet.status).asc(), tie]


@dataclass(frozen=True)
class SheetPage:
    """One page of sheets in the list's order, and how many match in all."""

    rows: list[ConsultationSheet]
    total: int
    offset: int = 0
    ids: list[str] = field(default_factory=list)


def count_sheets(*, session: Session, where: SheetFilter) -> int:
    """How many sheets match ``where``."""
    statement = select(func.count()).select_from(ConsultationSheet).where(*where.clauses())
    return int(session.exec(statement).one())


def sheet_ids(
    *,
    session: Session,
    where: SheetFilter,
    order: SheetOrder = "oldest",
    limit: int | None = None,
    offset: int = 0,
) -> list[str]:
    """The ids of the matching sheets in ``order`` (``limit`` of them from ``offset``)."""
    statement = select(ConsultationSheet.id).where(*where.clauses()).order_by(*_order(order))
    if limit is not None:
        statement = statement.limit(limit)
    if offset:
        statement = statement.offset(offset)
    return list(session.exec(statement).all())


def find_sheets(
    *,
    session: Session,
    where: SheetFilter,
    order: SheetOrder = "oldest",
    limit: int | None = None,
    offset: int = 0,
) -> list[ConsultationSheet]:
    """The matching sheets in ``order`` (``limit`` of them from ``offset``; all without)."""
    statement = select(ConsultationSheet).where(*where.clauses()).order_by(*_order(order))
    if limit is not None:
        statement = statement.limit(limit)
    if offset:
        statement = statement.offset(offset)
    return list(session.exec(statement).all())


def sheet_page(
    *, session: Session, where: SheetFilter, order: SheetOrder, limit: int, offset: int = 0
) -> SheetPage:
    """``limit`` sheets from ``offset`` in ``order``, with the count of all that match
    (two queries, whatever the size of the tenant)."""
    rows = find_sheets(session=session, where=where, order=order, limit=limit, offset=offset)
    if len(rows) < limit and (rows or not offset):
        total = offset + len(rows)  # the last page: nothing more to count
    else:
        total = count_sheets(session=session, where=where)
    return SheetPage(rows=rows, total=total, offset=offset, ids=[row.id for row in rows])


def sheets_by_ids(*, session: Session, ids: Sequence[str]) -> list[ConsultationSheet]:
    """The sheets with these ids, in the order given (unknown ids left out)."""
    found: dict[str, ConsultationSheet] = {}
    for start in range(0, len(ids), 500):
        statement = select(ConsultationSheet).where(
            col(ConsultationSheet.id).in_(list(ids[start:start + 500]))
        )
        found.update((row.id, row) for row in session.exec(statement).all())
    return [found[i] for i in ids if i in found]


def transitions_by_sheet(
    *, session: Session, sheet_ids: Iterable[str]
) -> dict[str, list[SheetTransition]]:
    """The status history of many sheets at once: sheet id -> changes, oldest first."""
    return rows_by_sheet(
        session=session, model=SheetTransition, sheet_column=SheetTransition.sheet_id,
        sheet_ids=sheet_ids, order=(col(SheetTransition.id),),
    )


def sheet_departments(*, session: Session, tenant: str, department: str | None = None) -> list[str]:
    """The distinct departments named on the tenant's sheets (only ``department`` when
    given), sorted: what a list can be filtered by."""
    where = [
        col(ConsultationSheet.tenant) == tenant, col(ConsultationSheet.department).is_not(None)
    ]
    if department is not None:
        where.append(col(ConsultationSheet.department) == department)
    rows = session.exec(
        select(ConsultationSheet.department).where(*where).distinct()
        .order_by(col(ConsultationSheet.department))
    ).all()
    return [d for d in rows if d]


def digest_candidates(
    *, session: Session, tenant: str | None, start: datetime, end: datetime
) -> list[ConsultationSheet]:
    """The sheets a digest of ``[start, end)`` may mention (a superset), by 整理番号, of
    ``tenant`` (``None``: every tenant): created before ``end`` and created, submitted
    or moved since ``start``, or open now.

    The digest picks sheets created, moved or still open in the week; a sheet with no
    change since ``start`` has had its current status all week, so only an open one
    can be in it. The rest of the tenant's sheets (and their history) are not read.
    """
    sheet = ConsultationSheet
    moved_since = select(SheetTransition.sheet_id).where(col(SheetTransition.at) >= start)
    where: list[sa.ColumnElement[bool]] = [
        col(sheet.created_at) < end,
        sa.or_(
            col(sheet.created_at) >= start,
            col(sheet.submitted_at) >= start,
            col(sheet.status).in_(sorted(OPEN_STATUSES)),
            col(sheet.id).in_(moved_since),
        ),
    ]
    if tenant is not None:
        where.append(col(sheet.tenant) == tenant)
    statement = select(sheet).where(*where).order_by(col(sheet.reference))
    return list(session.exec(statement).all())


def questions_between(
    *, session: Session, tenant: str | None, since: datetime, before: datetime
) -> list[Message]:
    """Guideline questions asked in ``[since, before)`` (of ``tenant``; ``None``: all),
    answered or not, oldest first."""
    statement = select(Message).where(
        col(Message.question).is_(True),
        Message.created_at >= since,
        Message.created_at < before,
    )
    if tenant is not None:
        statement = statement.where(Message.tenant == tenant)
    return list(session.exec(statement.order_by(col(Message.created_at))).all())


def profiles_with_user_id(*, session: Session, user_id: str) -> list[UserProfile]:
    """Every registered profile with this user id (any channel or tenant)."""
    return list(session.exec(select(UserProfile).where(UserProfile.user_id == user_id)).all())
