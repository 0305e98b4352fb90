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
    "console_session",
    "console_sign_in",
    "consultation_sheet",
    "conversation_ref",
    "digest_run",
    "feedback",
    "flow_session",
    "inbound_receipt",
    "inbox_event",
    "message",
    "outbox_message",
    "reference_counter",
    "sheet_comment",
    "sheet_outcome",
    "sheet_transition",
    "shared_version",
    "spec_review_memo",
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


def test_0006_carries_sheets_of_the_previous_schema_over_without_loss(
    empty_database: Database,
) -> None:
    """Sheets written the old way (ICT-only columns, flat decisions) become sections."""
    empty_database.upgrade("0004")
    stamp = "2026-11-20 01:00:00+00:00"
    old_decisions = (
        '[{"name": "dx_council_required", "value": true, "statement": "協議が必要です。",'
        ' "cites": [{"doc": "kisarazu-ict-guideline.md",'
        ' "section": "【Ⅰ. 検討】 > 3. ICT 活用に関する協議", "quote": "300 万円以上"}]}]'
    )
    with empty_database.engine.begin() as connection:
        insert = sa.text(
            "INSERT INTO consultation_sheet (id, reference, status, department, business,"
            " current_problem, envisaged_ict, initial_cost, running_cost, flow_id, slots,"
            " outcomes, decisions, concerns, personal_info, questions, channel, tenant,"
            " conversation, requester_id, created_at, updated_at) VALUES (:id, :ref,"
            " 'submitted', '市民課', :business, :problem, :ict, :initial, :running, :flow,"
            " :slots, :outcomes, :decisions, :concerns, :personal, '[]', 'slack', 'T1', 'C1',"
            " 'U1', :at, :at)"
        )
        connection.execute(insert, {
            "id": "s1", "ref": "2026-0001", "business": "住民票の窓口交付",
            "problem": "待ち時間が長い", "ict": "電子申請", "initial": 4_500_000,
            "running": 500_000, "flow": "ict_adoption",
            "slots": '{"business": "住民票の窓口交付", "current_problem": "待ち時間が長い",'
                     ' "envisaged_ict": "電子申請", "initial_cost": 4500000,'
                     ' "running_cost": 500000, "mandated_by_law": false,'
                     ' "personal_information": true}',
            "outcomes": '{"dx_council_required": true, "rfi_recommended": false}',
            "decisions": old_decisions, "concerns": None, "personal": "あり", "at": stamp,
        })
        # A sheet with no flow answers, only the old columns (typed in by hand).
        connection.execute(insert, {
            "id": "s2", "ref": "2026-0002", "business": "庁内チャット", "problem": None,
            "ict": "チャットツール", "initial": None, "running": 120_000, "flow": None,
            "slots": "{}", "outcomes": "{}", "decisions": "[]", "concerns": "費用",
            "personal": None, "at": stamp,
        })

    empty_database.upgrade()

    columns = {c["name"] for c in sa.inspect(empty_database.engine).get_columns(
        "consultation_sheet")}
    assert "sections" in columns
    assert not columns & {"current_problem", "envisaged_ict", "running_cost", "concerns",
                          "personal_info", "decisions"}
    from storage import find_sheet, list_sheets, sheet_content

    with empty_database.session() as session:
        first = find_sheet(session=session, key="2026-0001")
        second = find_sheet(session=session, key="2026-0002")
        council = list_sheets(session=session, outcome=("dx_council_required", True))
        no_rfi = list_sheets(session=session, outcome=("rfi_recommended", False))
    content = sheet_content(first.sections)
    answers = {a.label: a.text for a in content.answers}
    assert answers["現状の課題"] == "待ち時間が長い"
    assert answers["想定している ICT"] == "電子申請"
    assert answers["ランニングコスト（年額）"] == "500,000円（50万円）"
    assert answers["個人情報の取扱い"] == "はい"
    [decision] = content.decisions
    assert (decision.label, decision.value_label, decision.digest) == (
        "DX推進本部会議での協議", "必要", True
    )
    assert decision.statement == "協議が必要です。"
    assert decision.citations == (
        "木更津市 ICT活用ガイドライン（案） > 【Ⅰ. 検討】 > 3. ICT 活用に関する協議",
    )
    assert (first.business, first.initial_cost, first.department) == (
        "住民票の窓口交付", 4_500_000, "市民課"
    )
    assert first.outcomes == {"dx_council_required": True, "rfi_recommended": False}
    assert [s.id for s in council] == ["s1"] and [s.id for s in no_rfi] == ["s1"]
    # Values that only sat in the dropped columns are answers now.
    kept = {a.label: a.text for a in sheet_content(second.sections).answers}
    assert kept == {"想定している ICT": "チャットツール", "ランニングコスト（年額）": "120,000円",
                    "懸念事項": "費用"}

    # And back: the old columns are filled from the sections again.
    empty_database.downgrade("0004")
    with empty_database.engine.connect() as connection:
        row = connection.execute(sa.text(
            "SELECT current_problem, envisaged_ict, running_cost, personal_info"
            " FROM consultation_sheet WHERE id = 's1'"
        )).one()
    assert tuple(row) == ("待ち時間が長い", "電子申請", 500_000, "あり")


def test_0008_adds_review_memos_next_to_the_sheets_and_takes_them_away_again(
    empty_database: Database,
) -> None:
    """0008: sheets of 0007 are kept; a memo is stored on one; downgrade drops only memos."""
    empty_database.upgrade("0007")
    stamp = "2026-12-07 01:00:00+00:00"
    with empty_database.engine.begin() as connection:
        connection.execute(sa.text(
            "INSERT INTO consultation_sheet (id, reference, status, business, slots, outcomes,"
            " sections, questions, channel, tenant, conversation, requester_id, created_at,"
            " updated_at) VALUES ('s1', '2026-0001', 'submitted', '窓口予約', '{}', '{}', '[]',"
            " '[]', 'slack', 'T1', 'C1:1', 'U1', :at, :at)"
        ), {"at": stamp})

    empty_database.upgrade()

    from storage import find_sheet
    from storage.spec_memos import list_spec_memos, save_spec_memo

    with empty_database.session() as session:
        sheet = find_sheet(session=session, key="2026-0001")
        save_spec_memo(
            session=session, sheet_id=sheet.id, file_name="仕様書案.docx",
            title="仕様書（案）レビューメモ　仕様書案.docx", summary="16 項目のうち…",
            items=[("業務の対象", "記載あり"), ("実施期間", "記載なし")],
            markdown="# 仕様書（案）レビューメモ\n", actor="slack:T1:U1",
        )
        session.commit()
    with empty_database.session() as session:
        [memo] = list_spec_memos(session=session, sheet_id="s1")
    assert (memo.file_name, memo.items) == (
        "仕様書案.docx", [["業務の対象", "記載あり"], ["実施期間", "記載なし"]])
    with empty_database.engine.connect() as connection, pytest.raises(sa.exc.IntegrityError):
        # A memo belongs to a sheet that exists.
        connection.execute(sa.text(
            "INSERT INTO spec_review_memo (id, sheet_id, file_name, title, summary, items,"
            " markdown, actor, created_at) VALUES ('m2', 'missing', 'a.md', 't', 's', '[]',"
            " 'x', 'a', :at)"), {"at": stamp})

    empty_database.downgrade("0007")
    tables = set(sa.inspect(empty_database.engine).get_table_names())
    assert "spec_review_memo" not in tables and "consultation_sheet" in tables
    with empty_database.engine.connect() as connection:
        assert connection.execute(sa.text("SELECT reference FROM consultation_sheet")).all() == [
            ("2026-0001",)]
