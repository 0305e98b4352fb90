"""``soudan admin sheets list|show|export`` (the operator's, outside the policy: how the
sheets are shown and written) and ``soudan db upgrade|status`` on a real database.
``soudan sheets … --as`` through the policy: ``tests/cli/test_cli_acting_as.py``."""

from __future__ import annotations

import csv
import getpass
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from bot.cli.main import app
from storage import (
    AuditResult,
    Database,
    SheetStatus,
    count_audit,
    create_sheet,
    list_audit,
    transition_sheet,
)
from tests.storage.factories import sheet_in

CREATED = datetime(2026, 11, 20, 1, 30, tzinfo=UTC)


@pytest.fixture
def seeded(database: Database) -> Database:
    with database.session() as session:
        first = create_sheet(session=session, sheet_in=sheet_in(), now=CREATED)
        transition_sheet(
            session=session, sheet_id=first.id, to_status=SheetStatus.SUBMITTED, now=CREATED
        )
        create_sheet(
            session=session,
            sheet_in=sheet_in(department="財政課", business="財務会計の更新", initial_cost=None),
            now=CREATED,
        )
    return database


def _run(database: Database, tmp_path: Path, *args: str) -> tuple[int, str, str]:
    runner = CliRunner()
    env = {
        "SOUDAN_DATABASE_URL": database.url.render_as_string(hide_password=False),
        "SOUDAN_DATA_DIR": str(tmp_path / "data"),
    }
    result = runner.invoke(app, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def test_list_filters_and_audits(seeded: Database, tmp_path: Path) -> None:
    code, out, _ = _run(seeded, tmp_path, "admin", "sheets", "list")
    assert code == 0
    assert "2026-0001" in out and "2026-0002" in out
    assert "提出済み" in out and "450万円" in out
    assert out.strip().endswith("2 件")

    code, out, _ = _run(seeded, tmp_path, "admin", "sheets", "list", "--status", "draft")
    assert "2026-0002" in out and "2026-0001" not in out
    code, out, _ = _run(seeded, tmp_path, "admin", "sheets", "list", "--department", "存在しない課")
    assert "ありません" in out

    with seeded.session() as session:
        rows = list_audit(session=session, action="admin.sheets.list")
        assert len(rows) == 3
        assert {r.actor for r in rows} == {f"cli:local:{getpass.getuser()}"}
        assert rows[0].result is AuditResult.ALLOWED


def test_show_text_json_and_unknown(seeded: Database, tmp_path: Path) -> None:
    code, out, _ = _run(seeded, tmp_path, "admin", "sheets", "show", "2026-0001")
    assert code == 0
    assert "相談シート 2026-0001（提出済み）" in out
    assert "DX推進本部会議での協議: 必要" in out
    # Document titles, never file names; each source once.
    assert "根拠: 木更津市 ICT活用ガイドライン（案） > 【Ⅰ. 検討】 > 3. ICT 活用に関する協議" in out
    assert "kisarazu-ict-guideline.md" not in out
    assert "現状の課題: 電話予約が集中し待ち時間が長い" in out
    assert "下書き → 提出済み" in out
    assert "2026-11-20 10:30" in out  # Japan time

    code, out, _ = _run(seeded, tmp_path, "admin", "sheets", "show", "2026-0002", "--json")
    document = json.loads(out)
    assert (document["reference"], document["status_label"]) == ("2026-0002", "下書き")
    assert document["transitions"] == []

    code, _, err = _run(seeded, tmp_path, "admin", "sheets", "show", "2099-0001")
    assert code == 1
    assert "見つかりません" in err


@pytest.mark.parametrize("export_format", ["xlsx", "csv", "json"])
def test_export_writes_a_file_that_opens(
    seeded: Database, tmp_path: Path, export_format: str
) -> None:
    out_file = tmp_path / "out" / f"sheets.{export_format}"
    code, out, _ = _run(
        seeded, tmp_path, "admin", "sheets", "export", "--format", export_format, "--out", str(out_file)
    )
    assert code == 0
    assert "2 件" in out
    if export_format == "xlsx":
        sheet = openpyxl.load_workbook(out_file)["相談シート"]
        assert sheet["A1"].value == "整理番号"
        assert {sheet["A2"].value, sheet["A3"].value} == {"2026-0001", "2026-0002"}
    elif export_format == "csv":
        data = out_file.read_bytes()
        assert data.startswith(b"\xef\xbb\xbf")
        rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
        assert rows[0][0] == "整理番号" and len(rows) == 3
    else:
        assert len(json.loads(out_file.read_text(encoding="utf-8"))) == 2
    with seeded.session() as session:
        assert count_audit(session=session, action="admin.sheets.export") == 1


def test_export_refuses_an_unknown_format(seeded: Database, tmp_path: Path) -> None:
    code, _, err = _run(seeded, tmp_path, "admin", "sheets", "export", "--format", "pdf", "--out", "x.pdf")
    assert code == 2
    assert "json / csv / xlsx" in err


def test_db_upgrade_and_status(empty_database: Database, tmp_path: Path) -> None:
    code, out, _ = _run(empty_database, tmp_path, "db", "status")
    assert code == 1 and "soudan db upgrade" in out

    code, out, _ = _run(empty_database, tmp_path, "db", "upgrade")
    assert code == 0 and "更新しました" in out
    assert empty_database.is_up_to_date()

    code, out, _ = _run(empty_database, tmp_path, "db", "upgrade")
    assert code == 0 and "最新です" in out
    code, out, _ = _run(empty_database, tmp_path, "db", "status")
    assert code == 0
