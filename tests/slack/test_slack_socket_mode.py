"""Socket Mode: the real bolt handler connects to a local WebSocket speaking Slack's
envelope protocol (hello, envelopes, acks by ``envelope_id``)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.slack import SlackApp, build_slack_app, mount_slack, start_socket_mode
from storage import Database
from tests.slack.fakes import FakeServices, ScriptedAssistant
from tests.slack.harness import slack_settings
from tests.slack.mock_web_api import MockSlackApi
from tests.slack.slack_requests import dm, event_envelope, slash_command


@pytest.fixture
def assistant(sqlite_database: Database) -> ScriptedAssistant:
    return ScriptedAssistant(sqlite_database)


@pytest.fixture
async def socket_app(tmp_path: Path, mock_api: MockSlackApi,
                     assistant: ScriptedAssistant) -> AsyncIterator[SlackApp]:
    settings = slack_settings(tmp_path, mock_api, slack_app_token="xapp-test-app-token",
                              slack_signing_secret=None)
    app = build_slack_app(settings, FakeServices(assistant, assistant.database))
    serving = asyncio.create_task(start_socket_mode(app, settings))
    await mock_api.wait_for(lambda api: api.connected == 1)
    yield app
    serving.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await serving
    await mock_api.wait_for(lambda api: api.connected == 0)  # the socket was closed


def _acked(envelope_id: str) -> Any:
    return lambda api: any(m.get("envelope_id") == envelope_id for m in api.socket_received)


async def test_events_arrive_over_the_socket_are_acked_and_answered_once(
    socket_app: SlackApp, mock_api: MockSlackApi, assistant: ScriptedAssistant
) -> None:
    event = dm("RFI とは？")
    payload = event_envelope(event, event_id="Ev-socket")
    for attempt, envelope_id in enumerate(["env-1", "env-2"]):  # Slack's redelivery
        await mock_api.push_envelope({
            "envelope_id": envelope_id, "type": "events_api", "payload": payload,
            "accepts_response_payload": False, "retry_attempt": attempt,
            "retry_reason": "timeout" if attempt else "",
        })
        await mock_api.wait_for(_acked(envelope_id))
    await socket_app.drain()

    [connection] = mock_api.of("apps.connections.open")
    assert connection.token == "xapp-test-app-token"
    assert len(assistant.seen) == 1
    [post] = mock_api.posts()
    assert (post.args["channel"], post.args["thread_ts"]) == ("D100", event["ts"])
    assert post.token == "xoxb-test-token"


async def test_a_slash_command_over_the_socket(
    socket_app: SlackApp, mock_api: MockSlackApi, assistant: ScriptedAssistant
) -> None:
    await mock_api.push_envelope({
        "envelope_id": "env-cmd", "type": "slash_commands",
        "payload": slash_command("質問 RFI とは？"), "accepts_response_payload": True,
    })
    await mock_api.wait_for(_acked("env-cmd"))
    await socket_app.drain()

    [inbound] = assistant.seen
    assert inbound.text == "RFI とは？"
    assert mock_api.of("chat.update")[-1].args["text"].startswith("**回答**")


async def test_http_mode_needs_a_signing_secret(tmp_path: Path, mock_api: MockSlackApi,
                                                assistant: ScriptedAssistant) -> None:
    from aiohttp import web

    settings = slack_settings(tmp_path, mock_api, slack_app_token="xapp-test-app-token",
                              slack_signing_secret=None)
    app = build_slack_app(settings, FakeServices(assistant, assistant.database))

    with pytest.raises(ValueError, match="SLACK_SIGNING_SECRET"):
        mount_slack(web.Application(), app)
