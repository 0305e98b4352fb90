"""Turns applied as they arrive: the turn and the stored event in one transaction, before
Slack hears 200 — only when the conversation has nothing waiting, and never at the cost
of a message (a failed inline turn is stored for the worker as before)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

import storage
from bot.core.assistant import TurnReceipt
from bot.core.codec import inbound_to_json
from bot.core.messages import Inbound, Part
from bot.settings import Settings
from bot.slack.payloads import turn_from_message
from bot.wiring import Services, build_services
from knowledge import KnowledgeBase
from storage import Database, InboxStatus
from tests.fixtures_db import (  # noqa: F401  (fixtures)
    BACKENDS,
    postgres_database,
    postgres_server,
    postgres_session_url,
)
from tests.slack.fakes import FakeServices, ScriptedAssistant
from tests.slack.harness import SlackHarness, SlackUser, StartApp, slack_settings
from tests.slack.mock_web_api import TEAM_ID, MockSlackApi
from tests.slack.slack_requests import dm, event_envelope

LEASE = 0.3
DEAD_LEASE = 1.5
"""The lease a dead process left on an event: long enough to look before it runs out."""


class FlakyAssistant(ScriptedAssistant):
    """Fails its first ``failures`` turns midway: the inbox row is written in the turn's
    transaction, then the turn raises (the transaction is rolled back)."""

    failures: int = 0

    def handle(self, inbound: Inbound, *, receipt: TurnReceipt | None = None) -> list[Part]:
        if self.failures > 0:
            self.failures -= 1
            with self.database.session() as session:
                if receipt is not None:
                    receipt.claim(session)
                raise RuntimeError("the turn broke after its claim")
        return super().handle(inbound, receipt=receipt)


@pytest.fixture(params=BACKENDS)
def assistant(request: pytest.FixtureRequest) -> FlakyAssistant:
    """Over SQLite and over PostgreSQL."""
    fixture = "sqlite_database" if request.param == "sqlite" else "postgres_database"
    return FlakyAssistant(request.getfixturevalue(fixture))


@pytest.fixture
async def slack(start_app: StartApp, tmp_path: Path, mock_api: MockSlackApi,
                assistant: FlakyAssistant) -> SlackHarness:
    settings = slack_settings(tmp_path, mock_api, inbox_lease_seconds=LEASE,
                              inbox_poll_seconds=0.1)
    assert settings.inline_turns_enabled  # the default without an LLM endpoint
    harness: SlackHarness = await start_app(settings, FakeServices(assistant, assistant.database))
    return harness


def _events(database: Database) -> list[storage.InboxEvent]:
    with database.session() as session:
        return storage.list_inbox_events(session=session, channel="slack")


async def test_a_first_message_is_applied_before_slack_hears_200(
    slack: SlackHarness, mock_api: MockSlackApi, assistant: FlakyAssistant
) -> None:
    envelope = event_envelope(dm("RFI とは？", ts="1699999999.000101"), event_id="Ev-inline")

    status, _ = await slack.sender.event(envelope)
    at_ack = _events(assistant.database)  # right after the 200, before the post
    await slack.app.drain()

    assert status == 200
    [stored] = at_ack
    assert (stored.delivery_id, stored.conversation, stored.attempts) == (
        "Ev-inline", "D100:1699999999.000101", 1)
    assert stored.status in (InboxStatus.APPLIED, InboxStatus.DONE)  # the post may be done
    assert [seen.text for seen in assistant.seen] == ["RFI とは？"]
    [post] = mock_api.posts()
    assert post.args["text"].startswith("**回答**：RFI とは？") and post.args["thread_ts"] == "1699999999.000101"
    [event] = _events(assistant.database)
    assert (event.status, event.payload, event.reply) == (InboxStatus.DONE, None, None)
    assert mock_api.reactions == set()


async def test_a_conversation_with_an_event_waiting_is_stored_and_answered_in_order(
    slack: SlackHarness, mock_api: MockSlackApi, assistant: FlakyAssistant
) -> None:
    root = "1699999999.000201"
    first = turn_from_message(event_envelope(dm("一つ目", ts=root), event_id="Ev-1"),
                              tenant=TEAM_ID)
    assert first is not None
    inbound, delivery = first.stored()
    # Stored and claimed by a process that died before it answered (in one transaction,
    # so that this process's worker cannot take it first): its lease runs out later.
    with assistant.database.session() as session:
        assert storage.accept_inbox_event(
            session=session, channel="slack", tenant=TEAM_ID, conversation=first.lane,
            delivery_id="Ev-1", payload={"inbound": inbound_to_json(inbound),
                                         "delivery": delivery})
        storage.claim_inbox_events(session=session, owner="dead-process",
                                   lease=timedelta(seconds=DEAD_LEASE), channels=["slack"])

    reply = dm("二つ目", ts="1699999999.000202", thread_ts=root)
    status, _ = await slack.sender.event(event_envelope(reply, event_id="Ev-2"))
    at_ack = {e.delivery_id: e.status for e in _events(assistant.database)}
    assert status == 200
    assert at_ack == {"Ev-1": InboxStatus.PROCESSING, "Ev-2": InboxStatus.PENDING}
    assert assistant.seen == []  # not applied before the one waiting

    await asyncio.sleep(DEAD_LEASE + 0.1)
    # The worker takes the second event only after the first is finished (a claim pass
    # of its own, which one drain can return before): wait for it, within 5 s.
    for _ in range(100):
        await slack.app.drain()
        if len(assistant.seen) >= 2:
            break
        await asyncio.sleep(0.05)

    assert [seen.text for seen in assistant.seen] == ["一つ目", "二つ目"]
    assert [p.args["text"].splitlines()[0] for p in mock_api.posts()] == [
        "**回答**：一つ目", "**回答**：二つ目"]
    assert {e.status for e in _events(assistant.database)} == {InboxStatus.DONE}


async def test_a_turn_that_breaks_inline_is_stored_and_applied_by_the_worker(
    slack: SlackHarness, mock_api: MockSlackApi, assistant: FlakyAssistant
) -> None:
    assistant.failures = 1
    envelope = event_envelope(dm("RFI とは？", ts="1699999999.000301"), event_id="Ev-broken")

    status, _ = await slack.sender.event(envelope)
    await slack.app.drain()

    assert status == 200 and assistant.failures == 0
    assert [seen.text for seen in assistant.seen] == ["RFI とは？"]  # applied once, later
    [post] = mock_api.posts()
    assert post.args["text"].startswith("**回答**：RFI とは？")
    [event] = _events(assistant.database)
    assert (event.delivery_id, event.status, event.attempts) == (
        "Ev-broken", InboxStatus.DONE, 1)  # stored, then claimed once by the worker


async def test_a_duplicate_delivery_is_applied_and_answered_once(
    slack: SlackHarness, mock_api: MockSlackApi, assistant: FlakyAssistant
) -> None:
    envelope = event_envelope(dm("RFI とは？", ts="1699999999.000401"), event_id="Ev-twice")

    # Slack's retry while the first is still being answered, then a late one.
    together = await asyncio.gather(slack.sender.event(envelope), slack.sender.event(envelope))
    late = await slack.sender.event(envelope, retry_num=2)
    await slack.app.drain()

    assert [status for status, _ in [*together, late]] == [200, 200, 200]
    assert [seen.text for seen in assistant.seen] == ["RFI とは？"]
    assert len(mock_api.posts()) == 1
    [event] = _events(assistant.database)
    assert (event.delivery_id, event.status) == ("Ev-twice", InboxStatus.DONE)


async def test_with_inline_turns_off_the_event_is_stored_first(
    start_app: StartApp, tmp_path: Path, mock_api: MockSlackApi, assistant: FlakyAssistant
) -> None:
    settings = slack_settings(tmp_path, mock_api, inline_turns=False)
    slack = await start_app(settings, FakeServices(assistant, assistant.database))

    status, _ = await slack.sender.event(event_envelope(dm("RFI とは？"), event_id="Ev-off"))
    [stored] = _events(assistant.database)
    await slack.app.drain()

    assert (status, stored.status) == (200, InboxStatus.PENDING)
    assert len(mock_api.posts()) == 1


# --- the real core ------------------------------------------------------------------------


class FlakyKnowledge:
    """The real knowledge base, whose first answer fails."""

    def __init__(self, knowledge: KnowledgeBase) -> None:
        self._knowledge = knowledge
        self.failures = 1

    def answer(self, question: str, *, history: Sequence[str] = ()) -> Any:
        if self.failures > 0:
            self.failures -= 1
            raise RuntimeError("retrieval broke")
        return self._knowledge.answer(question, history=history)

    def search(self, question: str, *, top_k: int = 5) -> list[Any]:
        return self._knowledge.search(question, top_k=top_k)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._knowledge, name)


@pytest.fixture
def real_services(
    tmp_path: Path, mock_api: MockSlackApi, knowledge_base: KnowledgeBase
) -> Any:
    settings = slack_settings(tmp_path, mock_api, inbox_poll_seconds=0.1)
    knowledge = FlakyKnowledge(knowledge_base)
    services = build_services(settings, knowledge=knowledge)  # type: ignore[arg-type]
    yield settings, services, knowledge
    services.database.dispose()


async def test_the_real_core_answers_inline_and_a_failed_answer_falls_back_to_the_worker(
    start_app: StartApp, mock_api: MockSlackApi,
    real_services: tuple[Settings, Services, FlakyKnowledge],
) -> None:
    settings, services, knowledge = real_services
    slack = await start_app(settings, services)
    user = SlackUser(slack, mock_api)

    # The first answer fails inside the inline turn: rolled back, stored, answered later.
    [first] = await user.say("RFI とは何ですか？")
    # The next question in the same thread has nothing waiting: applied inline.
    status, _ = await slack.sender.event(event_envelope(
        dm("協議は必要ですか？", ts="1699999999.000502", thread_ts=user.root),
        event_id="Ev-real-2"))
    with services.database.session() as session:
        at_ack = {e.delivery_id: e.status for e in storage.list_inbox_events(session=session)}
    await slack.app.drain()

    assert knowledge.failures == 0
    assert "エラー" not in first.body() and "RFI" in first.body()
    assert status == 200 and at_ack["Ev-real-2"] in (InboxStatus.APPLIED, InboxStatus.DONE)
    second = user.thread()[-1]
    assert "協議" in second.body()
    with services.database.session() as session:
        events = storage.list_inbox_events(session=session)
        questions = [m.text for m in storage.list_messages(
            session=session, channel="slack", tenant=TEAM_ID,
            conversation=f"D100:{user.root}") if m.direction == storage.MessageDirection.INBOUND]
    assert [(e.status, e.attempts) for e in events] == [(InboxStatus.DONE, 1)] * 2
    assert questions == ["RFI とは何ですか？", "協議は必要ですか？"]  # each applied once
