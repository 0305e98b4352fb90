"""deploy/slack-manifest.yaml asks for exactly what the app uses."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.slack.app import CONSULT_SHORTCUT_ID, SLASH_COMMAND
from bot.slack.transport import EVENTS_PATH

MANIFEST = Path(__file__).resolve().parents[2] / "deploy" / "slack-manifest.yaml"


def test_manifest_matches_the_app() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    features, settings = manifest["features"], manifest["settings"]

    [command] = features["slash_commands"]
    assert command["command"] == SLASH_COMMAND
    [shortcut] = features["shortcuts"]
    assert (shortcut["type"], shortcut["callback_id"]) == ("message", CONSULT_SHORTCUT_ID)
    assert features["app_home"]["home_tab_enabled"] is True
    assert set(settings["event_subscriptions"]["bot_events"]) == {
        "app_home_opened", "app_mention", "message.channels", "message.groups", "message.im"}
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == {
        "app_mentions:read", "channels:history", "chat:write", "commands", "files:read",
        "groups:history",
        "im:history", "im:write", "reactions:write", "users:read"}
    assert "user" not in manifest["oauth_config"]["scopes"]
    for url in (command["url"], settings["event_subscriptions"]["request_url"],
                settings["interactivity"]["request_url"]):
        assert url.endswith(EVENTS_PATH)
