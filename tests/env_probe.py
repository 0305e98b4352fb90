"""Run by tests/test_environment_isolation.py in a pytest of its own, with configuration
exported in its environment; not collected by the suite (its name has no test_ prefix)."""

import os


def test_probe() -> None:
    assert "SOUDAN_DATABASE_URL" not in os.environ
    assert "SLACK_BOT_TOKEN" not in os.environ
