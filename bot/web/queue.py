"""レビュー一覧 (the review queue) as one SQL page: filters, sort order, count.

The access policy decides the :class:`~bot.core.policy.Scope` (tenant, department,
requester); this module only turns the scope and the reader's filters into a
``SELECT ... LIMIT/OFFSET`` over the queryable columns, so a page costs the same
with 50 sheets or 50,000. The rows are then read through the review store
(:meth:`bot.review.store.ReviewStore.sheets_by_id`) like any other view.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, func, select

from bot.core.policy import Scope
from bot.review.digest import COST_BANDS, UNKNOWN_COST_BAND
from bot.review.weeks import IsoWeek
from storage.lifecycle import OPEN_STATUSES, SheetStatus
from storage.models import ConsultationSheet, SheetTransition

PAGE_SIZE = 50

SORTS: dict[str, tuple[str, str]] = {
    "waiting": ("待ち日数（長い順）", "submitted_at"),
    "submitted": ("提出日時（新しい順）", "submitted_at"),
    "created": ("作成日時（新しい順）", "created_at"),
    "reference": ("整理番号", "reference"),
    "department": ("部署", "department"),
    "cost": ("イニシャルコスト（高い順）", "initial_cost"),
    "status": ("状態", "status"),
}
"""Sort key -> (Japanese label, column)."""

COST_BAND_KEYS: dict[str, str] = {
    "low": COST_BANDS[0][0],
    "mid": COST_BANDS[1][0],
    "high": COST_BANDS[2][0],
    "unknown": UNKNOWN_COST_BAND,
}


@dataclass(frozen=True)
class QueueQuery:
    """What the reader asked for (already validated)."""

    statuses: tuple[str, ...] = ()
    department: str | None = None
    week: IsoWeek | None = None
    cost_band: str | None = None
    flow: str | None = None
    sort: str = "waiting"
    page: int = 1
    requester: tuple[str, str] | None = None
    """Only the sheets this person requested (自分の相談)."""
    page_size: int = PAGE_SIZE

    def detail(self) -> dict[str, str]:
        """The filters for the audit row (no free text)."""
        facts: dict[str, str] = {"sort": self.sort, "page": str(self.page)}
        if self.statuses:
            facts["statuses"] = ",".join(self.statuses)
        if self.department:
            facts["department"] = self.department
        if self.week:
            facts["week"] = str(self.week)
        if self.cost_band:
            facts["cost_band"] = self.cost_band
        if self.flow:
            facts["flow"] = self.flow
        if self.requester:
            facts["own"] = "1"
        return facts


@dataclass(frozen=True)
class QueuePage:
    ids: list[str]
    total: int
    query: QueueQuery
    departments: list[str] = field(default_factory=list)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.query.page_size))


def _filters(query: QueueQuery, scope: Scope) -> list[sa.ColumnElement[bool]]:
    sheet = ConsultationSheet
    where: list[sa.ColumnElement[bool]] = [col(sheet.tenant) == scope.tenant]
    department = scope.department if scope.department is not None else query.department
    if department is not None:
        where.append(col(sheet.department) == department)
    for requester in (scope.requester, query.requester):
        if requester is not None:
            where.append(col(sheet.channel) == requester[0])
            where.append(col(sheet.requester_id) == requester[1])
    if query.statuses:
        where.append(col(sheet.status).in_([SheetStatus(s) for s in query.statuses]))
    if query.flow:
        where.append(col(sheet.flow_id) == query.flow)
    if query.cost_band:
        where.append(_cost_band(query.cost_band))
    if query.week is not None:
        start, end = query.week.start(), query.week.end()
        moved = (
            select(SheetTransition.sheet_id)
            .where(col(SheetTransition.at) >= start, col(SheetTransition.at) < end)
        )
        where.append(sa.or_(
            sa.and_(col(sheet.created_at) >= start, col(sheet.created_at) < end),
            col(sheet.id).in_(moved),
        ))
    return where


def _cost_band(key: str) -> sa.ColumnElement[bool]:
    cost = col(ConsultationSheet.initial_cost)
    if key == "unknown":
        return cost.is_(None)
    index = ("low", "mid", "high").index(key)
    _, low, high = COST_BANDS[index]
    parts: list[sa.ColumnElement[bool]] = [cost.is_not(None)]
    if low is not None:
        parts.append(cost >= low)
    if high is not None:
        parts.append(cost < high)
    return sa.and_(*parts)


def _order(sort: str) -> list[Any]:
    sheet = ConsultationSheet
    tie = col(sheet.reference).desc()
    if sort == "waiting":
        return [col(sheet.submitted_at).asc().nulls_last(), col(sheet.reference).asc()]
    if sort == "submitted":
        return [col(sheet.submitted_at).desc().nulls_last(), tie]
    if sort == "created":
        return [col(sheet.created_at).desc(), tie]
    if sort == "reference":
        return [col(sheet.reference).asc()]
    if sort == "department":
        return [col(sheet.department).asc().nulls_last(), tie]
    if sort == "cost":
        return [col(sheet.initial_cost).desc().nulls_last(), tie]
    return [col(sheet.status).asc(), tie]


def queue_page(session: Session, scope: Scope, query: QueueQuery) -> QueuePage:
    """One page of sheet ids in the scope, plus the total and the departments to filter by."""
    where = _filters(query, scope)
    total = session.exec(select(func.count()).select_from(ConsultationSheet).where(*where)).one()
    pages = max(1, -(-int(total) // query.page_size))
    page = min(max(1, query.page), pages)
    statement = (
        select(ConsultationSheet.id)
        .where(*where)
        .order_by(*_order(query.sort))
        .limit(query.page_size)
        .offset((page - 1) * query.page_size)
    )
    ids = list(session.exec(statement).all())
    department_filter = [col(ConsultationSheet.tenant) == scope.tenant]
    if scope.department is not None:
        department_filter.append(col(ConsultationSheet.department) == scope.department)
    departments = session.exec(
        select(ConsultationSheet.department)
        .where(*department_filter, col(ConsultationSheet.department).is_not(None))
        .distinct()
        .order_by(col(ConsultationSheet.department))
    ).all()
    return QueuePage(
        ids=ids, total=int(total), query=replace(query, page=page),
        departments=[d for d in departments if d],
    )


def waiting_days(submitted_at: datetime | None, status: str, now: datetime) -> int | None:
    """Whole days an open sheet has waited since it was (last) submitted."""
    if submitted_at is None or status not in OPEN_STATUSES:
        return None
    return max(0, (now - submitted_at).days)
