"""The CLI speaks Japanese: help, usage and errors; status options take labels and values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from typer.testing import CliRunner

from bot.cli.main import app
from storage import Database, UserRole, upsert_user_profile
from tests.review.review_fakes import Seeder

ENGLISH = ("Show this message", "Missing argument", "Usage:", "No such option",
           "Got unexpected", "Input should be", "Options", "Commands", "Error")


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


@pytest.mark.parametrize("args", [
    ("--help",), ("review", "--help"), ("review", "show"), ("sheets", "list", "--bogus"),
    ("sheets", "show", "a", "b"), ("sheets", "list", "--limit", "x"), ("sheets", "list"),
    ("admin", "sheets", "export"),
])
def test_help_and_usage_errors_are_japanese(args: tuple[str, ...], cli_database: Database) -> None:
    _, output = run(*args)
    assert not [word for word in ENGLISH if word in output], output
    assert any(word in output for word in ("使い方", "ヘルプ")), output


def test_status_options_take_the_japanese_label_or_the_value(cli_database: Database) -> None:
    now = datetime.now(UTC)
    seeder = Seeder(cli_database)
    seeder.sheet(created_at=now - timedelta(days=1), business="窓口予約",
                 moves=[("submitted", now - timedelta(hours=20))])
    seeder.sheet(created_at=now - timedelta(days=1), business="下書きの相談")
    with cli_database.session() as session:
        upsert_user_profile(session=session, channel="slack", tenant="T1", user_id="UR",
                            role=UserRole.REVIEWER)

    for status in ("提出済み", "submitted"):
        code, out = run("review", "list", "--as", "slack:T1:UR", "--status", status)
        assert code == 0 and "窓口予約" in out and "下書きの相談" not in out
        code, out = run("sheets", "list", "--as", "slack:T1:UR", "--status", status)
        assert code == 0 and "窓口予約" in out and "下書きの相談" not in out

    for args in (("review", "list", "--as", "slack:T1:UR", "--status", "bogus"),
                 ("sheets", "list", "--as", "slack:T1:UR", "--status", "bogus"),
                 ("sheets", "export", "--as", "slack:T1:UR", "--status", "bogus", "--out", "x.csv",
                  "--format", "csv")):
        code, out = run(*args)
        assert code in (1, 2), out
        assert "状態「bogus」はありません" in out and "提出済み（submitted）" in out

    code, out = run("sheets", "export", "--as", "slack:T1:UR", "--status", "提出済み",
                    "--format", "csv", "--out", "sheets.csv")
    assert code == 0 and "1 件の相談シート" in out
