"""Two replicas take clicks for the same step at once: one applies, none overwrites silently."""

from __future__ import annotations

import threading
from collections.abc import Callable

from sqlmodel import select

import storage
from bot.core.assistant import CONFLICT_TEXT, ERROR_TEXT
from bot.core.messages import Part
from bot.wiring import Services
from tests.core.conversation import Conversation, render


def test_two_replicas_answering_the_same_step_apply_one_answer(
    make_services: Callable[..., Services],
) -> None:
    replica_a = make_services()
    replica_b = make_services()  # a second process on the same database
    talk = Conversation(replica_a.assistant)
    talk.say("相談を始める")
    talk.say("市民課")
    talk.say("窓口予約")
    talk.say("電話が多い")
    yes, no = talk.button("はい"), talk.button("いいえ")

    replies: dict[str, list[Part]] = {}
    start = threading.Barrier(2)

    def press(name: str, services: Services, action: object) -> None:
        other = Conversation(services.assistant)
        start.wait()
        replies[name] = other.send(other.inbound(action=action))

    threads = [
        threading.Thread(target=press, args=("a", replica_a, yes)),
        threading.Thread(target=press, args=("b", replica_b, no)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    with replica_a.database.session() as session:
        flow_session = session.exec(select(storage.FlowSession)).one()
    state = flow_session.state["flow"]
    assert state["history"].count("review_considered") == 1
    applied = state["slots"]["review_considered"]
    loser = "b" if applied is True else "a"
    # The other click was not applied, and its sender was told so: either its turn lost
    # the race (CONFLICT_TEXT) or it ran after the winner and saw a button of a past
    # question. The generic error text is a failure, not an answer.
    told = render(replies[loser])
    assert ERROR_TEXT not in told
    assert CONFLICT_TEXT in told or "前の質問のボタンが押されました" in told
