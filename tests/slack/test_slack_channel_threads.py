"""Channel threads: replies without @soudan reach the core only during a consultation.

``message.channels`` / ``message.groups`` deliver every message of a channel the app
is in; only replies in a thread where the core has a consultation running are turns.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from storage import Database
from tests.slack.fakes import FakeServices, ScriptedAssistant
from tests.slack.harness import SlackHarness, StartApp, slack_settings
from tests.slack.mock_web_api import TEAM_ID, MockSlackApi
from tests.slack.slack_requests import channel_message, event_envelope, mention

ROOT = "1699990000.000001"


@pytest.fixture
def assistant(sqlite_database: Database) -> ScriptedAssistant:
    return ScriptedAssistant(sqlite_database)


@pytest.fixture
async def slack(start_app: StartApp, tmp_path: Path, mock_api: MockSlackApi,
                assistant: ScriptedAssistant) -> SlackHarness:
    harness: SlackHarness = await start_app(
        slack_settings(tmp_path, mock_api), FakeServices(assistant, assistant.database))
    return harness


def _slack_calls(api: MockSlackApi) -> list[str]:
    """Web API calls for the turn (bolt's own ``auth.test`` left out)."""
    return [call.method for call in api.calls if call.method != "auth.test"]


async def _deliver(slack: SlackHarness, *events: dict[str, object]) -> None:
    for event in events:
        status, _ = await slack.sender.event(event_envelope(event))
        assert status == 200
    await slack.app.drain()


@pytest.mark.parametrize(("channel", "channel_type"), [("C100", "channel"), ("G100", "group")])
async def test_a_typed_answer_in_a_thread_with_a_consultation_reaches_the_core(
    slack: SlackHarness, mock_api: MockSlackApi, assistant: ScriptedAssistant,
    channel: str, channel_type: str,
) -> None:
    assistant.active_flows.add(f"slack:{TEAM_ID}:{channel}:{ROOT}")
    reply = channel_message("500万円", channel=channel, thread_ts=ROOT,
                            channel_type=channel_type)

    await _deliver(slack, reply)

    [inbound] = assistant.seen
    assert (inbound.conversation, inbound.text) == (f"{channel}:{ROOT}", "500万円")
    [post] = mock_api.posts()
    assert (post.args["channel"], post.args["thread_ts"]) == (channel, ROOT)
    assert mock_api.of("reactions.add")[0].args["timestamp"] == reply["ts"]


async def test_a_thread_without_a_consultation_is_left_alone(
    slack: SlackHarness, mock_api: MockSlackApi, assistant: ScriptedAssistant
) -> None:
    # A consultation runs in another thread of the same channel, and in another workspace.
    assistant.active_flows |= {f"slack:{TEAM_ID}:C100:1699990000.999999",
                               f"slack:T9999:C100:{ROOT}"}

    await _deliver(slack, channel_message("なるほど、ありがとう", thread_ts=ROOT))

    assert assistant.flow_checks == [f"C100:{ROOT}"]
    assert assistant.seen == []
    assert _slack_calls(mock_api) == []  # no reaction, no lookup, no post


async def test_top_level_channel_messages_are_never_turns(
    slack: SlackHarness, mock_api: MockSlackApi, assistant: ScriptedAssistant
) -> None:
    top = channel_message("RFI とは？", ts=ROOT)
    assistant.active_flows.add(f"slack:{TEAM_ID}:C100:{ROOT}")
    thread_root = {**channel_message("RFI とは？", ts=ROOT), "thread_ts": ROOT}

    await _deliver(slack, top, thread_root)

    assert assistant.flow_checks == []
    assert assistant.seen == []
    assert _slack_calls(mock_api) == []


async def test_bot_posts_edits_and_joins_in_a_consultation_thread_are_ignored(
    slack: SlackHarness, mock_api: MockSlackApi, assistant: ScriptedAssistant
) -> None:
    assistant.active_flows.add(f"slack:{TEAM_ID}:C100:{ROOT}")
    bot_post = {**channel_message("回答です", thread_ts=ROOT), "bot_id": "BBOT"}
    edited = {**channel_message("500万円", thread_ts=ROOT), "subtype": "message_changed"}
    joined = {**channel_message("参加しました", thread_ts=ROOT), "subtype": "channel_join"}

    await _deliver(slack, bot_post, edited, joined)

    assert assistant.seen == []
    assert _slack_calls(mock_api) == []


async def test_a_reply_that_mentions_the_app_is_one_turn_not_two(
    slack: SlackHarness, mock_api: MockSlackApi, assistant: ScriptedAssistant
) -> None:
    # Slack sends both app_mention and message.channels for the same message.
    assistant.active_flows.add(f"slack:{TEAM_ID}:C100:{ROOT}")
    mentioned = mention("500万円", thread_ts=ROOT, ts="1699990000.000002")
    as_message = channel_message(mentioned["text"], thread_ts=ROOT, ts=mentioned["ts"])

    await _deliver(slack, mentioned, as_message)

    [inbound] = assistant.seen
    assert inbound.text == "500万円"
    assert len(mock_api.posts()) == 1


async def test_a_failing_active_flow_check_answers_nobody(
    slack: SlackHarness, mock_api: MockSlackApi, assistant: ScriptedAssistant,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(
        *, channel: str, tenant: str, conversation: str, user_id: str | None = None
    ) -> bool:
        raise RuntimeError("database is down")

    assistant.has_active_flow = broken  # type: ignore[method-assign]

    await _deliver(slack, channel_message("500万円 個人情報", thread_ts=ROOT))

    assert assistant.seen == []
    assert _slack_calls(mock_api) == []
    assert "RuntimeError" in caplog.text and "個人情報" not in caplog.text


async def test_a_bystander_chatting_in_a_consultation_thread_is_not_answered(
    slack: SlackHarness, mock_api: MockSlackApi, assistant: ScriptedAssistant
) -> None:
    assistant.active_flows.add(f"slack:{TEAM_ID}:C100:{ROOT}:U100")  # U100's consultation

    await _deliver(slack, channel_message("お昼どうする？", user="U200", thread_ts=ROOT))
    assert assistant.seen == []
    assert _slack_calls(mock_api) == []

    await _deliver(slack, channel_message("500万円", user="U100", thread_ts=ROOT))
    [inbound] = assistant.seen
    assert (inbound.user_id, inbound.text) == ("U100", "500万円")
