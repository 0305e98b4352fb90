"""Plain values the review package works on, independent of the database.

The storage adapter (:mod:`bot.review.store`) turns rows into these; the policy, the
desk and the digest only ever see these, which keeps them pure and easy to test.
:class:`Actor` and the roles belong to the policy (:mod:`bot.core.policy`); they are
imported here for the review modules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.core.messages import Address
from bot.core.policy import ROLE_LABELS as ROLE_LABELS
from bot.core.policy import ROLES as ROLES
from bot.core.policy import Actor as Actor
from bot.core.policy import Role as Role
from storage import lifecycle
from storage.lifecycle import SheetStatus
from storage.sheet_view import EMPTY as EMPTY_CONTENT
from storage.sheet_view import SheetContent
from storage.transcript import is_unanswered

OPEN_STATUSES = tuple(s.value for s in SheetStatus if s in lifecycle.OPEN_STATUSES)
"""Statuses in which a sheet waits for the CIO補佐 (storage's, in lifecycle order)."""


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
