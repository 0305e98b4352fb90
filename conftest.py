"""Root pytest configuration: shared fixture plugins for every test folder."""

from __future__ import annotations

import os

import pytest

pytest_plugins = ["tests.clock", "tests.fixtures_db", "tests.fixtures_knowledge"]

_KEPT = "SOUDAN_TEST_"
"""The test harness's own knobs (SOUDAN_TEST_DATE for the clock plugin, the PostgreSQL
test URL) are kept."""
_PREFIXES = ("SOUDAN_", "SLACK_", "MICROSOFT_APP_")


def pytest_configure(config: pytest.Config) -> None:
    """Tests are built from explicit settings only: the shell's configuration (an exported
    SOUDAN_DATABASE_URL, a Slack token) must never send the suite to a real database or
    workspace, so it is dropped before any test runs."""
    for name in list(os.environ):
        if name.startswith(_PREFIXES) and not name.startswith(_KEPT):
            del os.environ[name]
