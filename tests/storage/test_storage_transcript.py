"""Transcript and feedback contract."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import col, select

from storage import (
    Database,
    Feedback,
    FeedbackValue,
    Message,
    MessageDirection,
    count_feedback,
    get_feedback,
    is_unanswered,
    list_messages,
    list_unanswered_questions,
    record_feedback,
    record_message,
    unanswered_questions,
)

T0 = datetime(2026, 11, 16, 0, 0, tzinfo=UTC)
CONVERSATION: dict[str, Any] = {"channel": "slack", "tenant": "T1", "conversation": "D1"}


def test_transcript_in_order_and_last_n(database: Database) -> None:
    with database.session() as session:
        for minute, text in enumerate(["RFI とは？", "RFI は情報提供依頼です。", "ありがとう"]):
            record_message(
                session=session, **CONVERSATION, user_id="U1",
                direction=MessageDirection.OUTBOUND if minute == 1 else MessageDirection.INBOUND,
                text=text, now=T0 + timedelta(minutes=minute),
            )
        record_message(
            session=session, channel="slack", tenant="T1", conversation="D2",
            direction=MessageDirection.INBOUND, text="別の会話",
        )

    with database.session() as session:
        texts = [m.text for m in list_messages(session=session, **CONVERSATION)]
        assert texts == ["RFI とは？", "RFI は情報提供依頼です。", "ありがとう"]
        last_two = list_messages(session=session, **CONVERSATION, limit=2)
        assert [m.text for m in last_two] == ["RFI は情報提供依頼です。", "ありがとう"]
        assert last_two[0].direction is MessageDirection.OUTBOUND


def test_unanswered_questions_of_a_week(database: Database) -> None:
    with database.session() as session:
        def ask(text: str, answered: bool | None, at: datetime, tenant: str = "T1") -> str:
            return record_message(
                session=session, channel="slack", tenant=tenant, conversation="D1",
                direction=MessageDirection.INBOUND, text=text, question=True,
                answered=answered, now=at,
            ).id

        ask("クラウド利用の基準は？", False, T0 + timedelta(days=1))
        ask("保守契約の年数は？", False, T0 + timedelta(days=2))
        ask("RFI とは？", True, T0 + timedelta(days=2))
        ask("前の週の質問", False, T0 - timedelta(seconds=1))
        ask("次の週の質問", False, T0 + timedelta(days=7))
        ask("他団体の質問", False, T0 + timedelta(days=3), tenant="T2")
        record_message(
            session=session, **CONVERSATION, direction=MessageDirection.INBOUND,
            text="はい", answered=False, now=T0 + timedelta(days=1),
        )  # a flow answer, not a question

    with database.session() as session:
        week = list_unanswered_questions(session=session, since=T0, before=T0 + timedelta(days=7))
        assert [m.text for m in week] == ["クラウド利用の基準は？", "保守契約の年数は？", "他団体の質問"]
        only_t1 = list_unanswered_questions(
            session=session, since=T0, before=T0 + timedelta(days=7), tenant="T1"
        )
        assert len(only_t1) == 2


def test_unanswered_is_one_definition_in_python_and_in_sql(database: Database) -> None:
    with database.session() as session:
        for text, answered in (("答えた", True), ("答えられなかった", False), ("不明", None)):
            record_message(
                session=session, **CONVERSATION, direction=MessageDirection.INBOUND, text=text,
                question=True, answered=answered, now=T0,
            )
        record_message(
            session=session, **CONVERSATION, direction=MessageDirection.INBOUND, text="はい",
            answered=False, now=T0,
        )  # not a question
    with database.session() as session:
        in_sql = session.exec(select(Message.text).where(unanswered_questions())).all()
        questions = session.exec(select(Message).where(col(Message.question).is_(True))).all()
        in_python = [m.text for m in questions if is_unanswered(m.answered)]
    assert in_sql == in_python == ["答えられなかった"]


def test_feedback_latest_click_wins(database: Database) -> None:
    with database.session() as session:
        answer = record_message(
            session=session, **CONVERSATION, direction=MessageDirection.OUTBOUND, text="回答",
        )
        first = record_feedback(
            session=session, answer_id=answer.id, user_id="U1", value=FeedbackValue.UP, now=T0
        )
        assert first.value is FeedbackValue.UP
    with database.session() as session:
        second = record_feedback(
            session=session, answer_id=answer.id, user_id="U1", value=FeedbackValue.DOWN,
            now=T0 + timedelta(minutes=1),
        )
        record_feedback(session=session, answer_id=answer.id, user_id="U2", value=FeedbackValue.UP)
        assert second.id == first.id
        assert second.created_at == T0
        assert second.updated_at == T0 + timedelta(minutes=1)

    with database.session() as session:
        stored = get_feedback(session=session, answer_id=answer.id, user_id="U1")
        assert stored is not None and stored.value is FeedbackValue.DOWN
        assert count_feedback(session=session, answer_id=answer.id) == {
            FeedbackValue.UP: 1, FeedbackValue.DOWN: 1,
        }
        assert len(session.exec(Feedback.__table__.select()).all()) == 2  # type: ignore[attr-defined]


def test_concurrent_double_click_leaves_one_row(database: Database) -> None:
    other = Database(database.url.render_as_string(hide_password=False))
    engines = [database, other]
    barrier = threading.Barrier(4)
    errors: list[BaseException] = []

    def click(index: int) -> None:
        try:
            barrier.wait()
            with engines[index % 2].session() as session:
                record_feedback(
                    session=session, answer_id="A1", user_id="U1",
                    value=FeedbackValue.UP if index % 2 else FeedbackValue.DOWN,
                )
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=click, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    other.dispose()

    assert errors == []
    with database.session() as session:
        counts = count_feedback(session=session, answer_id="A1")
        assert sum(counts.values()) == 1
