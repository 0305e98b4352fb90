"""Fixtures for the review tests: real databases (both backends), a seeder."""

from __future__ import annotations

import pytest

from storage import Database
from tests.fixtures_db import *  # noqa: F403  (the shared database fixtures, whatever they are)
from tests.review.review_fakes import Seeder


@pytest.fixture
def seeder(database: Database) -> Seeder:
    return Seeder(database)
