"""Message retention: the transcript and its feedback are deleted after N days.

Every time is explicit (the suite runs at shifted dates).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from bot.retention import MessageRetention
from storage import (
    Database,
    Feedback,
    FeedbackValue,
    InboundReceipt,
    Message,
    MessageDirection,
    claim_inbound,
    delete_messages_before,
    record_feedback,
    record_message,
)

NOW = datetime(2027, 4, 1, 3, 0, tzinfo=UTC)


def _seed(database: Database) -> None:
    with database.session() as session:
        for days, text in ((400, "old"), (366, "just-old"), (364, "recent"), (0, "today")):
            question = record_message(
                session=session, channel="slack", tenant="T1", conversation="C1",
                direction=MessageDirection.INBOUND, text=f"{text}?", user_id="U1",
                question=True, answered=False, now=NOW - timedelta(days=days),
            )
            answer = record_message(
                session=session, channel="slack", tenant="T1", conversation="C1",
                direction=MessageDirection.OUTBOUND, text=text, in_reply_to=question.id,
                now=NOW - timedelta(days=days),
            )
            record_feedback(session=session, answer_id=answer.id, user_id="U1",
                            value=FeedbackValue.UP, now=NOW - timedelta(days=days))


def _texts(database: Database) -> list[str]:
    with database.session() as session:
        return sorted(m.text for m in session.exec(select(Message)).all())


def test_delete_messages_before_removes_them_and_their_feedback(database: Database) -> None:
    _seed(database)
    with database.session() as session:
        deleted = delete_messages_before(session=session, before=NOW - timedelta(days=365))
    assert deleted == 4
    assert _texts(database) == ["recent", "recent?", "today", "today?"]
    with database.session() as session:
        answers = {m.id for m in session.exec(select(Message)).all()}
        feedback = session.exec(select(Feedback)).all()
    assert len(feedback) == 2 and {f.answer_id for f in feedback} <= answers


def test_retention_runs_at_start_up_then_every_six_hours(database: Database) -> None:
    _seed(database)
    clock = [NOW]
    retention = MessageRetention(database, days=365, now=lambda: clock[0])
    assert retention.run_due() == 4  # the first call: start-up
    clock[0] = NOW + timedelta(hours=1)
    assert retention.run_due() is None  # not due yet
    clock[0] = NOW + timedelta(days=1, hours=1)
    assert retention.run_due() == 2  # "recent" (364 days on NOW) is now past 365 days
    assert _texts(database) == ["today", "today?"]


def test_zero_days_keeps_everything(database: Database) -> None:
    _seed(database)
    assert MessageRetention(database, days=0, now=lambda: NOW).run_due() == 0
    assert len(_texts(database)) == 8


def _receipts(database: Database) -> list[str]:
    with database.session() as session:
        return sorted(r.key for r in session.exec(select(InboundReceipt)).all())


def test_delivery_receipts_are_forgotten_after_their_retention(database: Database) -> None:
    with database.session() as session:
        for hours, key in ((100, "old"), (73, "just-old"), (71, "recent"), (0, "now")):
            assert claim_inbound(session=session, key=key, now=NOW - timedelta(hours=hours))
    retention = MessageRetention(database, days=365, receipt_hours=72, now=lambda: NOW)
    retention.run_due()
    assert _receipts(database) == ["now", "recent"]
    # A late redelivery of a remembered event is still refused.
    with database.session() as session:
        assert not claim_inbound(session=session, key="recent", now=NOW)


def test_zero_receipt_hours_keeps_every_receipt(database: Database) -> None:
    with database.session() as session:
        claim_inbound(session=session, key="ancient", now=NOW - timedelta(days=900))
    MessageRetention(database, days=0, receipt_hours=0, now=lambda: NOW).run_due()
    assert _receipts(database) == ["ancient"]
