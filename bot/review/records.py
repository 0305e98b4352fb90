"""Plain values the review package works on, independent of the database.

The storage adapter (:mod:`bot.review.store`) turns rows into these; the policy, the
desk and the digest only ever see these, which keeps them pure and easy to test.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from bot.core.messages import Address, ChannelName
from storage import lifecycle
from storage.audit import actor_key
from storage.lifecycle import SheetStatus
from storage.sheet_view import EMPTY as EMPTY_CONTENT
from storage.sheet_view import SheetContent
from storage.transcript import is_unanswered

Role = Literal["staff", "reviewer", "admin"]
ROLES: tuple[Role, ...] = ("staff", "reviewer", "admin")

ROLE_LABELS: dict[str, str] = {"staff": "所管課職員", "reviewer": "CIO補佐", "admin": "管理者"}

OPEN_STATUSES = tuple(s.value for s in SheetStatus if s in lifecycle.OPEN_STATUSES)
"""Statuses in which a sheet waits for the CIO補佐 (storage's, in lifecycle order)."""


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


@dataclass(frozen=True)
class Transition:
    """One status change of a sheet."""

    from_status: str
    to_status: str
    at: datetime
    actor_id: str | None = None


@dataclass(frozen=True)
class SheetRecord:
    """相談シート (consultation sheet) as the review side needs it."""

    sheet_id: str
    reference: str
    """整理番号, e.g. ``2026-0012``; what the CLI accepts."""
    tenant: str
    department: str | None
    business: str
    """対象業務 (what the sheet is about)."""
    status: str
    created_at: datetime
    initial_cost: int | None = None
    """イニシャルコスト設計額 in yen, ``None`` when not stated yet."""
    requester_id: str | None = None
    requester_name: str | None = None
    submitted_at: datetime | None = None
    content: SheetContent = EMPTY_CONTENT
    """Every answer and outcome of the sheet's flows, labelled (:mod:`storage.sheet_view`)."""
    address: Address | None = None
    """Conversation the sheet was made in; where review results are posted."""
    transitions: tuple[Transition, ...] = ()
    """Status history, oldest first."""

    @property
    def requester(self) -> tuple[str, str] | None:
        """(channel, user id) of the person who made the sheet, when known."""
        if self.requester_id is None or self.address is None:
            return None
        return self.address.channel, self.requester_id

    def status_at(self, moment: datetime) -> str | None:
        """The status the sheet had at ``moment`` (``None`` before it existed)."""
        if moment < self.created_at:
            return None
        status: str = SheetStatus.DRAFT
        for step in self.transitions:
            if step.at >= moment:
                break
            status = step.to_status
        return status if self.transitions else self.status

    def last_entered(self, status: str, before: datetime) -> datetime | None:
        """When the sheet last moved into ``status`` before ``before``."""
        moments = [t.at for t in self.transitions if t.to_status == status and t.at < before]
        return max(moments) if moments else None


@dataclass(frozen=True)
class CommentRecord:
    """コメント on a sheet."""

    sheet_id: str
    author: str
    text: str
    created_at: datetime
    kind: str = "comment"
    """``comment``, ``return`` (why it was sent back) or ``accept``."""


@dataclass(frozen=True)
class MemoRecord:
    """A 仕様書（案） review memo saved on a sheet."""

    file_name: str
    summary: str
    items: tuple[tuple[str, str], ...]
    """(checklist item, judgement) in checklist order."""
    markdown: str
    created_at: datetime
    memo_id: str = ""


@dataclass(frozen=True)
class QuestionRecord:
    """A question the assistant was asked, and whether the guidelines answered it."""

    text: str
    asked_at: datetime
    answered: bool
    tenant: str = ""
    channel: str = ""

    @property
    def unanswered(self) -> bool:
        """Counted among 回答できなかった質問 (:func:`storage.transcript.is_unanswered`)."""
        return is_unanswered(self.answered)
