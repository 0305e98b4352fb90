"""What the review desk hands back: a refusal, a sheet with comments, a status change."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.review.records import CommentRecord, MemoRecord
from storage.models import ConsultationSheet, SheetTransition


class ReviewRefused(Exception):
    """The desk did not do what was asked; ``message`` (Japanese) says why and what next."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class SheetDetail:
    sheet: ConsultationSheet
    comments: tuple[CommentRecord, ...]
    memos: tuple[MemoRecord, ...] = ()
    """仕様書（案） review memos saved on the sheet, oldest first."""
    history: tuple[SheetTransition, ...] = ()
    """Its status changes, oldest first (:meth:`ReviewDesk.show`)."""


Notification = Literal["none", "sent", "failed", "queued"]
"""What became of telling the requester: nothing to tell, told, the first post failed
(the outbox retries it), or will be told once the turn commits / by a process that
can reach the requester's channel."""

_NOTICES: dict[str, str] = {
    "none": "",
    "sent": "依頼者に通知しました。",
    "queued": "依頼者に通知します。",
    "failed": (
        "依頼者への通知に失敗しました。自動で再送します"
        "（状況は soudan review outbox で確認できます）。"
    ),
}


@dataclass(frozen=True)
class ReviewOutcome:
    """A status change done by the desk."""

    sheet: ConsultationSheet
    notification: Notification = "none"

    @property
    def notice(self) -> str:
        """One Japanese line for the reviewer about the notification."""
        return notice_for(self.notification)


def notice_for(notification: Notification) -> str:
    """One Japanese line for the reviewer about what became of telling the requester."""
    return _NOTICES[notification]
