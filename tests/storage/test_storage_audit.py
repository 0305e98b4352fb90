"""監査ログ contract: rows are appended and can never be changed or removed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import delete, update

from storage import (
    AppendOnlyError,
    AuditLog,
    AuditResult,
    Database,
    count_audit,
    list_audit,
    record_audit,
)

T0 = datetime(2026, 11, 16, 0, 0, tzinfo=UTC)


def _seed(database: Database) -> None:
    with database.session() as session:
        record_audit(
            session=session, actor="slack:T1:U1", action="sheet.view", target="s1",
            result=AuditResult.ALLOWED, tenant="T1", now=T0,
        )
        record_audit(
            session=session, actor="slack:T1:U2", action="sheet.view", target="s1",
            result=AuditResult.DENIED, tenant="T1", detail={"reason": "other_department"},
            now=T0 + timedelta(hours=1),
        )
        record_audit(
            session=session, actor="slack:T1:R1", action="digest.view", target="digest:2026-W47",
            result=AuditResult.ALLOWED, now=T0 + timedelta(days=8),
        )


def test_rows_are_recorded_and_filtered(database: Database) -> None:
    _seed(database)
    with database.session() as session:
        rows = list_audit(session=session)
        assert [r.actor for r in rows] == ["slack:T1:U1", "slack:T1:U2", "slack:T1:R1"]
        assert rows[1].detail == {"reason": "other_department"}
        assert rows[1].at == T0 + timedelta(hours=1)
        assert count_audit(session=session) == 3
        assert count_audit(session=session, result=AuditResult.DENIED) == 1
        assert count_audit(session=session, action="sheet.view", target="s1") == 2
        assert count_audit(session=session, actor="slack:T1:R1") == 1
        week = list_audit(session=session, since=T0, before=T0 + timedelta(days=7))
        assert len(week) == 2
        assert len(list_audit(session=session, limit=1)) == 1


def test_rows_recorded_with_an_earlier_time_still_list_in_insertion_order(
    database: Database,
) -> None:
    with database.session() as session:
        for actor, moment in (("first", T0), ("second", T0 - timedelta(days=2)),
                              ("third", T0 - timedelta(days=1))):
            record_audit(
                session=session, actor=actor, action="sheet.view", target="s1",
                result=AuditResult.ALLOWED, now=moment,
            )
    with database.session() as session:
        assert [r.actor for r in list_audit(session=session)] == ["first", "second", "third"]


def test_orm_refuses_to_change_a_row(database: Database) -> None:
    _seed(database)
    with pytest.raises(AppendOnlyError, match="追記のみ"), database.session() as session:
        row = list_audit(session=session)[0]
        row.result = AuditResult.DENIED
        session.add(row)
        session.flush()


def test_orm_refuses_to_delete_a_row(database: Database) -> None:
    _seed(database)
    with pytest.raises(AppendOnlyError), database.session() as session:
        session.delete(list_audit(session=session)[0])
        session.flush()


@pytest.mark.parametrize(
    "statement",
    [update(AuditLog).values(result="allowed"), delete(AuditLog)],
    ids=["bulk-update", "bulk-delete"],
)
def test_orm_refuses_bulk_statements(database: Database, statement: sa.Executable) -> None:
    _seed(database)
    with pytest.raises(AppendOnlyError), database.session() as session:
        session.execute(statement)


@pytest.mark.parametrize(
    "sql",
    ["UPDATE audit_log SET result = 'allowed'", "DELETE FROM audit_log"],
    ids=["update", "delete"],
)
def test_database_refuses_raw_sql_changes(database: Database, sql: str) -> None:
    _seed(database)
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), database.engine.begin() as c:
        c.exec_driver_sql(sql)
    with database.session() as session:
        assert count_audit(session=session) == 3
        assert count_audit(session=session, result=AuditResult.DENIED) == 1


def test_postgres_refuses_truncate(postgres_database: Database) -> None:
    _seed(postgres_database)
    engine = postgres_database.engine
    with pytest.raises(sa.exc.DatabaseError, match="append-only"), engine.begin() as connection:
        connection.exec_driver_sql("TRUNCATE audit_log")
