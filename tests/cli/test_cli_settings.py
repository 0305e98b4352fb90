"""The command line refuses bad settings with a Japanese message, before doing anything."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from bot.cli.main import app


@pytest.mark.parametrize(
    ("variable", "value", "field"),
    [("SLACK_BOT_TOKEN", "changeme", "slack_bot_token"), ("SOUDAN_PORT", "abc", "port")],
)
def test_bad_settings_stop_the_command_with_a_japanese_message(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object, variable: str, value: str, field: str
) -> None:
    monkeypatch.setenv("SOUDAN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv(variable, value)
    result = CliRunner().invoke(app, ["flow", "list"])
    assert result.exit_code == 2
    assert "設定に誤りがあるため起動できません" in result.output
    assert field in result.output
    assert "changeme" not in result.output  # a secret's value is never echoed


def test_good_settings_run_the_command(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.setenv("SOUDAN_DATA_DIR", str(tmp_path))
    result = CliRunner().invoke(app, ["flow", "list"])
    assert result.exit_code == 0, result.output
    assert "ict_adoption" in result.output and "rfi" in result.output
