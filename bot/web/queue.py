"""レビュー一覧 (the review queue) as one SQL page: filters, sort order, count.

The access policy decides the :class:`~bot.core.policy.Scope` (tenant, department,
requester); this module only turns the scope and the reader's filters into a
:class:`storage.review_queries.SheetFilter` (SQL ``WHERE``, ``LIMIT/OFFSET``), so a
page costs the same with 50 sheets or 50,000. The rows are then read through the review
store (:meth:`bot.review.store.ReviewStore.sheets_by_id`) like any other view.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import cast

from sqlmodel import Session

from bot.core.policy import Scope
from bot.review.desk import scope_filter
from bot.review.digest import COST_BANDS, UNKNOWN_COST_BAND
from bot.review.weeks import IsoWeek
from storage.lifecycle import OPEN_STATUSES
from storage.review_queries import (
    SheetFilter,
    SheetOrder,
    count_sheets,
    sheet_departments,
    sheet_ids,
)

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


def _filter(query: QueueQuery, scope: Scope) -> SheetFilter:
    where = scope_filter(scope, query.statuses, department=query.department, week=query.week)
    cost: tuple[int | None, int | None] | None = None
    if query.cost_band == "unknown":
        cost = (None, None)
    elif query.cost_band:
        _, low, high = COST_BANDS[("low", "mid", "high").index(query.cost_band)]
        cost = (low, high)
    return replace(
        where,
        requesters=where.requesters + ((query.requester,) if query.requester else ()),
        flow=query.flow or None,
        cost=cost,
    )


def queue_page(session: Session, scope: Scope, query: QueueQuery) -> QueuePage:
    """One page of sheet ids in the scope, plus the total and the departments to filter by."""
    where = _filter(query, scope)
    total = count_sheets(session=session, where=where)
    pages = max(1, -(-total // query.page_size))
    page = min(max(1, query.page), pages)
    ids = sheet_ids(
        session=session, where=where, order=cast(SheetOrder, query.sort),
        limit=query.page_size, offset=(page - 1) * query.page_size,
    )
    departments = sheet_departments(
        session=session, tenant=scope.tenant, department=scope.department
    )
    return QueuePage(
        ids=ids, total=total, query=replace(query, page=page), departments=departments
    )


def waiting_days(submitted_at: datetime | None, status: str, now: datetime) -> int | None:
    """Whole days an open sheet has waited since it was (last) submitted."""
    if submitted_at is None or status not in OPEN_STATUSES:
        return None
    return max(0, (now - submitted_at).days)
