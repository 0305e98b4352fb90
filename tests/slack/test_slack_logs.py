"""No user text in any log: a marker posted through every Slack failure path never shows up.

Every logger is at DEBUG (see ``tests.log_capture``); the app is the real bolt app
over real HTTP on 127.0.0.1 with the mock Web API.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest

from storage import Database
from tests.log_capture import MARKER, CapturedLogs, all_logs  # noqa: F401  (fixture)
from tests.slack.fakes import FakeServices, ScriptedAssistant
from tests.slack.harness import SlackHarness, StartApp, slack_settings
from tests.slack.mock_web_api import MockSlackApi
from tests.slack.slack_requests import (
    block_action,
    dm,
    event_envelope,
    signature,
    slash_command,
)


@pytest.fixture
def assistant(sqlite_database: Database) -> ScriptedAssistant:
    return ScriptedAssistant(sqlite_database)


@pytest.fixture
async def slack(all_logs: CapturedLogs, start_app: StartApp, tmp_path: Path,  # noqa: F811
                mock_api: MockSlackApi, assistant: ScriptedAssistant) -> SlackHarness:
    services = FakeServices(assistant, assistant.database)
    harness: SlackHarness = await start_app(slack_settings(tmp_path, mock_api), services)
    return harness


def _marked_event() -> str:
    return json.dumps(event_envelope(dm(f"RFI とは？ {MARKER}")), ensure_ascii=False)


async def _post_raw(slack: SlackHarness, body: str, headers: dict[str, str]) -> int:
    sender = slack.sender
    async with sender.session.post(sender.url, data=body.encode(), headers=headers) as response:
        await response.read()
        return response.status


def _signed(body: str, timestamp: str, *, secret: str | None = None) -> dict[str, str]:
    return {"Content-Type": "application/json", "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": signature(secret or "", timestamp, body)}


REJECTED = {
    # case: expected status
    "wrong secret": 401,
    "stale timestamp": 401,
    "timestamp in the future": 401,
    "non-numeric timestamp": 401,
    "empty timestamp": 401,
    "no timestamp": 401,
    "no signature": 401,
    "form body with a wrong secret": 401,
    "malformed JSON with a wrong secret": 401,
    "malformed JSON with a valid signature": 400,
}


@pytest.mark.parametrize("case", list(REJECTED))
async def test_a_rejected_request_gets_its_status_and_logs_no_user_text(
    case: str, slack: SlackHarness, mock_api: MockSlackApi, assistant: ScriptedAssistant,
    all_logs: CapturedLogs,  # noqa: F811
) -> None:
    secret = slack.sender.secret
    now = str(int(time.time()))
    body = _marked_event()
    malformed = '{"type": "event_callback", "event": {"text": "' + MARKER + '"'
    if case == "wrong secret":
        headers = _signed(body, now, secret="not-the-secret")
    elif case == "stale timestamp":
        headers = _signed(body, str(int(time.time()) - 600), secret=secret)
    elif case == "timestamp in the future":
        headers = _signed(body, str(int(time.time()) + 600), secret=secret)
    elif case == "non-numeric timestamp":
        headers = _signed(body, f"now-{MARKER}", secret=secret)
    elif case == "empty timestamp":
        headers = _signed(body, "", secret=secret)
    elif case == "no timestamp":
        headers = _signed(body, now, secret=secret)
        del headers["X-Slack-Request-Timestamp"]
    elif case == "no signature":
        headers = {"Content-Type": "application/json", "X-Slack-Request-Timestamp": now}
    elif case == "form body with a wrong secret":
        body = urlencode(slash_command(f"相談 {MARKER}"))
        headers = _signed(body, now, secret="not-the-secret")
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif case == "malformed JSON with a wrong secret":
        body = malformed
        headers = _signed(body, now, secret="not-the-secret")
    else:
        body = malformed
        headers = _signed(body, now, secret=secret)

    status = await _post_raw(slack, body, headers)
    await slack.app.drain()

    assert status == REJECTED[case]
    assert assistant.seen == []
    assert mock_api.calls == []
    assert all_logs.leaks() == []


async def test_a_core_failure_logs_no_user_text(
    slack: SlackHarness, mock_api: MockSlackApi, assistant: ScriptedAssistant,
    all_logs: CapturedLogs,  # noqa: F811
) -> None:
    assistant.fail_with = RuntimeError(f"could not save {MARKER}")

    status, _ = await slack.sender.event(event_envelope(dm(f"RFI とは？ {MARKER}")))
    await slack.app.drain()

    assert status == 200
    [post] = mock_api.posts()
    assert "エラーが発生しました" in post.args["text"]
    assert "RuntimeError" in all_logs.caplog.text  # the failure is logged, its message is not
    assert all_logs.leaks() == []


async def test_a_normal_turn_and_a_click_log_no_user_text(
    slack: SlackHarness, mock_api: MockSlackApi, assistant: ScriptedAssistant,
    all_logs: CapturedLogs,  # noqa: F811
) -> None:
    event = dm(f"RFI とは？ {MARKER}")
    status, _ = await slack.sender.event(event_envelope(event))
    await slack.app.drain()
    [answer] = mock_api.posts()
    assert MARKER in json.dumps(answer.args["blocks"], ensure_ascii=False)  # the bot quoted it
    [button] = [e for b in answer.args["blocks"] if b["type"] == "actions"
                for e in b["elements"] if e["text"]["text"] == "はい"]
    payload = block_action({**answer.args, "ts": answer.result["ts"], "text": MARKER},
                           channel="D100", action_id=button["action_id"])
    click_status, _ = await slack.sender.interaction(payload)
    await slack.app.drain()

    assert (status, click_status) == (200, 200)
    assert len(assistant.seen) == 2
    assert all_logs.leaks() == []
