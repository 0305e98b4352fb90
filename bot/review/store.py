"""The review package's view of the database, over :mod:`storage`'s repository.

:class:`ReviewStore` reads and writes through :mod:`storage`: a sheet is its row,
:class:`storage.models.ConsultationSheet`, its history :class:`SheetTransition` rows
(comments, memos and questions are mapped to :mod:`bot.review.records` values). Each
method runs in its own transaction (``Database.session()``) unless bound, so an audit
row for a denied attempt is committed even though nothing else happened.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta, tzinfo
from typing import cast

from sqlalchemy import event
from sqlmodel import Session

from bot.core.messages import Address, ChannelName, Part
from bot.core.outbox import Outbox
from bot.core.policy import AuditEntry, actor_of, write_audit
from bot.review.records import Actor, CommentRecord, MemoRecord, QuestionRecord, Role
from storage import people, receipts, review_queries, sheets
from storage.database import Database
from storage.export import DISPLAY_TIMEZONE, EXPORT_FORMATS, ExportFormat, export_sheets
from storage.lifecycle import SheetStatus
from storage.models import (
    CommentKind,
    ConsultationSheet,
    SheetTransition,
    UserRole,
)
from storage.review_queries import SheetFilter, SheetOrder
from storage.spec_memos import list_spec_memos, memos_by_sheet
from storage.transcript import is_unanswered

log = logging.getLogger(__name__)

DIGEST_CLAIM_LEASE = timedelta(minutes=30)
"""A claimed but never posted digest may be claimed again after this long (crash)."""


class ReviewStore:
    """Users, sheets, comments, questions, audit rows and digest claims.

    Args:
        database: the shared :class:`storage.database.Database` (schema migrated).
        session: when given, every method works inside this session (the core's
            transaction for the current turn) instead of its own transactions. On
            SQLite this is required inside a turn: a second writer would wait for the
            turn's write lock.
    """

    def __init__(self, database: Database, session: Session | None = None) -> None:
        self.database = database
        self._bound = session

    def bound(self, session: Session) -> ReviewStore:
        """This store working inside ``session`` (committed by its owner)."""
        return ReviewStore(self.database, session)

    def after_commit(self, action: Callable[[], object]) -> bool:
        """Run ``action`` once the bound session commits; False when not bound.

        Nothing runs if the session rolls back. Errors in ``action`` are logged, never
        raised: the commit has already happened.
        """
        if self._bound is None:
            return False

        def run(_: Session) -> None:
            try:
                action()
            except Exception:
                log.exception("after-commit action failed")

        event.listen(self._bound, "after_commit", run, once=True)
        return True

    @contextmanager
    def transaction(self) -> Iterator[ReviewStore]:
        """This store inside one transaction: itself when bound (its owner commits),
        otherwise bound to a new session committed when the block ends."""
        if self._bound is not None:
            yield self
            return
        with self.database.session() as session:
            yield self.bound(session)

    def enqueue_notice(
        self, outbox: Outbox, address: Address, parts: list[Part], *, kind: str,
        subject: str | None,
    ) -> int:
        """Write a notice to the outbox in this store's transaction (the bound turn's, when
        bound): it is posted only if that transaction commits. Returns its row id."""
        with self._session() as session:
            return outbox.enqueue(
                session=session, address=address, parts=parts, kind=kind, subject=subject
            )

    @contextmanager
    def _session(self) -> Iterator[Session]:
        if self._bound is not None:
            yield self._bound
            self._bound.flush()
            return
        with self.database.session() as session:
            yield session

    # --- users ----------------------------------------------------------------------

    def actor(self, channel: ChannelName, tenant: str, user_id: str) -> Actor:
        """The user with their role and department (``role=None`` when unregistered)."""
        with self._session() as session:
            profile = people.get_user_profile(
                session=session, channel=channel, tenant=tenant, user_id=user_id
            )
            return actor_of(profile) if profile else Actor(channel, tenant, user_id)

    def actors_named(self, user_id: str) -> list[Actor]:
        """Every registered profile with this user id (any channel or tenant)."""
        with self._session() as session:
            rows = review_queries.profiles_with_user_id(session=session, user_id=user_id)
            return [actor_of(row) for row in rows]

    def save_user(
        self,
        channel: ChannelName,
        tenant: str,
        user_id: str,
        *,
        role: Role | None = None,
        department: str | None = None,
        confirmed_by: str | None = None,
        display_name: str | None = None,
    ) -> Actor:
        """Create the profile or change the fields given (``None`` = leave as is).

        ``department`` goes through :func:`storage.people.assign_department`:
        confirmed when ``confirmed_by`` (an administrator's actor key) is given,
        pending (self-declared) otherwise.
        """
        with self._session() as session:
            profile = people.upsert_user_profile(
                session=session,
                channel=channel,
                tenant=tenant,
                user_id=user_id,
                role=people.UNSET if role is None else UserRole(role),
                display_name=people.UNSET if display_name is None else display_name,
            )
            if department is not None:
                profile = people.assign_department(
                    session=session, channel=channel, tenant=tenant, user_id=user_id,
                    department=department, confirmed_by=confirmed_by,
                )
            return actor_of(profile)

    def users(self, tenant: str | None = None, *, pending: bool | None = None) -> list[Actor]:
        """Registered users (of ``tenant``); ``pending=True``: departments awaiting confirmation."""
        with self._session() as session:
            return [
                actor_of(p)
                for p in people.list_user_profiles(session=session, tenant=tenant, pending=pending)
            ]

    # --- sheets ---------------------------------------------------------------------

    def sheet(self, key: str) -> ConsultationSheet | None:
        """The sheet named by id or 整理番号; None when absent."""
        with self._session() as session:
            return sheets.get_sheet(session=session, sheet_id=key) or (
                sheets.get_sheet_by_reference(session=session, reference=key)
            )

    def history(self, sheet_id: str) -> list[SheetTransition]:
        """The sheet's status changes, oldest first."""
        with self._session() as session:
            return sheets.list_sheet_transitions(session=session, sheet_id=sheet_id)

    def find(
        self, where: SheetFilter, *, order: SheetOrder = "oldest", limit: int | None = None
    ) -> list[ConsultationSheet]:
        """The sheets matching ``where`` (filtered in SQL) in ``order``."""
        with self._session() as session:
            return review_queries.find_sheets(
                session=session, where=where, order=order, limit=limit
            )

    def page(
        self, where: SheetFilter, *, order: SheetOrder, limit: int
    ) -> tuple[list[ConsultationSheet], int]:
        """The first ``limit`` sheets matching ``where`` in ``order`` and how many match."""
        with self._session() as session:
            found = review_queries.sheet_page(
                session=session, where=where, order=order, limit=limit
            )
            return found.rows, found.total

    def sheets_by_id(self, ids: list[str]) -> list[ConsultationSheet]:
        """The sheets with these ids, in the order given (one page of the web console's
        queue, selected and sorted in SQL)."""
        if not ids:
            return []
        with self._session() as session:
            return review_queries.sheets_by_ids(session=session, ids=ids)

    def digest_sheets(
        self, *, tenant: str | None, since: datetime, before: datetime
    ) -> tuple[list[ConsultationSheet], dict[str, list[SheetTransition]]]:
        """The sheets a digest of ``[since, before)`` may mention and their history by
        sheet id (selected in SQL: :func:`storage.review_queries.digest_candidates`)."""
        with self._session() as session:
            rows = review_queries.digest_candidates(
                session=session, tenant=tenant, start=since, end=before
            )
            if not rows:
                return [], {}
            history = review_queries.transitions_by_sheet(
                session=session, sheet_ids=[row.id for row in rows]
            )
            return rows, history

    def comments(self, sheet_id: str) -> list[CommentRecord]:
        with self._session() as session:
            return [
                CommentRecord(
                    sheet_id=c.sheet_id,
                    author=c.author_name or c.author_id,
                    text=c.text,
                    created_at=c.created_at,
                    kind=CommentKind(c.kind).value,
                )
                for c in sheets.list_sheet_comments(session=session, sheet_id=sheet_id)
            ]

    def memos(self, sheet_id: str) -> list[MemoRecord]:
        """The sheet's 仕様書（案） review memos, oldest first."""
        with self._session() as session:
            return [
                MemoRecord(
                    file_name=m.file_name, summary=m.summary,
                    items=tuple((str(i[0]), str(i[1])) for i in m.items if len(i) == 2),
                    markdown=m.markdown, created_at=m.created_at, memo_id=m.id,
                )
                for m in list_spec_memos(session=session, sheet_id=sheet_id)
            ]

    def add_comment(self, sheet_id: str, actor: Actor, text: str, now: datetime) -> None:
        with self._session() as session:
            sheets.add_sheet_comment(
                session=session, sheet_id=sheet_id, author_id=actor.key, text=text,
                author_name=actor.display_name, now=now,
            )

    def transition(
        self, sheet_id: str, to_status: str, actor: Actor, now: datetime, comment: str | None
    ) -> ConsultationSheet:
        """Move the sheet; raises :class:`storage.errors.IllegalTransitionError`."""
        with self._session() as session:
            return sheets.transition_sheet(
                session=session, sheet_id=sheet_id, to_status=SheetStatus(to_status),
                actor_id=actor.key, actor_name=actor.display_name, comment=comment, now=now,
            )

    def export_sheets(
        self,
        *,
        tenant: str,
        department: str | None,
        statuses: tuple[str, ...],
        fmt: str,
        requester: tuple[str, str] | None = None,
        zone: tzinfo = DISPLAY_TIMEZONE,
    ) -> bytes:
        """The tenant's (department's) sheets through :func:`storage.export.export_sheets`.

        ``requester`` (channel, user id): only the sheets that person requested.

        Raises:
            ValueError: ``fmt`` is not json, csv or xlsx.
        """
        if fmt not in EXPORT_FORMATS:
            raise ValueError(
                f"形式は {', '.join(EXPORT_FORMATS)} のいずれかを指定してください: {fmt}"
            )
        wanted = SheetFilter(
            tenant=tenant, department=department,
            statuses=tuple(SheetStatus(s) for s in statuses),
            requesters=(requester,) if requester else (),
        )
        with self._session() as session:
            rows = review_queries.find_sheets(session=session, where=wanted, order="oldest")
            ids = [r.id for r in rows]
            comments = sheets.comments_by_sheet(session=session, sheet_ids=ids)
            memos = memos_by_sheet(session=session, sheet_ids=ids)
        # Build the file after the session: on SQLite a session holds the write lock.
        return export_sheets(rows, cast(ExportFormat, fmt), comments, zone, memos)

    # --- questions ------------------------------------------------------------------

    def questions(self, *, tenant: str | None, since: datetime, before: datetime) -> list[
        QuestionRecord
    ]:
        """Every guideline question asked in ``[since, before)``, answered or not."""
        with self._session() as session:
            return [
                QuestionRecord(
                    text=m.text,
                    asked_at=m.created_at,
                    answered=not is_unanswered(m.answered),
                    tenant=m.tenant,
                    channel=m.channel,
                )
                for m in review_queries.questions_between(
                    session=session, tenant=tenant, since=since, before=before
                )
            ]

    # --- audit ----------------------------------------------------------------------

    def record(self, entry: AuditEntry) -> None:
        """:class:`bot.core.policy.AuditTrail`: append one row in its own transaction.

        The storage result has two values; a refused-further-down attempt
        (``failed``) is stored as ``denied`` with ``detail["outcome"] = "failed"``.
        """
        with self._session() as session:
            write_audit(
                session, entry.actor, f"review.{entry.action}", entry.outcome,
                target=entry.target, tenant=entry.tenant, detail=entry.detail, at=entry.at,
            )

    # --- digest claims --------------------------------------------------------------

    def claim_digest(self, week: str, destination: str, replica: str, now: datetime) -> bool:
        """Claim the digest of ``week`` for ``destination``; True for exactly one caller.

        The unique (week, destination) row decides between replicas. A claim that was
        never marked posted may be taken over after :data:`DIGEST_CLAIM_LEASE`, so a
        replica that died mid-post does not lose the week.
        """
        with self._session() as session:
            return receipts.claim_digest_week(
                session=session, week=week, channel=destination, claimed_by=replica,
                stale_after=DIGEST_CLAIM_LEASE, now=now,
            )

    def digest_posted(self, week: str, destination: str) -> bool:
        """Whether the digest of ``week`` was posted to ``destination`` (by anyone)."""
        with self._session() as session:
            run = receipts.get_digest_run(session=session, week=week, channel=destination)
            return run is not None and run.posted_at is not None

    def mark_digest_posted(self, week: str, destination: str, now: datetime) -> None:
        with self._session() as session:
            receipts.mark_digest_posted(session=session, week=week, channel=destination, now=now)

    def digest_runs(self) -> list[tuple[str, str, str | None, datetime | None]]:
        """(week, destination, claimed_by, posted_at) of every claim, for inspection."""
        with self._session() as session:
            return [
                (r.week, r.channel, r.claimed_by, r.posted_at)
                for r in receipts.list_digest_runs(session=session)
            ]
