"""No user text in any log: a marker posted through every Teams failure path never shows up.

Every logger is at DEBUG (see ``tests.log_capture``); the endpoint is the real one
over real HTTP on 127.0.0.1 with the mock Bot Connector.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from bot.teams import TeamsCloudEndpoints
from bot.teams.bot import ERROR_MESSAGE
from tests.log_capture import MARKER, CapturedLogs, all_logs  # noqa: F401  (fixture)
from tests.teams.activities import message
from tests.teams.connector import MockConnector
from tests.teams.fakes import BrokenAssistant, RecordingAssistant
from tests.teams.running_bot import RunningBot, StartBot
from tests.teams.test_teams_authentication import (
    APP_ID,
    LoopbackCredentialsFactory,
    authenticated_settings,
    sign,
)


@pytest.fixture
async def secured(all_logs: CapturedLogs, start_bot: StartBot,  # noqa: F811
                  connector: MockConnector, tmp_path: Path) -> tuple[RunningBot, RecordingAssistant]:
    assistant = RecordingAssistant()
    running = await start_bot(
        assistant,
        settings=authenticated_settings(tmp_path),
        endpoints=TeamsCloudEndpoints(
            channel_openid_metadata_url=connector.openid_metadata_url,
            bot_login_url=f"{connector.url}/botframework.com",
        ),
        credentials_factory=LoopbackCredentialsFactory(APP_ID, "a-real-looking-client-secret"),
    )
    return running, assistant


async def _post_raw(running: RunningBot, body: str, headers: dict[str, str]) -> int:
    async with running.http.post(running.url, data=body.encode(), headers=headers) as response:
        await response.read()
        return response.status


REJECTED = {
    "no token": 401,
    "token signed with another key": 401,
    "not a token": 401,
    "malformed JSON": 400,
    "not an activity": 400,
}


@pytest.mark.parametrize("case", list(REJECTED))
async def test_a_rejected_request_gets_its_status_and_logs_no_user_text(
    case: str, secured: tuple[RunningBot, RecordingAssistant], connector: MockConnector,
    all_logs: CapturedLogs,  # noqa: F811
) -> None:
    running, assistant = secured
    activity = message(connector.service_url, f"予算は450万円 {MARKER}")
    body = json.dumps(activity, ensure_ascii=False)
    headers = {"Content-Type": "application/json"}
    if case == "token signed with another key":
        other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        headers["Authorization"] = f"Bearer {sign(connector, key=other)}"
    elif case == "not a token":
        headers["Authorization"] = f"Bearer {MARKER}"
    elif case == "malformed JSON":
        body = body[:-2]
        headers["Authorization"] = f"Bearer {sign(connector)}"
    elif case == "not an activity":
        body = json.dumps([MARKER], ensure_ascii=False)

    status = await _post_raw(running, body, headers)
    await running.bot.drain()

    assert status == REJECTED[case]
    assert assistant.inbounds == []
    assert connector.calls == []
    assert all_logs.leaks() == []


async def test_a_core_failure_logs_no_user_text(
    all_logs: CapturedLogs, start_bot: StartBot, connector: MockConnector,  # noqa: F811
) -> None:
    running = await start_bot(BrokenAssistant())  # its exception quotes the user's text

    assert await running.post(message(connector.service_url, f"予算は450万円 {MARKER}")) == 200
    [reply] = await connector.replies(1)
    await running.bot.drain()

    assert reply.text == ERROR_MESSAGE
    assert "RuntimeError" in all_logs.caplog.text  # the failure is logged, its message is not
    assert all_logs.leaks() == []


async def test_a_normal_authenticated_turn_logs_no_user_text(
    secured: tuple[RunningBot, RecordingAssistant], connector: MockConnector,
    all_logs: CapturedLogs,  # noqa: F811
) -> None:
    running, assistant = secured
    activity = message(connector.service_url, f"RFI とは？ {MARKER}")

    assert await running.post(activity, token=sign(connector)) == 200
    [reply] = await connector.replies(1)
    await running.bot.drain()

    assert [inbound.text for inbound in assistant.inbounds] == [f"RFI とは？ {MARKER}"]
    assert MARKER in reply.text  # the bot quoted it back
    assert all_logs.leaks() == []
