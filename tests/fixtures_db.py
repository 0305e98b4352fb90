"""Database fixtures for every test folder: real SQLite and real PostgreSQL.

Register with ``pytest_plugins = ["tests.fixtures_db"]`` in the root conftest.

Fixtures (each test gets its own fresh, migrated database):

* ``sqlite_database`` -- a :class:`storage.Database` on a SQLite file under tmp_path.
* ``postgres_database`` -- a :class:`storage.Database` on a new PostgreSQL database.
* ``database`` -- parametrised over both: a test using it runs once per backend.
* ``empty_database`` -- like ``database`` but not migrated (for migration tests).
* ``cli_database`` -- ``sqlite_database`` that the ``soudan`` commands open
  (``SOUDAN_DATABASE_URL``), run from ``tmp_path`` (no stray ``.env``).

PostgreSQL is the server on 127.0.0.1:5432 (user postgres, trust auth), or
``SOUDAN_TEST_POSTGRES_URL``. One uniquely named database is created and migrated
per test run (per xdist worker) and dropped at the end; before each test every
table is emptied (``DELETE``, with the append-only audit trigger bypassed), which
is much cheaper than a database per test. Row ids from sequences are not reset. When the server cannot be reached the PostgreSQL tests FAIL,
unless ``SOUDAN_TEST_SKIP_POSTGRES=1`` says to skip them: CI must not pass by
quietly testing one backend.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel

from storage import Database

DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def _postgres_admin_url() -> sa.URL:
    return sa.make_url(os.environ.get("SOUDAN_TEST_POSTGRES_URL", DEFAULT_POSTGRES_URL)).set(
        drivername="postgresql+psycopg"
    )


def _unique_name(prefix: str) -> str:
    return f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:10]}"


class PostgresServer:
    """Creates and drops throw-away databases on the test server."""

    def __init__(self, admin_url: sa.URL) -> None:
        self.admin_url = admin_url
        self._admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)

    def check(self) -> None:
        with self._admin.connect() as connection:
            connection.execute(sa.text("SELECT 1"))

    def create(self, name: str, *, template: str | None = None) -> str:
        suffix = f' TEMPLATE "{template}"' if template else ""
        with self._admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"{suffix}')
        return self.admin_url.set(database=name).render_as_string(hide_password=False)

    def drop(self, name: str) -> None:
        with self._admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def dispose(self) -> None:
        self._admin.dispose()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = PostgresServer(_postgres_admin_url())
    try:
        server.check()
    except sa.exc.OperationalError as error:
        server.dispose()
        where = server.admin_url.render_as_string(hide_password=True)
        if os.environ.get("SOUDAN_TEST_SKIP_POSTGRES") == "1":
            pytest.skip(f"PostgreSQL not reachable at {where} (SOUDAN_TEST_SKIP_POSTGRES=1)")
        pytest.fail(
            f"PostgreSQL is not reachable at {where}: {error.orig}. Start it, point "
            "SOUDAN_TEST_POSTGRES_URL at one, or set SOUDAN_TEST_SKIP_POSTGRES=1 to skip "
            "the PostgreSQL half of the suite on purpose.",
            pytrace=False,
        )
    yield server
    server.dispose()


@pytest.fixture(scope="session")
def postgres_session_url(postgres_server: PostgresServer) -> Iterator[str]:
    """URL of this test run's migrated PostgreSQL database (dropped at the end)."""
    name = _unique_name("soudan_test")
    url = postgres_server.create(name)
    database = Database(url)
    try:
        database.upgrade()
    finally:
        database.dispose()
    yield url
    postgres_server.drop(name)


def _empty_every_table(database: Database) -> None:
    with database.engine.begin() as connection:
        # The replica role skips triggers: the audit log's append-only guard and the
        # foreign-key checks. DELETE beats TRUNCATE by far on a handful of rows.
        connection.exec_driver_sql("SET LOCAL session_replication_role = replica")
        for table in reversed(SQLModel.metadata.sorted_tables):
            connection.execute(table.delete())


@pytest.fixture
def postgres_database(postgres_session_url: str) -> Iterator[Database]:
    database = Database(postgres_session_url)
    _empty_every_table(database)
    yield database
    database.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    database = Database(f"sqlite:///{path}")
    database.upgrade()
    database.dispose()  # the last connection to close checkpoints the WAL into the file
    return path


@pytest.fixture
def sqlite_database(sqlite_template: Path, tmp_path: Path) -> Iterator[Database]:
    path = tmp_path / "db" / "soudan.db"
    path.parent.mkdir()
    shutil.copyfile(sqlite_template, path)
    database = Database(f"sqlite:///{path}")
    yield database
    database.dispose()


@pytest.fixture
def cli_database(
    sqlite_database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Database:
    """A fresh migrated SQLite file the CLI (``typer`` ``CliRunner``) opens too."""
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv(
        "SOUDAN_DATABASE_URL", sqlite_database.url.render_as_string(hide_password=False)
    )
    return sqlite_database


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest) -> Database:
    """A fresh migrated database; the test runs once on SQLite and once on PostgreSQL."""
    fixture = "sqlite_database" if request.param == "sqlite" else "postgres_database"
    value: Database = request.getfixturevalue(fixture)
    return value


@pytest.fixture(params=BACKENDS)
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A fresh database with no tables at all."""
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'empty' / 'soudan.db'}")
        yield database
        database.dispose()
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = _unique_name("soudan_empty")
    database = Database(server.create(name))
    yield database
    database.dispose()
    server.drop(name)
