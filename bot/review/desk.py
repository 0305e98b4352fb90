"""ReviewDesk: what the conversation core and the CLI call for the CIO補佐 review.

Every public method goes through :class:`~bot.core.policy.AccessGate`: the policy
decides, the operation runs only when allowed, and exactly one audit row is written
either way. A refusal raises :class:`ReviewRefused` with a Japanese message; chat
turns it into a reply (:meth:`ReviewDesk.handle` does), the CLI prints it.

Chat turns (「レビュー」, buttons) are :mod:`bot.review.chat`'s, which calls the desk.

Example:
    >>> desk = ReviewDesk(ReviewStore(database), {"slack": slack_notifier})  # doctest: +SKIP
    >>> reviewer = desk.actor_for(inbound)                                     # doctest: +SKIP
    >>> desk.first_pending(reviewer, 10)      # the queue's first page, the count  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import UTC, datetime, tzinfo
from typing import TypeVar

from sqlmodel import Session

from bot.core.consultations import department_problem
from bot.core.links import sheet_address
from bot.core.messages import Inbound, Notifier
from bot.core.outbox import Outbox
from bot.core.policy import (
    AccessAction,
    AccessGate,
    Decision,
    OperationFailed,
    Scope,
    decide,
    outside_tenant,
)
from bot.review.digest import Digest, build_digest
from bot.review.outcomes import Notification, ReviewOutcome, ReviewRefused, SheetDetail
from bot.review.parts import requester_notice
from bot.review.records import OPEN_STATUSES, Actor
from bot.review.store import ReviewStore
from bot.review.weeks import TOKYO, IsoWeek
from bot.users import UserDirectory
from storage.errors import IllegalTransitionError, StorageError
from storage.lifecycle import SheetStatus, status_label
from storage.models import ConsultationSheet
from storage.review_queries import SheetFilter, SheetOrder

log = logging.getLogger(__name__)

T = TypeVar("T")

_ANNOUNCED = (SheetStatus.RETURNED, SheetStatus.ACCEPTED)
"""Status changes the requester is told about."""


def run_in_thread(task: Callable[[], object]) -> None:
    """Run ``task`` on a new daemon thread (a post-commit notification)."""
    threading.Thread(target=task, name="review-notify", daemon=True).start()


def scope_filter(
    scope: Scope,
    statuses: Iterable[str] = (),
    *,
    department: str | None = None,
    week: IsoWeek | None = None,
) -> SheetFilter:
    """The SQL filter of the sheets a permitted list may show: the policy's scope (tenant,
    its department or the one asked for, the requester), the statuses, and the week
    (created in it or changed status in it)."""
    return SheetFilter(
        tenant=scope.tenant,
        department=department if scope.department is None else scope.department,
        requesters=(scope.requester,) if scope.requester is not None else (),
        statuses=tuple(SheetStatus(s) for s in statuses),
        week=(week.start(), week.end()) if week is not None else None,
    )


def _list_detail(
    statuses: tuple[str, ...], department: str | None, week: IsoWeek | None
) -> dict[str, str]:
    """The audit row's facts of a list (no free text)."""
    detail = {"statuses": ",".join(statuses)} if statuses else {}
    if department:
        detail["department"] = department
    if week:
        detail["week"] = str(week)
    return detail


class ReviewDesk:
    """The review workflow, access-checked and audited.

    Args:
        store: users, sheets, audit and digest claims in the database.
        notifiers: one :class:`Notifier` per channel name (``"slack"``, ``"teams"``),
            used to tell requesters about returns and acceptances. The mapping is
            kept, not copied: channels mounted later may still register theirs.
        now: clock (injectable for tests).
        background: runs a notification after the core's turn has committed; by
            default on a new daemon thread, because the committing thread is still
            inside the turn's ``db.session()`` (a notifier that reads the database,
            like Teams', could not open its own session there on SQLite).
        outbox: where notices to requesters are written (in the turn's transaction) and
            posted from, retried when the channel fails; default: an
            :class:`~bot.core.outbox.Outbox` over ``store``'s database and ``notifiers``.
        admitted: other Slack teams / Azure AD tenants whose users count as members
            of the tenant they write in (``SOUDAN_SLACK_ALLOWED_TEAMS``,
            ``SOUDAN_TEAMS_ALLOWED_TENANTS``); anyone else reported as coming from another
            organisation is outside (:func:`bot.core.policy.outside_tenant`).
        zone: the deployment's time zone (``timezone``): digest weeks, export times.
    """

    def __init__(
        self,
        store: ReviewStore,
        notifiers: Mapping[str, Notifier] | None = None,
        *,
        now: Callable[[], datetime] | None = None,
        background: Callable[[Callable[[], object]], None] | None = None,
        admitted: Collection[str] = (),
        outbox: Outbox | None = None,
        zone: tzinfo = TOKYO,
    ) -> None:
        self.store = store
        self.zone = zone
        self.notifiers: Mapping[str, Notifier] = notifiers if notifiers is not None else {}
        self.now = now or (lambda: datetime.now(UTC))
        self.background = background or run_in_thread
        self.admitted = frozenset(admitted)
        self.outbox = outbox or Outbox(store.database, self.notifiers, now=self.now)
        self.gate = AccessGate(store, self.now)

    def within(self, session: Session) -> ReviewDesk:
        """This desk working inside ``session`` (the core's transaction for the turn)."""
        return ReviewDesk(
            self.store.bound(session), self.notifiers, now=self.now, background=self.background,
            admitted=self.admitted, outbox=self.outbox, zone=self.zone,
        )

    # --- who is acting --------------------------------------------------------------

    def actor_for(self, inbound: Inbound) -> Actor:
        """The sender of ``inbound`` with their registered role and department.

        A sender from outside the tenant gets no role and no department, whatever a
        profile says, and is marked :attr:`Actor.outside_from`.
        """
        if outside_tenant(inbound.tenant, inbound.home_tenant, self.admitted):
            return Actor(inbound.channel, inbound.tenant, inbound.user_id,
                         display_name=inbound.user_name, outside_from=inbound.home_tenant)
        actor = self.store.actor(inbound.channel, inbound.tenant, inbound.user_id)
        if actor.display_name is None and inbound.user_name:
            return dataclasses.replace(actor, display_name=inbound.user_name)
        return actor

    def consult_refusal(self, actor: Actor) -> str | None:
        """Why ``actor`` may not start or see consultations at all (audited), or None."""
        attempt = self.gate.attempt(actor, "consult", lambda _: None, target="consultations")
        return None if attempt.ok else attempt.message

    @staticmethod
    def needs_department(actor: Actor) -> bool:
        """True for a chat user of the tenant nobody registered yet (ask them once).

        Never for a user from outside the tenant: they may not declare one.
        """
        if actor.outside_from is not None:
            return False
        return actor.role is None or (actor.role == "staff" and not actor.department)

    def set_department(self, actor: Actor, department: str) -> Actor:
        """Record a chat user's own department (self-service, first time only).

        The department stays pending, opening only the user's own sheets, until an
        administrator confirms it (:meth:`confirm_department`, ``soudan users
        confirm-department``). A user who already has a department keeps it:
        changing it is for an admin (``soudan users set-department``). The
        self-registered role is ``staff``.

        Raises:
            ReviewRefused: empty department, the user already has one, or the user
                is outside the tenant.
        """
        name = " ".join(department.split())
        may = decide(actor, "consult")  # declaring one's department is part of consulting
        if not may.allowed:
            self.gate.record(actor, "user.set_department", actor.key, "denied",
                             {"reason": "outside_tenant"})
            raise ReviewRefused(may.reason)
        if not self.needs_department(actor):
            self.gate.record(actor, "user.set_department", actor.key, "denied",
                             {"reason": "already_assigned"})
            raise ReviewRefused(
                f"所属部署は「{actor.department or '登録済み'}」で登録済みです。"
                "変更は管理者（情報政策課）に依頼してください。"
            )
        problem = department_problem(name)
        if problem is not None:
            self.gate.record(actor, "user.set_department", actor.key, "denied",
                             {"reason": "invalid"})
            raise ReviewRefused(f"{problem}（例: 総務課）")
        saved = self.store.save_user(
            actor.channel, actor.tenant, actor.user_id,
            role=actor.role or "staff", department=name, confirmed_by=None,
            display_name=actor.display_name,
        )
        self.gate.record(actor, "user.set_department", actor.key, "allowed",
                         {"status": "pending"})
        return saved

    def pending_departments(self, actor: Actor) -> list[Actor]:
        """Users of the admin's tenant whose self-declared department awaits confirmation."""
        return UserDirectory(self.store, self.now).registered(
            actor.tenant, operator=actor, pending=True
        )

    def confirm_department(self, actor: Actor, user_key: str) -> Actor:
        """An administrator confirms the department a user declared (audited)."""
        return UserDirectory(self.store, self.now).confirm_department(user_key, operator=actor)

    # --- the audited core -----------------------------------------------------------

    def _attempt(
        self,
        actor: Actor,
        action: AccessAction,
        operation: Callable[[Decision], T],
        *,
        sheet: ConsultationSheet | None = None,
        target: str | None = None,
        target_status: str | None = None,
        detail: dict[str, str] | None = None,
    ) -> T:
        attempt = self.gate.attempt(
            actor, action, operation, sheet=sheet, target=target,
            target_status=target_status, detail=detail,
        )
        if not attempt.ok:
            raise ReviewRefused(attempt.message)
        return attempt.result  # type: ignore[return-value]

    def _sheet(self, key: str) -> tuple[ConsultationSheet | None, str]:
        sheet = self.store.sheet(key.strip())
        return sheet, (sheet.id if sheet else f"unknown:{key.strip()[:60]}")

    # --- reading --------------------------------------------------------------------

    def list_sheets(
        self,
        actor: Actor,
        *,
        statuses: tuple[str, ...] = (),
        department: str | None = None,
        week: IsoWeek | None = None,
        order: SheetOrder = "oldest",
    ) -> list[ConsultationSheet]:
        """Sheets the actor may see, filtered by status, department and ISO week (in SQL),
        oldest first (``order``)."""

        def run(decision: Decision) -> list[ConsultationSheet]:
            assert decision.scope is not None
            wanted = scope_filter(decision.scope, statuses, department=department, week=week)
            return self.store.find(wanted, order=order)

        return self._attempt(
            actor, "list", run, target="sheets", detail=_list_detail(statuses, department, week)
        )

    def first_sheets(
        self,
        actor: Actor,
        limit: int,
        *,
        statuses: tuple[str, ...] = (),
        order: SheetOrder = "oldest",
    ) -> tuple[list[ConsultationSheet], int]:
        """The first ``limit`` sheets the actor may see in ``order`` and how many there are
        in all (a chat list: one page and a count, whatever the size of the tenant).
        Audited like :meth:`list_sheets`."""

        def run(decision: Decision) -> tuple[list[ConsultationSheet], int]:
            assert decision.scope is not None
            wanted = scope_filter(decision.scope, statuses)
            return self.store.page(wanted, order=order, limit=limit)

        return self._attempt(
            actor, "list", run, target="sheets", detail=_list_detail(statuses, None, None)
        )

    def pending(self, actor: Actor) -> list[ConsultationSheet]:
        """Sheets waiting for the CIO補佐 (提出済み, 確認中), oldest submission first."""
        return self.list_sheets(actor, statuses=OPEN_STATUSES, order="queue")

    def first_pending(self, actor: Actor, limit: int) -> tuple[list[ConsultationSheet], int]:
        """The first ``limit`` of :meth:`pending` and how many there are."""
        return self.first_sheets(actor, limit, statuses=OPEN_STATUSES, order="queue")

    def show(self, actor: Actor, key: str) -> SheetDetail:
        """One sheet with its comments."""
        sheet, target = self._sheet(key)

        def run(_: Decision) -> SheetDetail:
            assert sheet is not None
            return SheetDetail(
                sheet, tuple(self.store.comments(sheet.id)),
                tuple(self.store.memos(sheet.id)), tuple(self.store.history(sheet.id)),
            )

        return self._attempt(actor, "view", run, sheet=sheet, target=target)

    def export(self, actor: Actor, fmt: str, *, statuses: tuple[str, ...] = ()) -> bytes:
        """The sheets the actor may see as ``json``, ``csv`` (BOM) or ``xlsx``."""

        def run(decision: Decision) -> bytes:
            assert decision.scope is not None
            try:
                return self.store.export_sheets(
                    tenant=decision.scope.tenant, department=decision.scope.department,
                    statuses=statuses, fmt=fmt, requester=decision.scope.requester,
                    zone=self.zone,
                )
            except ValueError as error:
                raise OperationFailed(str(error), "bad_format") from error

        return self._attempt(actor, "export", run, target="sheets", detail={"format": fmt})

    def digest(self, actor: Actor, week: IsoWeek | None = None) -> Digest:
        """The weekly digest of the actor's tenant (reviewers only); default: this week."""
        now = self.now()
        chosen = week or IsoWeek.containing(now, self.zone)

        def run(decision: Decision) -> Digest:
            assert decision.scope is not None
            return compile_digest(self.store, chosen, decision.scope.tenant, now)

        return self._attempt(actor, "digest", run, target=f"digest:{chosen}")

    # --- writing --------------------------------------------------------------------

    def comment(self, actor: Actor, key: str, text: str) -> SheetDetail:
        """Add a reviewer's comment."""
        sheet, target = self._sheet(key)

        def run(_: Decision) -> SheetDetail:
            assert sheet is not None
            if not text.strip():
                raise OperationFailed("コメントを入力してください。", "empty_comment")
            self.store.add_comment(sheet.id, actor, text.strip(), self.now())
            return SheetDetail(sheet, tuple(self.store.comments(sheet.id)))

        return self._attempt(actor, "comment", run, sheet=sheet, target=target)

    def start_review(self, actor: Actor, key: str) -> ReviewOutcome:
        """提出済み -> 確認中."""
        return self._move(actor, key, SheetStatus.IN_REVIEW)

    def return_sheet(self, actor: Actor, key: str, comment: str) -> ReviewOutcome:
        """確認中 -> 差し戻し, with the reason the requester reads (required)."""
        return self._move(actor, key, SheetStatus.RETURNED, comment=comment, comment_required=True)

    def accept(self, actor: Actor, key: str, comment: str | None = None) -> ReviewOutcome:
        """確認中 -> 受理 (the requester is told)."""
        return self._move(actor, key, SheetStatus.ACCEPTED, comment=comment)

    def close(self, actor: Actor, key: str) -> ReviewOutcome:
        """受理 -> 完了."""
        return self._move(actor, key, SheetStatus.CLOSED)

    def submit(self, actor: Actor, key: str) -> ReviewOutcome:
        """下書き / 差し戻し -> 提出済み, by the requester's department."""
        return self._move(actor, key, SheetStatus.SUBMITTED)

    def authorize(
        self,
        actor: Actor,
        action: AccessAction,
        key: str,
        *,
        target_status: str | None = None,
    ) -> ConsultationSheet:
        """Check (and audit, one row) that ``actor`` may do ``action`` on the sheet now.

        The core calls ``authorize(actor, "edit", sheet_id)`` before applying a staff
        member's edit with :func:`storage.sheets.update_sheet`; chat calls it before
        showing a form whose submit will do the action.

        Raises:
            ReviewRefused: denied (Japanese reason, nothing about other departments).
        """
        sheet, target = self._sheet(key)

        def run(_: Decision) -> ConsultationSheet:
            assert sheet is not None
            return sheet

        return self._attempt(
            actor, action, run, sheet=sheet, target=target, target_status=target_status,
            detail={"check": "authorize"},
        )

    def _move(
        self,
        actor: Actor,
        key: str,
        to_status: str,
        *,
        comment: str | None = None,
        comment_required: bool = False,
    ) -> ReviewOutcome:
        sheet, target = self._sheet(key)
        text = (comment or "").strip() or None

        def run(_: Decision) -> ReviewOutcome:
            assert sheet is not None
            if comment_required and not text:
                raise OperationFailed(
                    "差し戻しには理由の記入が必要です。依頼者が読む理由を書いてください。",
                    "comment_required",
                )
            notice: int | None = None
            try:
                # The status change and the notice announcing it commit together.
                with self.store.transaction() as store:
                    moved = store.transition(sheet.id, to_status, actor, self.now(), text)
                    if to_status in _ANNOUNCED:
                        notice = self._queue_notice(store, moved, text)
            except IllegalTransitionError as error:
                message = str(error)
                if actor.role in ("reviewer", "admin"):
                    message = reviewer_refusal(sheet.status, to_status)
                raise OperationFailed(message, "illegal_transition") from error
            except StorageError as error:
                raise OperationFailed(str(error), type(error).__name__) from error
            if to_status not in _ANNOUNCED:
                return ReviewOutcome(moved)
            return ReviewOutcome(moved, self._announce(notice))

        return self._attempt(
            actor, "change_status", run, sheet=sheet, target=target, target_status=to_status
        )

    def _queue_notice(self, store: ReviewStore, sheet: ConsultationSheet,
                      comment: str | None) -> int:
        """Write the requester's notice to the outbox in ``store``'s transaction (the one
        that changes the status); its row id."""
        return store.enqueue_notice(
            self.outbox, sheet_address(sheet), requester_notice(sheet, comment, self.zone),
            kind=f"review.{sheet.status}", subject=sheet.reference,
        )

    def _announce(self, message_id: int | None) -> Notification:
        """Post a queued notice once its transaction has committed.

        Inside the core's turn it is posted after the turn commits, on the background
        runner: posting while the turn's transaction is open would hold the SQLite write
        lock for the length of an HTTP call, and would announce a change that a later
        failure in the turn could still roll back. Outside a turn (the CLI) it is posted
        now. A post that fails stays in the outbox and is retried with back-off by any
        process that can reach the channel (``soudan serve``).
        """
        if message_id is None:
            return "failed"
        outbox = self.outbox

        def deliver() -> None:
            outbox.deliver_due(ids=[message_id])

        if self.store.after_commit(lambda: self.background(deliver)):
            return "queued"
        report = outbox.deliver_due(ids=[message_id])
        if report.sent:
            return "sent"
        return "failed" if report.attempted else "queued"


_REVIEWER_HINTS: dict[str, str] = {
    SheetStatus.DRAFT: "依頼者が提出するまでお待ちください。",
    SheetStatus.SUBMITTED: "先に「確認を開始」してください（`soudan review start`）。",
    SheetStatus.IN_REVIEW: "「差し戻し」か「受理」を選んでください。",
    SheetStatus.RETURNED: "依頼者が修正して再提出するまでお待ちください。",
    SheetStatus.ACCEPTED: "対応が終わったら「完了にする」を選んでください。",
    SheetStatus.CLOSED: "完了した相談シートは変更できません。",
    SheetStatus.CANCELLED: "取り消された相談シートは変更できません。",
}


def reviewer_refusal(from_status: str, to_status: str) -> str:
    """Why the CIO補佐 cannot make this move, and what they can do instead (Japanese)."""
    return (
        f"「{status_label(from_status)}」の相談シートを「{status_label(to_status)}」にはできません。"
        + _REVIEWER_HINTS.get(from_status, "")
    )


def compile_digest(store: ReviewStore, week: IsoWeek, tenant: str | None, now: datetime) -> Digest:
    """Load what the digest of ``week`` needs and build it (``tenant=None``: all tenants).

    The one way a digest is made: chat 「ダイジェスト」, ``soudan digest``, the scheduler
    and the web console. Only the sheets that can appear in the week are read
    (:meth:`ReviewStore.digest_sheets`, selected in SQL), whatever the size of the tenant.
    """
    sheets, history = store.digest_sheets(tenant=tenant, since=week.start(), before=week.end())
    questions = store.questions(tenant=tenant, since=week.start(), before=week.end())
    return build_digest(week, tenant, sheets, questions, now=now, history=history)
