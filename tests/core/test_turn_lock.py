"""A slow answer does not hold the database: while one conversation's question waits
for its answer (retrieval, an LLM endpoint), other conversations' turns and the inbox
storing the next request before its ack go ahead (SQLite's single write lock)."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from sqlmodel import select

import storage
from bot.core.inbox import Envelope, Inbox
from bot.core.messages import ERROR_TEXT, Inbound, Part
from bot.settings import Settings
from bot.wiring import Services, build_services
from knowledge.types import Answer
from tests.core.conversation import render
from tests.teams.fakes import GuidelineExcerpts

SLOW = "ゆっくり"
WAIT = 3.0
"""How long the test waits for the other turn (SQLite's busy timeout is 5 s)."""


class SlowKnowledge(GuidelineExcerpts):
    """Answers a question containing ``SLOW`` only when the test releases it."""

    def __init__(self) -> None:
        self.composing = threading.Event()
        self.release = threading.Event()
        self.asked: list[str] = []

    def answer(self, question: str, *, history: Sequence[str] = ()) -> Answer:
        self.asked.append(question)
        if SLOW in question:
            self.composing.set()
            self.release.wait(timeout=30)
        return super().answer(question, history=history)


@pytest.fixture
def knowledge() -> SlowKnowledge:
    return SlowKnowledge()


@pytest.fixture
def services(tmp_path: Path, knowledge: SlowKnowledge) -> Iterator[Services]:
    built = build_services(Settings(_env_file=None, data_dir=tmp_path / "data"),
                           knowledge=knowledge)  # type: ignore[arg-type]
    assert built.database.backend == "sqlite"
    yield built
    knowledge.release.set()
    built.database.dispose()


def _inbound(conversation: str, text: str, delivery: str) -> Inbound:
    return Inbound(channel="slack", tenant="T1", conversation=conversation, user_id="U1",
                   user_name="山田", text=text, inbound_id=delivery)


class Running:
    """One call on its own thread, and what it returned."""

    def __init__(self, call: object) -> None:
        self.result: object = None
        self.thread = threading.Thread(target=self._run, args=(call,), daemon=True)
        self.thread.start()

    def _run(self, call: object) -> None:
        self.result = call()  # type: ignore[operator]

    def finished_within(self, seconds: float) -> bool:
        self.thread.join(timeout=seconds)
        return not self.thread.is_alive()


def test_other_turns_and_the_inbox_go_ahead_while_a_question_waits_for_its_answer(
    services: Services, knowledge: SlowKnowledge,
) -> None:
    with services.database.session() as session:  # a returning user: nothing to record first
        storage.upsert_user_profile(session=session, channel="slack", tenant="T1",
                                    user_id="U1", display_name="山田")
    assistant = services.assistant
    slow = Running(lambda: assistant.handle(_inbound("D1:1", f"RFI は{SLOW}必要ですか？", "e1")))
    assert knowledge.composing.wait(timeout=10)

    other = Running(lambda: assistant.handle(_inbound("D2:1", "RFI とは何ですか？", "e2")))
    other_done = other.finished_within(WAIT)
    inbox = Inbox(database=services.database, core=assistant, channel="slack",
                  courier=None)  # type: ignore[arg-type]
    store = Running(lambda: inbox.store(Envelope(_inbound("D3:1", "相談を始める", "e3"))))
    store_done = store.finished_within(WAIT)
    slow_waiting = slow.thread.is_alive()
    knowledge.release.set()
    assert slow.finished_within(10) and other.finished_within(10)

    assert (other_done, store_done, slow_waiting) == (True, True, True)
    other_parts: list[Part] = other.result  # type: ignore[assignment]
    slow_parts: list[Part] = slow.result  # type: ignore[assignment]
    assert "RFI（情報提供招請）" in render(other_parts)
    assert "RFI（情報提供招請）" in render(slow_parts)
    assert store.result is True
    # Each question answered once, and both recorded with their answers.
    assert sorted(knowledge.asked) == sorted([f"RFI は{SLOW}必要ですか？", "RFI とは何ですか？"])
    with services.database.session() as session:
        questions = session.exec(select(storage.Message).where(
            storage.Message.question == True)).all()  # noqa: E712
    assert sorted(q.conversation for q in questions) == ["D1:1", "D2:1"]
    assert ERROR_TEXT not in render(slow_parts) + render(other_parts)
