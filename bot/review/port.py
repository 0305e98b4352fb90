"""The review desk as the conversation core sees it (``bot.core.assistant.ReviewPort``).

The core calls ``handle(session, inbound)`` inside its transaction for the turn; the
desk works in that same session (audit rows included), resolves the sender's role
and department, and answers with neutral parts.

Example:
    >>> review = ReviewChat(ReviewDesk(ReviewStore(database), notifiers))   # doctest: +SKIP
    >>> Assistant(database=database, ..., review=review)                    # doctest: +SKIP
"""

from __future__ import annotations

from sqlmodel import Session

from bot.core.messages import Inbound, Part, Text
from bot.review.chat import handle_review_turn, is_review_turn, queue
from bot.review.desk import ReviewDesk
from bot.review.outcomes import ReviewRefused


class ReviewChat:
    """Implements the core's ``ReviewPort`` over a :class:`ReviewDesk`."""

    def __init__(self, desk: ReviewDesk) -> None:
        self.desk = desk

    @staticmethod
    def wants(inbound: Inbound) -> bool:
        """Whether ``inbound`` is for the review desk (「ダイジェスト 2026-W47」, review.* …)."""
        return is_review_turn(inbound)

    def handle(self, session: Session, inbound: Inbound) -> list[Part]:
        """Answer 「レビュー」, 「ダイジェスト」 and ``review.*`` actions."""
        desk = self.desk.within(session)
        return handle_review_turn(desk, inbound, desk.actor_for(inbound))

    def consult_refusal(self, session: Session, inbound: Inbound) -> str | None:
        """Why the sender may not consult at all (outside the tenant), audited; or None."""
        desk = self.desk.within(session)
        return desk.consult_refusal(desk.actor_for(inbound))

    def home(self, session: Session, inbound: Inbound) -> list[Part]:
        """The reviewer's queue (or a staff member's department list), for App Home / a tab."""
        desk = self.desk.within(session)
        try:
            return queue(desk, desk.actor_for(inbound))
        except ReviewRefused as refusal:
            return [Text(refusal.message)]
