"""``soudan sheets … --as USER`` goes through the policy; ``soudan admin sheets …`` bypasses
it for the OS operator, and says so in the audit log (real SQLite)."""

from __future__ import annotations

import getpass
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.cli.main import app
from bot.core.policy import NOT_REGISTERED, REVIEWERS_ONLY, SHEET_UNAVAILABLE
from storage import (
    AuditResult,
    Database,
    UserRole,
    assign_department,
    list_audit,
    upsert_user_profile,
)
from tests.review.review_fakes import Seeder

OPERATOR = f"cli:local:{getpass.getuser()}"


@pytest.fixture
def cli_database(cli_database: Database) -> Database:
    """Sheets of two tenants, and the people the commands act as."""
    database = cli_database
    created = datetime(2026, 6, 1, 1, 0, tzinfo=UTC)  # 整理番号 2026-0001 … 0003
    seeder = Seeder(database)
    seeder.sheet(created_at=created, business="窓口予約", requester_id="U1")  # 2026-0001 T1 市民課
    seeder.sheet(created_at=created, business="財務会計", department="財政課",
                 requester_id="U2")                                       # T1 財政課
    seeder.sheet(created_at=created, business="他市の相談", tenant="T2")    # T2 市民課
    with database.session() as session:
        for user_id, tenant, role in (("UR", "T1", UserRole.REVIEWER), ("UA", "T1", UserRole.ADMIN),
                                      ("UR2", "T2", UserRole.REVIEWER), ("US", "T1", UserRole.STAFF),
                                      ("U2", "T1", UserRole.STAFF)):
            upsert_user_profile(session=session, channel="slack", tenant=tenant, user_id=user_id,
                                role=role)
        assign_department(session=session, channel="slack", tenant="T1", user_id="US",
                          department="市民課", confirmed_by="cli:local:operator")
        # Self-declared, not confirmed: only the sheets U2 requested.
        assign_department(session=session, channel="slack", tenant="T1", user_id="U2",
                          department="市民課", confirmed_by=None)
    return database


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def listed(as_user: str, *more: str) -> set[str]:
    code, out = run("sheets", "list", "--as", as_user, *more)
    assert code == 0, out
    return {name for name in ("窓口予約", "財務会計", "他市の相談") if name in out}


def test_list_shows_what_the_named_user_may_see(cli_database: Database) -> None:
    assert listed("slack:T1:UR") == {"窓口予約", "財務会計"}       # CIO補佐: the whole tenant
    assert listed("UR2") == {"他市の相談"}                         # another tenant's CIO補佐
    assert listed("slack:T1:US") == {"窓口予約"}                  # staff: their department
    assert listed("slack:T1:US", "--department", "財政課") == set()
    assert listed("slack:T1:US", "--tenant", "T2") == set()
    assert listed("U2") == {"財務会計"}                          # pending: their own sheets

    with cli_database.session() as session:
        rows = list_audit(session=session, action="sheet.list")
    assert [r.actor for r in rows][:2] == ["slack:T1:UR", "slack:T2:UR2"]
    assert rows[0].result is AuditResult.ALLOWED
    assert rows[0].detail == {"count": 2, "via": "cli"}


@pytest.mark.parametrize("command", [("list",), ("show", "2026-0001"),
                                     ("export", "--format", "json", "--out", "x.json")])
def test_an_admin_or_unknown_user_is_refused_in_japanese(
    command: tuple[str, ...], cli_database: Database, tmp_path: Path
) -> None:
    code, out = run("sheets", *command, "--as", "slack:T1:UA")
    assert code == 1 and REVIEWERS_ONLY in out  # an admin does not read sheets
    code, out = run("sheets", *command, "--as", "U-nobody")
    assert code == 1 and "利用者「U-nobody」は登録されていません" in out
    code, out = run("sheets", *command, "--as", "slack:T1:U-unregistered")
    assert code == 1 and NOT_REGISTERED in out
    code, out = run("sheets", *command)
    assert code == 2 and "'--as' を指定してください" in out
    assert not (tmp_path / "x.json").exists()

    with cli_database.session() as session:
        refused = list_audit(session=session, result=AuditResult.DENIED)
    assert [r.actor for r in refused] == ["slack:T1:UA", "slack:T1:U-unregistered"]
    assert all(r.detail.get("via") == "cli" for r in refused)


def test_show_answers_a_foreign_and_a_missing_sheet_alike(cli_database: Database) -> None:
    code, out = run("sheets", "show", "2026-0001", "--as", "slack:T1:US")
    assert code == 0 and "相談シート 2026-0001" in out and "窓口予約" in out

    code, foreign = run("sheets", "show", "2026-0002", "--as", "slack:T1:US")
    code_missing, missing = run("sheets", "show", "2099-0001", "--as", "slack:T1:US")
    assert (code, code_missing) == (1, 1)
    assert foreign == missing and SHEET_UNAVAILABLE in foreign and "財務会計" not in foreign

    code, out = run("sheets", "show", "2026-0003", "--as", "slack:T1:UR", "--json")
    assert code == 1 and SHEET_UNAVAILABLE in out  # another tenant's sheet

    with cli_database.session() as session:
        rows = list_audit(session=session, action="sheet.view")
    assert [(r.actor, r.result) for r in rows] == [
        ("slack:T1:US", AuditResult.ALLOWED), ("slack:T1:US", AuditResult.DENIED),
        ("slack:T1:US", AuditResult.DENIED), ("slack:T1:UR", AuditResult.DENIED),
    ]


def test_export_holds_only_the_named_users_sheets(cli_database: Database, tmp_path: Path) -> None:
    out = tmp_path / "t2.json"
    code, output = run("sheets", "export", "--as", "UR2", "--format", "json", "--out", str(out))
    assert code == 0, output
    assert [d["business"] for d in json.loads(out.read_text(encoding="utf-8"))] == ["他市の相談"]

    with cli_database.session() as session:
        [row] = list_audit(session=session, action="sheet.export")
    assert (row.actor, row.tenant) == ("slack:T2:UR2", "T2")
    assert row.detail == {"format": "json", "count": 1, "via": "cli"}


def test_admin_sheets_bypass_the_policy_and_leave_an_audit_row(
    cli_database: Database, tmp_path: Path
) -> None:
    out = tmp_path / "backup.json"
    code, output = run("admin", "sheets", "export", "--format", "json", "--out", str(out))
    assert code == 0, output
    assert len(json.loads(out.read_text(encoding="utf-8"))) == 3  # every tenant
    code, output = run("admin", "sheets", "show", "2026-0003")
    assert code == 0 and "他市の相談" in output
    code, output = run("admin", "sheets", "list")
    assert code == 0 and output.strip().endswith("3 件")

    with cli_database.session() as session:
        rows = list_audit(session=session)
    assert [(r.actor, r.action, r.result) for r in rows] == [
        (OPERATOR, "admin.sheets.export", AuditResult.ALLOWED),
        (OPERATOR, "admin.sheets.show", AuditResult.ALLOWED),
        (OPERATOR, "admin.sheets.list", AuditResult.ALLOWED),
    ]
    assert rows[0].detail == {"format": "json", "count": 3, "via": "cli"}
    assert rows[1].target is not None


def test_review_and_digest_name_their_user_like_sheets(cli_database: Database) -> None:
    """One resolver (``bot.cli.acting.named_user``) for ``sheets``, ``review`` and ``digest``;
    an unregistered bare id is refused up front by ``sheets`` and by the policy (audited)
    for ``review`` and ``digest``, as each always did."""
    code, out = run("review", "list", "--as", "UR2")
    assert code == 0 and "他市の相談" in out and "窓口予約" not in out
    code, out = run("review", "list", "--as", "U-nobody")
    assert code == 1 and NOT_REGISTERED in out
    code, out = run("digest", "--as", "U-nobody")
    assert code == 1 and NOT_REGISTERED in out

    with cli_database.session() as session:
        upsert_user_profile(session=session, channel="teams", tenant="T9", user_id="UR",
                            role=UserRole.REVIEWER)
    for command in (("sheets", "list"), ("review", "list"), ("digest",)):
        code, out = run(*command, "--as", "UR")
        assert code == 1 and "利用者「UR」は複数登録されています" in out, command

    with cli_database.session() as session:
        refused = list_audit(session=session, result=AuditResult.DENIED)
        listed_by = list_audit(session=session, action="review.list")
    assert [(r.actor, r.action) for r in refused] == [
        ("cli:local:U-nobody", "review.list"), ("cli:local:U-nobody", "review.digest")]
    assert listed_by[0].actor == "slack:T2:UR2" and listed_by[0].detail.get("via") == "cli"
