"""Who may see or change which 相談シート, and the audit row every attempt leaves.

The one policy module of soudan: chat (the core and the review desk), Slack, Teams,
the web console, the CLI and the digest scheduler all ask :func:`decide`, and every
audit row is written by :func:`write_audit` (directly, or through :class:`AccessGate`).

One function, :func:`decide`, holds the whole policy:

* anyone of the tenant may consult, list their own sheets (``list_own``), continue
  their own sheet with a follow-up flow while it may take one (``follow_up``) and
  reopen their own sheet the CIO補佐 returned (``reopen``); "own" is the sheet's
  requester, in the same channel and tenant;
* a 仕様書（案） review memo is kept on a sheet by its requester or a CIO補佐 of its
  tenant (``spec_memo``);
* staff see, list and export only their own department's sheets, and edit them only
  while ``draft`` or ``returned`` (their one status change is submitting). Only a
  department an administrator set or confirmed counts: a staff member whose
  department is self-declared and still pending gets the same rights on the sheets
  they requested themselves, and nothing of the department;
* reviewers (CIO補佐) see every department of their tenant, comment, move sheets
  through the review and pull the digest;
* admins manage the users of their tenant (the shell operator, every tenant); they
  do not read sheets unless also a reviewer (give them the reviewer role for that).
  The shell operator's bypass is ``soudan admin …``, audited as the OS user;
* unassigned users and users of another tenant see nothing;
* a user who comes from outside the tenant (another Slack workspace or enterprise
  through Slack Connect, another Azure AD tenant) and is not admitted by a setting
  (:func:`outside_tenant`) is refused everything about sheets, whatever role or
  department a profile of theirs says; they may still ask guideline questions,
  which touch no sheet.

A denial's reason is Japanese and never says whether another department's sheet
exists: a missing sheet and a foreign one get the same answer.

:class:`AccessGate` wraps the policy so that every attempt, allowed or denied,
writes exactly one append-only audit row.

Example:
    >>> staff = Actor("slack", "T1", "U1", role="staff", department="総務課")
    >>> decide(staff, "digest").allowed
    False
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Generic, Literal, Protocol, TypeVar, cast

from bot.core.messages import ChannelName
from storage.audit import actor_key, record_audit
from storage.lifecycle import EDITABLE_STATUSES, SheetStatus, status_label
from storage.models import AuditResult, UserRole
from storage.people import get_user_profile
from storage.sheets import FOLLOW_UP_STATUSES

if TYPE_CHECKING:
    from sqlmodel import Session

    from storage.models import ConsultationSheet, UserProfile

Role = Literal["staff", "reviewer", "admin"]
ROLES: tuple[Role, ...] = ("staff", "reviewer", "admin")

ROLE_LABELS: dict[str, str] = {"staff": "所管課職員", "reviewer": "CIO補佐", "admin": "管理者"}


@dataclass(frozen=True)
class Actor:
    """利用者 (a person acting): who they are and what they are assigned.

    ``role`` is ``None`` for a user nobody has registered yet; such a user sees
    nothing. A staff member without ``department`` sees nothing either; one whose
    department is still pending (self-declared, not yet confirmed by an
    administrator) sees only the sheets they requested themselves.
    """

    channel: ChannelName
    tenant: str
    user_id: str
    role: Role | None = None
    department: str | None = None
    display_name: str | None = None
    via: str | None = None
    """How they reached us when not through their own channel (``cli``), for the audit."""
    department_pending: bool = False
    """``department`` was declared by the user and awaits an administrator's confirmation."""
    outside_from: str | None = None
    """The sender's own Slack team / Azure AD tenant when they come from outside this
    tenant (Slack Connect, another organisation) and no setting admits it. The policy
    refuses such a user everything about 相談シート."""

    @property
    def key(self) -> str:
        """Stable identifier written to the audit log: ``channel:tenant:user_id``."""
        return actor_key(self.channel, self.tenant, self.user_id)

    @property
    def confirmed_department(self) -> str | None:
        """The department that counts for access: set and confirmed by an administrator."""
        return None if self.department_pending else self.department


def actor_in(session: Session, channel: str, tenant: str, user_id: str) -> Actor:
    """The user with their registered role and department (``role=None``: no profile)."""
    profile = get_user_profile(session=session, channel=channel, tenant=tenant, user_id=user_id)
    return actor_of(profile) if profile is not None else Actor(
        cast(ChannelName, channel), tenant, user_id
    )


def actor_of(profile: UserProfile) -> Actor:
    """The registered user a profile row describes."""
    return Actor(
        channel=cast(ChannelName, profile.channel),
        tenant=profile.tenant,
        user_id=profile.user_id,
        role=cast(Role, UserRole(profile.role).value),
        department=profile.department,
        display_name=profile.display_name,
        department_pending=profile.department_pending,
    )


class SheetFacts(Protocol):
    """What the policy reads of a 相談シート (the stored row,
    :class:`storage.models.ConsultationSheet`, and :class:`Sheet` have it)."""

    @property
    def id(self) -> str: ...

    @property
    def reference(self) -> str: ...

    @property
    def tenant(self) -> str: ...

    @property
    def department(self) -> str | None: ...

    @property
    def status(self) -> str: ...

    @property
    def requester(self) -> tuple[str, str] | None: ...


@dataclass(frozen=True)
class Sheet:
    """The policy's facts of a stored sheet row (the core and the CLI decide on these)."""

    id: str
    reference: str
    tenant: str
    department: str | None
    status: str
    requester: tuple[str, str] | None

    @classmethod
    def of(cls, row: ConsultationSheet) -> Sheet:
        requester = (row.channel, row.requester_id) if row.requester_id else None
        return cls(row.id, row.reference, row.tenant, row.department,
                   SheetStatus(row.status).value, requester)


AccessAction = Literal[
    "view", "list", "edit", "export", "digest", "comment", "change_status", "manage_users",
    "consult", "list_own", "follow_up", "reopen", "spec_memo",
]
"""``consult``: start a consultation or resume one's own (the core asks for senders
reported as coming from another organisation). ``list_own``: list the sheets one
requested. ``follow_up``: continue one's own sheet with a follow-up flow (RFI after
the ICT-adoption consultation). ``reopen``: take one's own returned sheet back to fix
and resubmit it. ``spec_memo``: keep a 仕様書（案） review memo on a sheet."""

REVIEW_TARGETS = (
    SheetStatus.IN_REVIEW, SheetStatus.RETURNED, SheetStatus.ACCEPTED, SheetStatus.CLOSED
)

NOT_REGISTERED = (
    "利用者登録がまだ済んでいないため、相談シートは表示できません。"
    "所属部署を登録するか、情報政策課（管理者）に登録を依頼してください。"
)
SHEET_UNAVAILABLE = (
    "指定の相談シートは表示できません。閲覧できるのは所属部署の相談シートだけです。"
    "参照番号を確認するか、CIO補佐にお問い合わせください。"
)
REVIEWERS_ONLY = (
    "この操作は CIO補佐（レビュー担当）だけが行えます。必要な場合は管理者に権限を依頼してください。"
)
ADMINS_ONLY = "利用者の登録・変更は管理者だけが行えます。情報政策課に依頼してください。"
OWN_TENANT_USERS_ONLY = "チャットで管理できるのは、ご自身の組織（テナント）の利用者だけです。"
NO_DEPARTMENT = "所属部署が未登録のため、相談シートは表示できません。所属部署を登録してください。"
NOT_YOURS = "⚠️ この相談シートは修正できません（ご自身が提出したシートだけが対象です）。"
SPEC_MEMO_NOT_ALLOWED = (
    "仕様書（案）のレビューメモを相談シートに保存できるのは、その相談シートの相談者本人か"
    " CIO補佐だけです。"
)
OUTSIDE_TENANT = (
    "申し訳ありません。組織の外（別のワークスペース・別の組織）から参加している方は、"
    "相談シートの作成・閲覧はできません。ガイドラインについての質問にはお答えします。"
    "ご利用が必要な場合は、情報政策課（管理者）にお問い合わせください。"
)


def outside_tenant(tenant: str, home: str | None, admitted: Collection[str]) -> bool:
    """Whether a sender whose own organisation is ``home`` is outside ``tenant``.

    ``home`` is the sender's Slack team / Azure AD tenant as the channel reported it
    (``None``: not reported, the sender belongs to ``tenant``). ``admitted`` lists
    the other teams / tenants a setting lets in (``SOUDAN_SLACK_ALLOWED_TEAMS``,
    ``SOUDAN_TEAMS_ALLOWED_TENANTS``).
    """
    return home is not None and home != tenant and home not in admitted


@dataclass(frozen=True)
class Scope:
    """What a permitted list, export or digest may include."""

    tenant: str
    department: str | None
    """``None``: every department of the tenant (reviewers)."""
    requester: tuple[str, str] | None = None
    """(channel, user id): only the sheets this person requested (pending department)."""

    def includes(self, sheet: SheetFacts) -> bool:
        if sheet.tenant != self.tenant:
            return False
        if self.requester is not None and sheet.requester != self.requester:
            return False
        return self.department is None or sheet.department == self.department


@dataclass(frozen=True)
class Decision:
    """The policy's answer. ``reason`` is the Japanese message shown on denial."""

    allowed: bool
    reason: str = ""
    scope: Scope | None = None


def _deny(reason: str) -> Decision:
    return Decision(allowed=False, reason=reason)


def decide(
    actor: Actor,
    action: AccessAction,
    sheet: SheetFacts | None = None,
    *,
    target_status: str | None = None,
    users_of: str | None = None,
) -> Decision:
    """Decide whether ``actor`` may do ``action`` (on ``sheet`` when it is about one).

    Args:
        actor: who is acting, with their assigned role and department.
        action: what they try to do.
        sheet: the sheet it is about; ``None`` for list, digest, user management, or
            when the sheet was not found (which is answered like a foreign sheet).
        target_status: for ``change_status``, the status asked for.
        users_of: for ``manage_users``, the tenant whose users are changed or listed
            (``None``: every tenant, which only the shell operator may).

    Returns:
        The decision; for list/export/digest it carries the :class:`Scope` to apply.
    """
    if actor.outside_from is not None:
        return _deny(OUTSIDE_TENANT)
    if action == "consult":
        return Decision(True)  # anyone of the tenant; the department question registers
    if action == "list_own":
        return Decision(True, scope=_own(actor))
    if action in ("follow_up", "reopen", "spec_memo"):
        return _decide_own_sheet(actor, action, sheet)
    if actor.role is None:
        return _deny(NOT_REGISTERED)
    if action == "manage_users":
        if actor.role != "admin":
            return _deny(ADMINS_ONLY)
        if actor.channel != "cli" and users_of != actor.tenant:
            return _deny(OWN_TENANT_USERS_ONLY)
        return Decision(True)
    if action == "digest":
        if actor.role != "reviewer":
            return _deny(REVIEWERS_ONLY)
        return Decision(True, scope=Scope(actor.tenant, None))
    if actor.role == "reviewer":
        return _decide_reviewer(actor, action, sheet, target_status)
    if actor.role == "staff":
        return _decide_staff(actor, action, sheet, target_status)
    return _deny(REVIEWERS_ONLY)  # admin: user management only


def _own(actor: Actor) -> Scope:
    """The sheets ``actor`` requested (in this channel and tenant)."""
    return Scope(actor.tenant, None, requester=(actor.channel, actor.user_id))


def _decide_own_sheet(actor: Actor, action: AccessAction, sheet: SheetFacts | None) -> Decision:
    mine = sheet is not None and _own(actor).includes(sheet)
    if action == "spec_memo":
        if sheet is None:
            return _deny(SHEET_UNAVAILABLE)
        if mine or (actor.role == "reviewer" and sheet is not None and sheet.tenant == actor.tenant):
            return Decision(True)
        return _deny(SPEC_MEMO_NOT_ALLOWED)
    if sheet is None or not mine:
        return _deny(NOT_YOURS)
    if action == "follow_up":
        if sheet.status not in FOLLOW_UP_STATUSES:
            return _deny(
                f"相談シート {sheet.reference} は「{status_label(sheet.status)}」のため、"
                "続きの相談を追加できません。"
            )
        return Decision(True, scope=_own(actor))
    if sheet.status != SheetStatus.RETURNED:
        return _deny(
            f"相談シート {sheet.reference} は「{status_label(sheet.status)}」のため修正できません。"
            "差し戻されたシートだけを修正・再提出できます。"
        )
    return Decision(True, scope=_own(actor))


def _decide_reviewer(
    actor: Actor, action: AccessAction, sheet: SheetFacts | None, target: str | None
) -> Decision:
    if action in ("list", "export") and sheet is None:
        return Decision(True, scope=Scope(actor.tenant, None))
    if sheet is None or sheet.tenant != actor.tenant:
        return _deny(SHEET_UNAVAILABLE)
    if action == "edit":
        return _deny("CIO補佐は相談シートの内容を編集できません。コメントするか差戻してください。")
    if action == "change_status" and target not in REVIEW_TARGETS:
        return _deny("CIO補佐が行えるのは、レビュー開始・差戻し・受理・完了です。")
    return Decision(True, scope=Scope(actor.tenant, None))


def _decide_staff(
    actor: Actor, action: AccessAction, sheet: SheetFacts | None, target: str | None
) -> Decision:
    if actor.department is None:
        return _deny(NO_DEPARTMENT)
    if actor.department_pending:
        # Self-declared, not confirmed: the sheets they requested, nothing more.
        own = Scope(actor.tenant, None, requester=(actor.channel, actor.user_id))
    else:
        own = Scope(actor.tenant, actor.department)
    if action in ("list", "export") and sheet is None:
        return Decision(True, scope=own)
    if sheet is None or not own.includes(sheet):
        return _deny(SHEET_UNAVAILABLE)
    if action in ("view", "export"):
        return Decision(True, scope=own)
    if action == "comment" or (action == "change_status" and target != SheetStatus.SUBMITTED):
        # Starting, returning, accepting and closing belong to the CIO補佐, whatever the status.
        return _deny(REVIEWERS_ONLY)
    if sheet.status not in EDITABLE_STATUSES:
        return _deny(
            f"この相談シートは「{status_label(sheet.status)}」のため変更できません。"
            "変更できるのは下書きか差戻しの間だけです。"
        )
    if action == "edit":
        return Decision(True, scope=own)
    if action == "change_status" and target == SheetStatus.SUBMITTED:
        return Decision(True, scope=own)
    return _deny(REVIEWERS_ONLY)


# --- audit ----------------------------------------------------------------------------

Outcome = Literal["allowed", "denied", "failed"]


def write_audit(
    session: Session,
    actor: Actor | str,
    action: str,
    outcome: Outcome = "allowed",
    *,
    target: str | None = None,
    tenant: str | None = None,
    detail: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    """Append one audit row in the caller's transaction: the one way a row is written.

    Args:
        actor: who; an :class:`Actor` (its key, its tenant unless ``tenant`` is given,
            and how it came — ``via``, ``outside_from``, a pending department — are
            added to the detail) or an actor key already made (``channel:tenant:user``).
        action: what, e.g. ``sheet.submit``, ``admin.sheets.export``.
        outcome: ``failed`` (allowed, then refused further down) is stored as denied
            with ``detail["outcome"] = "failed"`` (the stored result has two values).
        detail: extra facts; never sheet content or personal information.
    """
    facts: dict[str, Any] = dict(detail or {})
    if isinstance(actor, Actor):
        facts = _facts(actor, facts)
        tenant = tenant if tenant is not None else actor.tenant
        key = actor.key
    else:
        key = actor
    if outcome == "failed":
        facts["outcome"] = "failed"
    record_audit(
        session=session, actor=key, action=action,
        result=AuditResult.ALLOWED if outcome == "allowed" else AuditResult.DENIED,
        target=target, tenant=tenant, detail=facts or None, now=at,
    )


@dataclass(frozen=True)
class AuditEntry:
    """One audit row: who, what, when, result. Holds no sheet content."""

    actor: str
    action: str
    target: str | None
    outcome: Outcome
    at: datetime
    tenant: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)


class AuditTrail(Protocol):
    """Port: appends audit rows; never updates or deletes one."""

    def record(self, entry: AuditEntry) -> None:
        ...


class OperationFailed(Exception):
    """An allowed operation did not happen; ``message`` is Japanese, for the user."""

    def __init__(self, message: str, reason: str = "failed") -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason
        """Short English code for the audit row, e.g. ``illegal_transition``."""


T = TypeVar("T")


@dataclass(frozen=True)
class Attempt(Generic[T]):
    """What :meth:`AccessGate.attempt` did: the decision and, if run, the result."""

    decision: Decision
    result: T | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.decision.allowed and self.error is None

    @property
    def message(self) -> str:
        """Japanese explanation when not ok."""
        return self.error or self.decision.reason


class AccessGate:
    """The policy plus the audit: one attempt, one audit row, whatever happens."""

    def __init__(self, trail: AuditTrail, now: Callable[[], datetime] | None = None) -> None:
        self._trail = trail
        self._now = now or (lambda: datetime.now(UTC))

    def attempt(
        self,
        actor: Actor,
        action: AccessAction,
        operation: Callable[[Decision], T],
        *,
        sheet: SheetFacts | None = None,
        target: str | None = None,
        target_status: str | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> Attempt[T]:
        """Decide, run ``operation`` when allowed, and write exactly one audit row.

        ``operation`` receives the decision (for its scope) and may raise
        :class:`OperationFailed` to report a refusal from further down (an illegal
        status transition, say); that is audited as ``failed``.
        """
        decision = decide(actor, action, sheet, target_status=target_status)
        what = target if target is not None else (sheet.id if sheet else None)
        facts = _facts(actor, detail)
        if target_status is not None:
            facts["to"] = target_status
        if not decision.allowed:
            self._write(actor, action, what, "denied", facts)
            return Attempt(decision)
        try:
            result = operation(decision)
        except OperationFailed as failure:
            self._write(actor, action, what, "failed", {**facts, "reason": failure.reason})
            return Attempt(decision, error=failure.message)
        except Exception as error:
            self._write(actor, action, what, "failed", {**facts, "error": type(error).__name__})
            raise
        self._write(actor, action, what, "allowed", facts)
        return Attempt(decision, result=result)

    def record(
        self,
        actor: Actor,
        action: str,
        target: str | None,
        outcome: Outcome,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        """Write one audit row for something outside :meth:`attempt` (user management)."""
        self._write(actor, action, target, outcome, _facts(actor, detail))

    def _write(
        self,
        actor: Actor,
        action: str,
        target: str | None,
        outcome: Outcome,
        detail: dict[str, Any],
    ) -> None:
        entry = AuditEntry(actor.key, action, target, outcome, self._now(), actor.tenant, detail)
        self._trail.record(entry)


def _facts(actor: Actor, detail: Mapping[str, Any] | None) -> dict[str, Any]:
    """The audit detail of an attempt: ``detail`` plus how and from where the actor came."""
    facts = dict(detail or {})
    if actor.via:
        facts["via"] = actor.via
    if actor.outside_from is not None:
        facts["outside_from"] = actor.outside_from
    if actor.department_pending:
        facts["department_status"] = "pending"
    return facts
