"""Migrations, engine set-up and the Database handle, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel

from storage import Database, normalise_url

EXPECTED_TABLES = {
    "alembic_version",
    "audit_log",
    "consultation_sheet",
    "conversation_ref",
    "digest_run",
    "feedback",
    "flow_session",
    "inbound_receipt",
    "inbox_event",
    "message",
    "reference_counter",
    "sheet_comment",
    "sheet_outcome",
    "sheet_transition",
    "user_profile",
}


def test_upgrade_from_empty_to_head_creates_every_table(empty_database: Database) -> None:
    assert empty_database.current_revision() is None
    assert not empty_database.is_up_to_date()

    empty_database.upgrade()

    assert empty_database.current_revision() == empty_database.head_revision()
    assert empty_database.is_up_to_date()
    tables = set(sa.inspect(empty_database.engine).get_table_names())
    assert tables == EXPECTED_TABLES


def test_migrated_schema_matches_the_models(empty_database: Database) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    empty_database.upgrade()

    with empty_database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []


def test_upgrade_twice_is_a_no_op_and_downgrade_removes_everything(
    empty_database: Database,
) -> None:
    empty_database.upgrade()
    empty_database.upgrade()
    assert empty_database.is_up_to_date()

    empty_database.downgrade("base")
    assert set(sa.inspect(empty_database.engine).get_table_names()) == {"alembic_version"}

    empty_database.upgrade()
    assert set(sa.inspect(empty_database.engine).get_table_names()) == EXPECTED_TABLES


def test_sqlite_connection_settings(sqlite_database: Database) -> None:
    with sqlite_database.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 5000
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_sqlite_enforces_foreign_keys(sqlite_database: Database) -> None:
    with pytest.raises(sa.exc.IntegrityError), sqlite_database.engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO sheet_comment (id, sheet_id, author_id, text, kind, created_at) "
            "VALUES ('c1', 'no-such-sheet', 'U1', 'x', 'comment', '2026-01-01 00:00:00')"
        )


def test_sqlite_parent_directory_is_created(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "soudan.db"

    database = Database(f"sqlite:///{path}")
    database.upgrade()
    database.dispose()

    assert path.is_file()


def test_constructing_a_database_does_not_connect() -> None:
    # Port 9 (discard) on loopback: nothing listens; construction must not try.
    database = Database("postgresql://nobody@127.0.0.1:9/none")
    assert database.backend == "postgresql"
    database.dispose()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u:p@db:5432/soudan", "postgresql+psycopg://u:p@db:5432/soudan"),
        ("postgres://u@db/soudan", "postgresql+psycopg://u@db/soudan"),
        ("postgresql+psycopg://u@db/soudan", "postgresql+psycopg://u@db/soudan"),
        ("sqlite:///data/soudan.db", "sqlite:///data/soudan.db"),
    ],
)
def test_normalise_url(given: str, expected: str) -> None:
    assert normalise_url(given).render_as_string(hide_password=False) == expected


def test_repr_hides_the_password() -> None:
    database = Database("postgresql://u:s3cret@127.0.0.1:9/soudan")
    assert "s3cret" not in repr(database)
    database.dispose()


def test_nested_sessions_fail_fast_on_sqlite_and_work_on_postgres(database: Database) -> None:
    from storage import NestedSessionError, claim_inbound

    with database.session() as outer:
        claim_inbound(session=outer, key="outer")
        if database.backend == "sqlite":
            with pytest.raises(NestedSessionError), database.session():
                pass
        else:
            with database.session() as inner:
                assert claim_inbound(session=inner, key="inner")
    with database.session() as session:  # the guard is released after the block
        assert not claim_inbound(session=session, key="outer")


def test_comment_order_is_backfilled_from_the_old_order(empty_database: Database) -> None:
    """0002 numbers existing comments per sheet in their old (created_at, id) order."""
    empty_database.upgrade("0001")
    stamp = "2026-11-20 01:00:00+00:00"
    with empty_database.engine.begin() as connection:
        for sheet_id, reference in (("s1", "2026-0001"), ("s2", "2026-0002")):
            connection.execute(
                sa.text(
                    "INSERT INTO consultation_sheet (id, reference, status, business, slots,"
                    " outcomes, decisions, questions, channel, tenant, conversation,"
                    " requester_id, created_at, updated_at) VALUES (:id, :ref,"
                    " 'draft', '業務', '{}', '{}', '[]', '[]', 'slack', 'T1', 'C1', 'U1',"
                    " :at, :at)"
                ),
                {"id": sheet_id, "ref": reference, "at": stamp},
            )
        for comment_id, sheet_id, at in (
            ("c-late", "s1", "2026-11-22 01:00:00+00:00"),
            ("c-early", "s1", "2026-11-21 01:00:00+00:00"),
            ("c-other", "s2", "2026-11-23 01:00:00+00:00"),
        ):
            connection.execute(
                sa.text(
                    "INSERT INTO sheet_comment (id, sheet_id, author_id, text, kind, created_at)"
                    " VALUES (:id, :sheet, 'U1', 'x', 'comment', :at)"
                ),
                {"id": comment_id, "sheet": sheet_id, "at": at},
            )

    empty_database.upgrade()

    with empty_database.engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT id, seq FROM sheet_comment ORDER BY sheet_id, seq")
        ).all()
    assert [tuple(row) for row in rows] == [("c-early", 1), ("c-late", 2), ("c-other", 1)]
