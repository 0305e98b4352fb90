"""Message length cap: longer input is cut before it is answered or stored, and the user
is told in Japanese (before: a 100,015-character message was stored whole)."""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel import select

import storage
from bot.core.messages import Text
from bot.wiring import Services
from tests.core.conversation import Conversation


def _messages(services: Services) -> list[storage.Message]:
    with services.database.session() as session:
        return list(session.exec(select(storage.Message)).all())


def test_a_long_question_is_cut_and_the_user_is_told(
    make_services: Callable[..., Services],
) -> None:
    services = make_services(message_max_chars=4000)
    talk = Conversation(services.assistant)
    parts = talk.say("RFIとは何ですか？" + "あ" * 100_005)
    assert isinstance(parts[-1], Text)
    assert "先頭の 4,000 文字だけを受け付けました" in parts[-1].text
    inbound = [m for m in _messages(services) if m.direction == storage.MessageDirection.INBOUND]
    assert inbound and all(len(m.text) <= 4000 for m in inbound)


def test_a_long_answer_during_a_consultation_is_cut_too(
    make_services: Callable[..., Services],
) -> None:
    services = make_services(message_max_chars=500)
    talk = Conversation(services.assistant)
    talk.say("相談を始める")
    talk.say("市民課")
    talk.say("住民票の窓口交付" + "い" * 3000)
    assert "先頭の 500 文字だけを受け付けました" in talk.text
    assert all(len(m.text) <= 500 for m in _messages(services))
    with services.database.session() as session:
        sheet = storage.list_sheets(session=session)[0]
    assert len(sheet.business or "") <= 500


def test_a_message_within_the_cap_is_untouched(make_services: Callable[..., Services]) -> None:
    services = make_services(message_max_chars=4000)
    talk = Conversation(services.assistant)
    talk.say("RFIとは何ですか？")
    assert "文字だけを受け付けました" not in talk.text
    assert any(m.text == "RFIとは何ですか？" for m in _messages(services))


def test_the_server_loop_prunes_old_messages(make_services: Callable[..., Services]) -> None:
    from datetime import UTC, datetime, timedelta

    services = make_services(message_retention_days=30)
    now = datetime.now(UTC)
    with services.database.session() as session:
        for days in (31, 1):
            storage.record_message(
                session=session, channel="slack", tenant="T1", conversation="C1",
                direction=storage.MessageDirection.INBOUND, text=f"{days} days ago",
                now=now - timedelta(days=days),
            )
    services.run_due_jobs()  # what `soudan serve` runs every minute (first: at start-up)
    assert [m.text for m in _messages(services)] == ["1 days ago"]
