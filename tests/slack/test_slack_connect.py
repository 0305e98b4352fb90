"""Slack Connect: a user of another workspace in a shared channel sees no 相談シート.

The real bolt app over signed HTTP, the mock Web API, the real core and review desk.
The events carry what Slack sends for a shared channel: ``is_ext_shared_channel`` on
the envelope, the user's own workspace in ``event.user_team`` / ``event.team`` and,
for a click, in ``user.team_id``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import storage
from bot.core.messages import Action, Choice, Choices
from bot.settings import Settings
from bot.slack.blocks import render_messages
from bot.wiring import Services
from tests.slack.harness import SlackHarness, StartApp, shown_messages, slack_settings
from tests.slack.mock_web_api import TEAM_ID, MockSlackApi
from tests.slack.slack_requests import block_action, event_envelope, mention

pytestmark = pytest.mark.slow

BuildServices = Callable[[Settings], Services]
GUEST_TEAM = "T0GUEST9"
SHARED = "C0SHARED"
BUSINESS = "課税台帳の照会（個人番号を含む）"


def _seed(services: Services) -> str:
    """A 税務課 sheet, and profiles saying the guest and a colleague are 税務課 staff."""
    with services.database.session() as session:
        for user in ("UGUEST", "U100"):
            storage.assign_department(session=session, channel="slack", tenant=TEAM_ID,
                                      user_id=user, department="税務課",
                                      confirmed_by="cli:local:operator")
        sheet = storage.create_sheet(
            session=session,
            sheet_in=storage.ConsultationSheetCreate(
                channel="slack", tenant=TEAM_ID, conversation="D200:1.0", requester_id="U200",
                department="税務課", flow_id="ict_adoption", business=BUSINESS,
            ),
        )
        return sheet.id


async def _say(slack: SlackHarness, text: str, *, user: str, team: str) -> dict[str, Any]:
    event = mention(text, user=user, channel=SHARED)
    event.update(team=team, user_team=team, source_team=team)
    envelope = event_envelope(event)
    envelope["is_ext_shared_channel"] = True
    status, _ = await slack.sender.event(envelope)
    assert status == 200
    await slack.app.drain()
    return event


def _replies(mock_api: MockSlackApi, root: str) -> str:
    return "\n".join(m.body() for m in shown_messages(mock_api)
                     if m.channel == SHARED and root in (m.thread_ts, m.ts))


async def _click_open(slack: SlackHarness, sheet_id: str, *, user: str, team: str) -> None:
    [message] = render_messages([Choices("", (Choice("開く", Action("review.open", sheet_id)),))])
    shown = {"type": "message", "user": "UBOT", "ts": "1700000500.000100",
             "text": message.text, "blocks": message.blocks}
    action_id = next(e["action_id"] for b in message.blocks if b["type"] == "actions"
                     for e in b["elements"])
    payload = block_action(shown, channel=SHARED, action_id=action_id, user=user)
    payload["user"]["team_id"] = team
    payload["channel"]["name"] = "shared"
    status, _ = await slack.sender.interaction(payload)
    assert status == 200
    await slack.app.drain()


async def test_a_user_from_another_workspace_sees_no_sheets_but_may_ask(
    start_app: StartApp, tmp_path: Path, mock_api: MockSlackApi,
    build_real_services: BuildServices,
) -> None:
    services = build_real_services(slack_settings(tmp_path, mock_api))
    slack = await start_app(services.settings, services)
    sheet_id = _seed(services)

    review = await _say(slack, "レビュー", user="UGUEST", team=GUEST_TEAM)
    text = _replies(mock_api, review["ts"])
    assert "組織の外" in text and BUSINESS not in text and "所属部署を登録" not in text

    start = await _say(slack, "相談を始める", user="UGUEST", team=GUEST_TEAM)
    assert "組織の外" in _replies(mock_api, start["ts"])

    await _click_open(slack, sheet_id, user="UGUEST", team=GUEST_TEAM)
    clicked = _replies(mock_api, "1700000500.000100")
    assert "組織の外" in clicked and BUSINESS not in clicked

    question = await _say(slack, "RFI とは何ですか？", user="UGUEST", team=GUEST_TEAM)
    answer = _replies(mock_api, question["ts"])
    assert "組織の外" not in answer and "RFI" in answer

    # A colleague of the installation's own workspace, in the same shared channel.
    inside = await _say(slack, "レビュー", user="U100", team=TEAM_ID)
    assert BUSINESS in _replies(mock_api, inside["ts"])

    with services.database.session() as session:
        sheets = storage.list_sheets(session=session, tenant=TEAM_ID)
        guest_rows = storage.list_audit(session=session, actor=f"slack:{TEAM_ID}:UGUEST")
    assert [s.id for s in sheets] == [sheet_id]  # 相談を始める made no sheet
    assert [(r.action, r.result, r.detail.get("outside_from")) for r in guest_rows] == [
        ("review.list", storage.AuditResult.DENIED, GUEST_TEAM),
        ("review.consult", storage.AuditResult.DENIED, GUEST_TEAM),
        ("review.view", storage.AuditResult.DENIED, GUEST_TEAM),
    ]


async def test_a_workspace_listed_in_the_settings_counts_as_inside(
    start_app: StartApp, tmp_path: Path, mock_api: MockSlackApi,
    build_real_services: BuildServices,
) -> None:
    settings = slack_settings(tmp_path, mock_api, slack_allowed_teams=f"TOTHER, {GUEST_TEAM}")
    assert settings.slack_allowed_teams == ["TOTHER", GUEST_TEAM]
    services = build_real_services(settings)
    slack = await start_app(services.settings, services)
    _seed(services)

    review = await _say(slack, "レビュー", user="UGUEST", team=GUEST_TEAM)
    text = _replies(mock_api, review["ts"])
    assert "組織の外" not in text and BUSINESS in text
