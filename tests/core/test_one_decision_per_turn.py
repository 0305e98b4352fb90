"""One turn, one decision: the core claims, routes and applies a turn in one transaction.

Also the rule for a message that did not address the app (a Slack channel-thread reply
without a mention): it is a turn only for the person running the consultation in its
conversation; anyone else gets nothing, and nothing about them is recorded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event
from sqlmodel import select

import storage
from bot.wiring import Services
from tests.core.conversation import Conversation


@pytest.fixture
def services(make_services: Callable[..., Services]) -> Services:
    return make_services()


@contextmanager
def transactions(services: Services) -> Iterator[list[int]]:
    """Counts the database transactions begun inside the block (every thread)."""
    begun: list[int] = []

    def begin(*_: Any) -> None:
        begun.append(1)

    engine = services.database.engine
    event.listen(engine, "begin", begin)
    try:
        yield begun
    finally:
        event.remove(engine, "begin", begin)


def test_a_question_a_step_and_a_button_are_each_one_transaction(services: Services) -> None:
    asker = Conversation(services.assistant, conversation="dm-question")
    with transactions(services) as question:
        asker.say("RFI とは何ですか？")
    assert "RFI" in asker.text
    talk = Conversation(services.assistant)
    talk.say("相談を始める")
    with transactions(services) as step:
        talk.say("市民課")
    talk.say("窓口予約")
    talk.say("電話が多い")
    with transactions(services) as button:
        talk.click("はい")

    assert (len(question), len(step), len(button)) == (1, 1, 1)


def test_an_unaddressed_reply_is_a_turn_only_for_whoever_runs_the_consultation(
    services: Services,
) -> None:
    runner = Conversation(services.assistant, conversation="C1:1700000000.0001")
    runner.say("相談を始める")
    bystander = Conversation(
        services.assistant,
        conversation=runner.conversation,
        user_id="U-bystander",
        user_name="通りすがり",
    )

    assert bystander.say("お昼どうします？", addressed=False) == []
    assert bystander.say("RFI とは何ですか？", addressed=False) == []
    elsewhere = Conversation(services.assistant, conversation="C1:1700000000.0999")
    assert elsewhere.say("市民課", addressed=False) == []
    with services.database.session() as session:
        texts = [m.text for m in session.exec(select(storage.Message)).all()]
        known = storage.get_user_profile(
            session=session, channel="terminal", tenant=bystander.tenant, user_id="U-bystander"
        )
    assert "お昼どうします？" not in texts and "RFI とは何ですか？" not in texts
    assert known is None  # not even the bystander's name is kept

    assert runner.say("市民課", addressed=False)  # the runner's answer goes on as usual
    with services.database.session() as session:
        texts = [m.text for m in session.exec(select(storage.Message)).all()]
    assert "市民課" in texts
