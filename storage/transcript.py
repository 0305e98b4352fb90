"""Repository of the conversation transcript and the 👍/👎 feedback on answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from storage.columns import utc_now
from storage.conflicts import dialect_insert
from storage.models import Feedback, FeedbackValue, Message, MessageDirection, new_id


def is_unanswered(answered: bool | None) -> bool:
    """The one definition of an unanswered question (回答できなかった質問).

    ``answered`` is what the knowledge base said when the question was asked
    (``Answer.answered``), kept on the transcript's question (``Message.answered``)
    and on a sheet's questions (``{"text", "answered"}``): False when it declined or
    could not answer. None (not known) is not counted as unanswered.

    Example:
        >>> is_unanswered(False), is_unanswered(True), is_unanswered(None)
        (True, False, False)
    """
    return answered is False


def unanswered_questions() -> ColumnElement[Any]:
    """:func:`is_unanswered` in SQL: the transcript's guideline questions not answered."""
    return sa.and_(col(Message.question).is_(True), col(Message.answered).is_(False))


def record_message(
    *,
    session: Session,
    channel: str,
    tenant: str,
    conversation: str,
    direction: MessageDirection,
    text: str,
    user_id: str | None = None,
    question: bool = False,
    answered: bool | None = None,
    in_reply_to: str | None = None,
    flow_session_id: str | None = None,
    message_id: str | None = None,
    now: datetime | None = None,
) -> Message:
    """Append one message to the transcript.

    For a guideline question, record the inbound text with ``question=True`` and
    ``answered`` set once known; record the answer as an outbound message whose
    ``message_id`` is the ``answer_id`` shown with the 👍/👎 buttons.
    """
    message = Message(
        id=message_id or new_id(),
        channel=channel,
        tenant=tenant,
        conversation=conversation,
        user_id=user_id,
        direction=MessageDirection(direction),
        text=text,
        question=question,
        answered=answered,
        in_reply_to=in_reply_to,
        flow_session_id=flow_session_id,
        created_at=now or utc_now(),
    )
    session.add(message)
    session.flush()
    return message




def list_messages(
    *, session: Session, channel: str, tenant: str, conversation: str, limit: int | None = None
) -> list[Message]:
    """A conversation's messages, oldest first (the last ``limit`` ones if given)."""
    statement = select(Message).where(
        Message.channel == channel,
        Message.tenant == tenant,
        Message.conversation == conversation,
    )
    if limit is None:
        return list(
            session.exec(statement.order_by(col(Message.created_at), col(Message.id))).all()
        )
    newest = session.exec(
        statement.order_by(col(Message.created_at).desc(), col(Message.id).desc()).limit(limit)
    ).all()
    return list(reversed(newest))


def list_unanswered_questions(
    *,
    session: Session,
    since: datetime,
    before: datetime,
    tenant: str | None = None,
) -> list[Message]:
    """Questions the guidelines did not answer in ``[since, before)``, oldest first."""
    statement = select(Message).where(
        unanswered_questions(),
        Message.created_at >= since,
        Message.created_at < before,
    )
    if tenant is not None:
        statement = statement.where(Message.tenant == tenant)
    return list(session.exec(statement.order_by(col(Message.created_at))).all())


def record_feedback(
    *,
    session: Session,
    answer_id: str,
    user_id: str,
    value: FeedbackValue,
    now: datetime | None = None,
) -> Feedback:
    """Record a 👍/👎 click; a user's later click on the same answer replaces the earlier one.

    One atomic upsert on the (answer, user) unique constraint, so double clicks
    handled by two replicas still leave exactly one row.
    """
    at = now or utc_now()
    statement = (
        dialect_insert(session, Feedback)
        .values(
            id=new_id(),
            answer_id=answer_id,
            user_id=user_id,
            value=FeedbackValue(value).value,
            created_at=at,
            updated_at=at,
        )
        .on_conflict_do_update(
            index_elements=["answer_id", "user_id"],
            set_={"value": FeedbackValue(value).value, "updated_at": at},
        )
    )
    session.execute(statement)
    feedback = get_feedback(session=session, answer_id=answer_id, user_id=user_id)
    assert feedback is not None  # just upserted
    return feedback


def get_feedback(*, session: Session, answer_id: str, user_id: str) -> Feedback | None:
    """This user's feedback on this answer, or None."""
    statement = (
        select(Feedback)
        .where(Feedback.answer_id == answer_id, Feedback.user_id == user_id)
        .execution_options(populate_existing=True)
    )
    return session.exec(statement).first()


def count_feedback(*, session: Session, answer_id: str) -> dict[FeedbackValue, int]:
    """Number of 👍 and 👎 on an answer."""
    rows = session.exec(select(Feedback.value).where(Feedback.answer_id == answer_id)).all()
    counts = dict.fromkeys(FeedbackValue, 0)
    for value in rows:
        counts[FeedbackValue(value)] += 1
    return counts


def delete_messages_before(*, session: Session, before: datetime) -> int:
    """Delete transcript messages created before ``before``, and the 👍/👎 on them.

    The retention rule (``SOUDAN_MESSAGE_RETENTION_DAYS``). 相談シート (with the
    questions asked during a consultation) and the audit log are records of their own
    and are not touched. Returns the number of messages deleted.
    """
    old_ids = select(Message.id).where(col(Message.created_at) < before)
    session.execute(
        sa.delete(Feedback)
        .where(col(Feedback.answer_id).in_(old_ids))
        .execution_options(synchronize_session=False)
    )
    result = session.execute(
        sa.delete(Message)
        .where(col(Message.created_at) < before)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
