"""``soudan users`` / ``soudan review`` / ``soudan digest`` against a real SQLite file."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

from openpyxl import load_workbook
from typer.testing import CliRunner

from bot.cli.main import app
from bot.review.weeks import IsoWeek
from storage import Database
from storage.audit import list_audit
from tests.review.review_fakes import Seeder

USERS_YAML = """\
users:
  - channel: slack
    tenant: T1
    user_id: UR
    name: 補佐 一郎
    role: reviewer
  - channel: slack
    tenant: T1
    user_id: U1
    department: 市民課
"""


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_users_import_and_review_round_trip(cli_database: Database, tmp_path: Path) -> None:
    (tmp_path / "users.yaml").write_text(USERS_YAML, encoding="utf-8")
    assert run("users", "import", str(tmp_path / "users.yaml")) == (0, "2 人を登録しました。\n")
    code, out = run("users", "list")
    assert code == 0 and "slack:T1:UR\tCIO補佐" in out and "slack:T1:U1\t所管課職員\t市民課" in out

    now = datetime.now(UTC)
    sheet = Seeder(cli_database).sheet(created_at=now - timedelta(days=1), business="窓口予約",
                                       moves=[("submitted", now - timedelta(hours=20))])
    code, out = run("review", "list", "--as", "UR", "--status", "submitted")
    assert code == 0 and sheet.reference in out and "窓口予約" in out
    assert run("review", "start", sheet.reference, "--as", "UR")[0] == 0
    code, out = run("review", "return", sheet.reference, "--as", "UR", "--comment", "")
    assert code == 1 and "理由の記入が必要" in out
    code, out = run("review", "return", sheet.reference, "--as", "slack:T1:UR",
                    "--comment", "積算根拠を追記してください")
    assert code == 0 and "差し戻し にしました" in out
    code, out = run("review", "show", sheet.reference, "--as", "UR")
    assert code == 0 and "積算根拠を追記してください" in out
    # Staff may not accept; the refusal is Japanese and the exit code says so.
    code, out = run("review", "accept", sheet.reference, "--as", "U1")
    assert code == 1 and "CIO補佐" in out

    with cli_database.session() as session:
        rows = list_audit(session=session, actor="slack:T1:UR")
    assert rows and all(row.detail.get("via") == "cli" for row in rows)


def test_digest_files_and_refusals(cli_database: Database, tmp_path: Path) -> None:
    (tmp_path / "users.yaml").write_text(USERS_YAML, encoding="utf-8")
    run("users", "import", str(tmp_path / "users.yaml"))
    week = IsoWeek.containing(datetime.now(UTC))
    Seeder(cli_database).sheet(created_at=week.start() + timedelta(hours=10),
                               business="庁内チャット", initial_cost=3_000_000)

    code, out = run("digest", "--as", "UR", "--week", str(week), "--format", "xlsx",
                    "--out", str(tmp_path / "d.xlsx"))
    assert code == 0, out
    workbook = load_workbook(tmp_path / "d.xlsx")
    assert workbook["新規"]["C2"].value == "庁内チャット"
    assert workbook["概要"]["B2"].value == str(week)

    code, out = run("digest", "--as", "UR", "--week", str(week), "--format", "csv",
                    "--out", str(tmp_path / "d.csv"))
    assert code == 0
    data = (tmp_path / "d.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert ["対象週", str(week)] in list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))

    code, out = run("digest", "--as", "U1")
    assert code == 1 and "CIO補佐" in out
    code, out = run("digest", "--as", "UR", "--week", "2026-47")
    assert code == 1 and "2026-W47 の形式" in out
    code, out = run("users", "set-role", "UNKNOWN", "reviewer")
    assert code == 1 and "登録されていません" in out
