"""The Slack adapter over the durable inbox: stored before the ack, answered after a crash."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

import storage
from bot.core.inbox import Envelope
from bot.slack.payloads import turn_from_command, turn_from_message
from bot.slack.turns import PLACEHOLDER_TEXT
from storage import Database, InboxStatus
from tests.slack.fakes import FakeServices, ScriptedAssistant
from tests.slack.harness import SlackHarness, StartApp, slack_settings
from tests.slack.mock_web_api import TEAM_ID, MockSlackApi
from tests.slack.slack_requests import dm, event_envelope, slash_command

LEASE = 0.2


@pytest.fixture
def assistant(sqlite_database: Database) -> ScriptedAssistant:
    return ScriptedAssistant(sqlite_database)


@pytest.fixture
async def slack(start_app: StartApp, tmp_path: Path, mock_api: MockSlackApi,
                assistant: ScriptedAssistant) -> SlackHarness:
    settings = slack_settings(tmp_path, mock_api, inbox_lease_seconds=LEASE,
                              inbox_poll_seconds=0.1)
    harness: SlackHarness = await start_app(settings, FakeServices(assistant, assistant.database))
    return harness


def _events(database: Database) -> list[storage.InboxEvent]:
    with database.session() as session:
        return storage.list_inbox_events(session=session, channel="slack")


async def _left_by_a_dead_process(slack: SlackHarness, envelope: Envelope) -> None:
    """Stored and claimed by a process that died before it answered.

    This process's worker is stopped first, so that it cannot take the event before
    the dead one claims it; the test's ``drain`` then plays the worker.
    """
    await slack.app.inbox.stop()
    assert slack.app.inbox.store(envelope)
    with slack.app.inbox.database.session() as session:
        storage.claim_inbox_events(session=session, owner="dead-process",
                                   lease=timedelta(seconds=LEASE), channels=["slack"])


async def test_a_message_is_stored_before_slack_hears_200_and_closed_once_answered(
    slack: SlackHarness, mock_api: MockSlackApi, assistant: ScriptedAssistant
) -> None:
    envelope = event_envelope(dm("RFI とは？", ts="1699999999.000001"), event_id="Ev-stored")

    status, _ = await slack.sender.event(envelope)
    stored = _events(assistant.database)  # right after the 200, before any answer
    await slack.app.drain()

    assert status == 200
    assert [(e.delivery_id, e.conversation) for e in stored] == [
        ("Ev-stored", "D100:1699999999.000001")]
    [event] = _events(assistant.database)
    assert (event.status, event.payload, event.reply) == (InboxStatus.DONE, None, None)
    assert len(mock_api.posts()) == 1


async def test_a_turn_that_cannot_be_stored_gets_500_so_that_slack_delivers_it_again(
    slack: SlackHarness, mock_api: MockSlackApi, assistant: ScriptedAssistant
) -> None:
    with assistant.database.engine.begin() as connection:
        connection.execute(sa.text("ALTER TABLE inbox_event RENAME TO inbox_event_away"))

    status, _ = await slack.sender.event(event_envelope(dm("RFI とは？")))
    await slack.app.drain()

    assert status == 500
    assert assistant.seen == []
    assert mock_api.posts() == []


async def test_a_message_left_by_a_crashed_process_is_answered_in_its_thread_and_unmarked(
    slack: SlackHarness, mock_api: MockSlackApi, assistant: ScriptedAssistant
) -> None:
    event = dm("RFI とは？", ts="1699999999.000002")
    turn = turn_from_message(event_envelope(event, event_id="Ev-left"), tenant=TEAM_ID)
    assert turn is not None
    inbound, delivery = turn.stored()
    await _left_by_a_dead_process(slack, Envelope(inbound, delivery, conversation=turn.lane))
    mock_api.reactions.add(("D100", event["ts"], "eyes"))  # the 👀 it had put on
    await asyncio.sleep(LEASE + 0.1)

    await slack.app.drain()

    [seen] = assistant.seen
    assert (seen.conversation, seen.text) == ("D100:1699999999.000002", "RFI とは？")
    [post] = mock_api.posts()
    assert post.args["thread_ts"] == event["ts"]
    assert mock_api.reactions == set()
    [stored] = _events(assistant.database)
    assert (stored.status, stored.attempts) == (InboxStatus.DONE, 2)


async def test_a_command_taken_over_after_its_placeholder_answers_in_that_placeholder(
    slack: SlackHarness, mock_api: MockSlackApi, assistant: ScriptedAssistant
) -> None:
    turn = turn_from_command(slash_command("相談", channel="C100"), tenant=TEAM_ID)
    inbound, delivery = turn.stored()
    # The dead process had posted its placeholder (ts P1) and remembered it.
    delivery |= {"thread": ["C100", "1700000000.999999"], "placeholder": "1700000000.999999"}
    await _left_by_a_dead_process(slack, Envelope(inbound, delivery, conversation=turn.lane))
    await asyncio.sleep(LEASE + 0.1)

    await slack.app.drain()

    assert not any(p.args.get("text") == PLACEHOLDER_TEXT for p in mock_api.posts())
    [update] = mock_api.of("chat.update")
    assert (update.args["channel"], update.args["ts"]) == ("C100", "1700000000.999999")
    [seen] = assistant.seen
    assert seen.conversation == "C100:1700000000.999999"


async def test_a_turn_applied_before_the_crash_is_answered_from_its_stored_reply(
    slack: SlackHarness, mock_api: MockSlackApi, assistant: ScriptedAssistant
) -> None:
    event = dm("RFI とは？", ts="1699999999.000003")
    turn = turn_from_message(event_envelope(event, event_id="Ev-applied"), tenant=TEAM_ID)
    assert turn is not None
    inbound, delivery = turn.stored()
    await _left_by_a_dead_process(slack, Envelope(inbound, delivery, conversation=turn.lane))
    [left] = _events(assistant.database)
    assert left.id is not None
    with assistant.database.session() as session:  # applied, then the process died
        assert storage.apply_inbox_event(session=session, event_id=left.id,
                                         owner="dead-process")
        storage.record_inbox_reply(session=session, event_id=left.id,
                                   reply=[{"part": "Text", "data": {"text": "保存された回答"}}])
    mock_api.reactions.add(("D100", event["ts"], "eyes"))
    await asyncio.sleep(LEASE + 0.1)

    await slack.app.drain()

    assert assistant.seen == []  # not applied again
    [post] = mock_api.posts()
    assert (post.args["text"], post.args["thread_ts"]) == ("保存された回答", event["ts"])
    assert mock_api.reactions == set()
