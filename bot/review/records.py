"""Plain values the review package shows besides a sheet: comments, memos, questions.

A sheet itself is storage's row (:class:`storage.models.ConsultationSheet`, its history
:class:`storage.models.SheetTransition`); :mod:`bot.review.store` maps the rest to these.
:class:`Actor` and the roles belong to the policy (:mod:`bot.core.policy`); they are
imported here for the review modules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.core.policy import ROLE_LABELS as ROLE_LABELS
from bot.core.policy import ROLES as ROLES
from bot.core.policy import Actor as Actor
from bot.core.policy import Role as Role
from storage import lifecycle
from storage.lifecycle import SheetStatus
from storage.transcript import is_unanswered

OPEN_STATUSES = tuple(s.value for s in SheetStatus if s in lifecycle.OPEN_STATUSES)
"""Statuses in which a sheet waits for the CIO補佐 (storage's, in lifecycle order)."""


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
