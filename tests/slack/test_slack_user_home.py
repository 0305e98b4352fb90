"""Which Slack payloads report a user from another workspace (Slack Connect)."""

from __future__ import annotations

from bot.core.messages import Action, Choice, Choices
from bot.slack.blocks import render_messages
from bot.slack.payloads import turn_from_click, turn_from_mention, turn_from_message, user_home
from tests.slack.mock_web_api import TEAM_ID
from tests.slack.slack_requests import block_action, dm, event_envelope, mention


def test_user_home_is_reported_only_outside_the_installation() -> None:
    shared = {"team_id": "T1", "is_ext_shared_channel": True,
              "authorizations": [{"team_id": "T1", "enterprise_id": "E1"}]}
    assert user_home(shared, "T9", tenant="T1") == "T9"
    assert user_home(shared, "E9", tenant="T1") == "E9"
    assert user_home(shared, "T1", tenant="T1") is None
    assert user_home(shared, "E1", tenant="E1") is None  # an org-wide installation
    assert user_home(shared, None, tenant="T1") is None
    assert user_home({**shared, "is_ext_shared_channel": False}, "T9", tenant="T1") is None


def test_events_and_clicks_carry_the_users_team() -> None:
    event = mention("レビュー", user="UG", channel="C1")
    event.update(team="T9", user_team="T9")
    envelope = {**event_envelope(event), "is_ext_shared_channel": True}
    turn = turn_from_mention(envelope, tenant=TEAM_ID, bot_user_id="UBOT")
    assert turn is not None and turn.home == "T9"
    assert turn.inbound(turn.thread, None).home_tenant == "T9"

    own = turn_from_message(event_envelope(dm("RFI とは？")), tenant=TEAM_ID)
    assert own is not None and own.home is None

    [rendered] = render_messages([Choices("", (Choice("開く", Action("review.open", "S1")),))])
    message = {"type": "message", "user": "UBOT", "ts": "1.0", "text": rendered.text,
               "blocks": rendered.blocks}
    button = next(e["action_id"] for b in rendered.blocks if b["type"] == "actions"
                  for e in b["elements"])
    payload = block_action(message, channel="C1", action_id=button, user="UG")
    payload["user"]["team_id"] = "T9"
    assert turn_from_click(payload, tenant=TEAM_ID).home == "T9"
    payload["user"]["team_id"] = TEAM_ID
    assert turn_from_click(payload, tenant=TEAM_ID).home is None
