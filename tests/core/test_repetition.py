"""Quiet under repetition: stale buttons and flow words after the consultation moved on.

Before: 30 presses of a finished consultation's button got 30 replies, and 30 typed
「確定」 gave one submission and 29 unanswered guideline questions in the digest.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

import storage
from bot.core.assistant import NO_FLOW_TEXT
from bot.core.repetition import is_flow_word
from bot.wiring import Services
from tests.core.conversation import Conversation
from tests.core.test_consultation_scenarios import answer_up_to_cost

START = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
WINDOW = 10.0


class Clock:
    def __init__(self) -> None:
        self.at = START

    def __call__(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def services(make_services: Callable[..., Services], clock: Clock) -> Services:
    built = make_services(repeat_reply_seconds=WINDOW)
    built.assistant.repeats.clock = clock
    return built


@pytest.fixture
def talk(services: Services) -> Conversation:
    return Conversation(services.assistant)


def question_rows(services: Services) -> int:
    with services.database.session() as session:
        rows = session.exec(
            select(storage.Message).where(storage.Message.question == True)  # noqa: E712
        ).all()
    return len(rows)


def reach_confirm(talk: Conversation) -> None:
    answer_up_to_cost(talk)
    talk.say("450万円くらい")
    talk.say("年間50万円")
    for label in ("いいえ", "いいえ", "いいえ", "はい", "いいえ", "はい"):
        talk.click(label)
    assert "相談シートの内容と判断結果を確認してください" in talk.text


def test_thirty_typed_confirms_submit_once_and_record_no_question(
    talk: Conversation, services: Services, clock: Clock
) -> None:
    reach_confirm(talk)
    before = question_rows(services)
    replies = []
    for _ in range(30):
        replies.append(talk.say("確定"))
        clock.advance(0.2)  # 30 presses in 6 seconds: inside one quiet window
    answered = [r for r in replies if r]
    assert "CIO補佐に提出しました" in "".join(str(p) for p in answered[0])
    assert len(answered) <= 2  # the submission and one "no consultation" note
    assert any(NO_FLOW_TEXT in str(p) for r in answered[1:] for p in r)
    assert question_rows(services) == before == 0


def test_thirty_presses_of_a_finished_consultations_button_get_one_reply(
    talk: Conversation, clock: Clock
) -> None:
    reach_confirm(talk)
    confirm = talk.button("この内容で確定する")
    talk.click("この内容で確定する")
    assert "CIO補佐に提出しました" in talk.text
    replies = []
    for _ in range(30):
        replies.append(talk.send(talk.inbound(action=confirm)))
        clock.advance(0.1)
    answered = [r for r in replies if r]
    assert len(answered) == 1
    assert "すでに終了" in "".join(str(p) for p in answered[0])


def test_after_the_quiet_window_a_stale_press_is_answered_again(
    talk: Conversation, clock: Clock
) -> None:
    reach_confirm(talk)
    confirm = talk.button("この内容で確定する")
    talk.click("この内容で確定する")
    assert talk.send(talk.inbound(action=confirm))
    assert talk.send(talk.inbound(action=confirm)) == []
    clock.advance(WINDOW - 1)
    assert talk.send(talk.inbound(action=confirm)) == []
    clock.advance(WINDOW + 1)
    assert talk.send(talk.inbound(action=confirm))


def test_the_quiet_window_is_per_conversation(services: Services) -> None:
    one = Conversation(services.assistant, conversation="thread-1")
    two = Conversation(services.assistant, conversation="thread-2", user_id="U-suzuki")
    assert one.say("確定") and NO_FLOW_TEXT in one.text
    assert two.say("確定") and NO_FLOW_TEXT in two.text
    assert one.say("確定") == [] and two.say("確定") == []


def test_repeated_start_while_running_is_quiet(talk: Conversation) -> None:
    answer_up_to_cost(talk)
    start = talk.say("相談を始める")
    assert "すでに相談が進行中" in talk.text and start
    assert all(talk.say("相談を始める") == [] for _ in range(10))


def test_flow_words_with_no_consultation_are_not_questions(
    talk: Conversation, services: Services
) -> None:
    for word in ("確定", "はい", "いいえ", "戻る", "2", "この内容で確定する"):
        talk.say(word)
    assert question_rows(services) == 0
    talk.say("RFIとは何ですか？")
    assert question_rows(services) == 1


def test_zero_seconds_always_replies(make_services: Callable[..., Services]) -> None:
    talk = Conversation(make_services(repeat_reply_seconds=0).assistant)
    assert all(talk.say("確定") for _ in range(5))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("確定", True),
        ("確定する", True),
        ("この内容で確定する", True),
        ("確定。", True),
        ("提出", True),
        ("はい", True),
        ("いいえ", True),
        ("戻る", True),
        ("やめる", True),
        ("２", True),
        ("12", True),
        ("確定申告とは？", False),
        ("RFIとは何ですか？", False),
        ("300万円以上は協議が必要ですか", False),
        ("2026", False),
        ("", False),
    ],
)
def test_flow_words(text: str, expected: bool) -> None:
    assert is_flow_word(text) is expected
