"""The sheets a week's digest can mention, selected in SQL (the digest page at scale).

:func:`bot.review.digest.build_digest` takes candidate sheets of any week and picks
those created, moved or still open in the week. Loading every sheet of the tenant for
that (what :func:`bot.review.desk.compile_digest` does) takes seconds at 5,000 sheets;
this selects a superset of what it can pick
(:func:`storage.review_queries.digest_candidate_ids`), so the digest comes out the same:

* created before the week ended, and
* created in or after the week, or moved (any transition) since the week began, or
  submitted since the week began (sheets without history), or open now — a sheet
  with no change since the week began has had its current status all week.
"""

from __future__ import annotations

from datetime import datetime

from bot.review.digest import Digest, build_digest
from bot.review.records import OPEN_STATUSES
from bot.review.store import ReviewStore
from bot.review.weeks import IsoWeek
from storage.lifecycle import SheetStatus
from storage.review_queries import digest_candidate_ids


def week_digest(store: ReviewStore, tenant: str, week: IsoWeek, now: datetime) -> Digest:
    """The digest of ``week`` for ``tenant`` from the candidate sheets only."""
    with store.database.session() as session:
        ids = digest_candidate_ids(
            session=session, tenant=tenant, start=week.start(), end=week.end(),
            open_statuses=[SheetStatus(s) for s in OPEN_STATUSES],
        )
    sheets = store.sheets_by_id(ids)
    questions = store.questions(tenant=tenant, since=week.start(), before=week.end())
    return build_digest(week, tenant, sheets, questions, now=now)
