"""The sheets a week's digest can mention, selected in SQL (the digest page at scale).

:func:`bot.review.digest.build_digest` takes candidate sheets of any week and picks
those created, moved or still open in the week. Loading every sheet of the tenant for
that (what :func:`bot.review.desk.compile_digest` does) takes seconds at 5,000 sheets;
this selects a superset of what it can pick, so the digest comes out the same:

* created before the week ended, and
* created in or after the week, or moved (any transition) since the week began, or
  submitted since the week began (sheets without history), or open now — a sheet
  with no change since the week began has had its current status all week.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select

from bot.review.digest import Digest, build_digest
from bot.review.records import OPEN_STATUSES
from bot.review.store import ReviewStore
from bot.review.weeks import IsoWeek
from storage.lifecycle import SheetStatus
from storage.models import ConsultationSheet, SheetTransition


def digest_candidates(session: Session, tenant: str, week: IsoWeek) -> list[str]:
    """Ids of the tenant's sheets the digest of ``week`` may mention (a superset)."""
    start, end = week.start(), week.end()
    sheet = ConsultationSheet
    moved_since = select(SheetTransition.sheet_id).where(col(SheetTransition.at) >= start)
    statement = select(sheet.id).where(
        col(sheet.tenant) == tenant,
        col(sheet.created_at) < end,
        sa.or_(
            col(sheet.created_at) >= start,
            col(sheet.submitted_at) >= start,
            col(sheet.status).in_([SheetStatus(s) for s in OPEN_STATUSES]),
            col(sheet.id).in_(moved_since),
        ),
    ).order_by(col(sheet.reference))
    return list(session.exec(statement).all())


def week_digest(store: ReviewStore, tenant: str, week: IsoWeek, now: datetime) -> Digest:
    """The digest of ``week`` for ``tenant`` from the candidate sheets only."""
    with store.database.session() as session:
        ids = digest_candidates(session, tenant, week)
    sheets = store.sheets_by_id(ids)
    questions = store.questions(tenant=tenant, since=week.start(), before=week.end())
    return build_digest(week, tenant, sheets, questions, now=now)
