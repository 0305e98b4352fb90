"""The suite never runs with the shell's soudan, Slack or Teams configuration."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_no_configuration_from_the_shell_reaches_a_test() -> None:
    leaked = [
        name for name in os.environ
        if name.startswith(("SOUDAN_", "SLACK_", "MICROSOFT_APP_")) and not name.startswith("SOUDAN_TEST_")
    ]
    assert leaked == []


def test_an_exported_database_url_is_dropped() -> None:
    probe = ROOT / "tests" / "env_probe.py"
    env = {**os.environ, "SOUDAN_DATABASE_URL": "postgresql+psycopg://nobody@192.0.2.1/prod",
           "SLACK_BOT_TOKEN": "xoxb-real"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(probe)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout[-2000:]
