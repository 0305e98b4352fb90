"""Fixtures for the web console tests: a harness per database backend."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from storage import Database
from tests.fixtures_db import *  # noqa: F403  (the shared database fixtures)
from tests.web.browser import chromium  # noqa: F401  (the browser fixture)
from tests.web.harness import Clock, ConsoleHarness, settings_for

# A fixed moment (Friday morning in Tokyo): every timestamp of a test derives from it.
MOMENT = datetime(2026, 11, 20, 10, 0, tzinfo=timezone(timedelta(hours=9)))


@pytest.fixture
def harness(database: Database, tmp_path: Path) -> ConsoleHarness:
    return ConsoleHarness(database, Clock(MOMENT), settings_for(tmp_path))


@pytest.fixture
def sqlite_harness(sqlite_database: Database, tmp_path: Path) -> ConsoleHarness:
    return ConsoleHarness(sqlite_database, Clock(MOMENT), settings_for(tmp_path))
