"""Backend fixtures for the storage contract suite (shared with other folders via
``tests/fixtures_db.py``)."""

from __future__ import annotations

from tests.fixtures_db import (  # noqa: F401  (fixtures)
    database,
    empty_database,
    postgres_database,
    postgres_server,
    postgres_session_url,
    sqlite_database,
    sqlite_template,
)
