"""Guideline Q&A through ``Assistant.handle`` with the real knowledge base."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlmodel import select

import storage
from bot.core.assistant import ERROR_TEXT, Assistant
from bot.core.messages import Action, CitationList, FeedbackRequest, Text
from bot.wiring import Services
from knowledge.types import Answer, Hit
from tests.core.conversation import Conversation


@pytest.fixture
def services(make_services: Callable[..., Services]) -> Services:
    return make_services()


@pytest.fixture
def talk(services: Services) -> Conversation:
    return Conversation(services.assistant)


def test_question_gets_a_short_answer_with_its_clauses(
    talk: Conversation, services: Services
) -> None:
    parts = talk.say("DX推進本部会議で協議が必要になるのはどんな場合ですか？")
    citations = next(p for p in parts if isinstance(p, CitationList)).citations
    assert any("協議" in c.section for c in citations)
    assert all(c.title and c.section for c in citations)
    assert "300" in talk.text
    with services.database.session() as session:
        questions = session.exec(
            select(storage.Message).where(storage.Message.question == True)  # noqa: E712
        ).all()
    assert [(q.text, q.answered) for q in questions] == [
        ("DX推進本部会議で協議が必要になるのはどんな場合ですか？", True)
    ]


def test_off_topic_question_says_plainly_the_guidelines_do_not_answer(
    talk: Conversation, services: Services
) -> None:
    parts = talk.say("庁舎の食堂の今日のメニューは何ですか？")
    assert "記載が見当たりません" in talk.text
    assert not any(isinstance(p, CitationList) for p in parts)
    since = storage.utc_now().replace(year=2000)
    with services.database.session() as session:
        unanswered = storage.list_unanswered_questions(
            session=session, since=since, before=storage.utc_now()
        )
    assert [m.text for m in unanswered] == ["庁舎の食堂の今日のメニューは何ですか？"]


def test_feedback_click_is_stored_and_the_latest_click_wins(
    talk: Conversation, services: Services
) -> None:
    parts = talk.say("RFIとは何ですか？")
    answer_id = next(p for p in parts if isinstance(p, FeedbackRequest)).answer_id
    talk.send(talk.inbound(action=Action("feedback", "up", answer_id)))
    talk.send(talk.inbound(action=Action("feedback", "down", answer_id)))
    with services.database.session() as session:
        rows = session.exec(select(storage.Feedback)).all()
    assert [(r.answer_id, r.value) for r in rows] == [(answer_id, storage.FeedbackValue.DOWN)]


def test_follow_up_in_the_thread_uses_the_earlier_question(talk: Conversation) -> None:
    talk.say("RFIを行うのはどんな場合ですか？")
    talk.say("その場合の注意点は？")
    citations = next(p for p in talk.last if isinstance(p, CitationList)).citations
    assert any("RFI" in c.section or "RFI" in c.text for c in citations)


class _BrokenKnowledge:
    """A knowledge side whose index is gone (a fake, not a patch)."""

    def answer(self, question: str, *, history: object = ()) -> Answer:
        raise RuntimeError("index unavailable")

    def search(self, question: str, *, top_k: int = 5) -> list[Hit]:
        raise RuntimeError("index unavailable")


def test_an_error_reaches_the_user_in_japanese_and_the_delivery_can_be_retried(
    services: Services,
) -> None:
    broken = Assistant(
        database=services.database, knowledge=_BrokenKnowledge(), flows=services.flows,
        titles=services.titles,
    )
    talk = Conversation(broken)
    delivery = talk.inbound(text="RFIとは？")
    assert talk.send(delivery) == [Text(ERROR_TEXT)]
    # Nothing was claimed: the channel's retry is applied by a healthy process.
    retried = Conversation(services.assistant).send(delivery)
    assert any(isinstance(p, CitationList) for p in retried)


def test_help_and_empty_input(talk: Conversation) -> None:
    talk.say("ヘルプ")
    assert "相談を始める" in talk.text
    talk.say("   ")
    assert "メッセージが空です" in talk.text
