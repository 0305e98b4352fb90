"""``soudan console sessions`` and ``soudan admin console revoke``: an administrator ends
someone's console sessions (audited as the OS user); ``soudan console revoke`` is its
deprecated alias."""

from __future__ import annotations

import getpass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer
from typer.testing import CliRunner

from bot.cli.main import app
from storage import Database, list_audit
from storage.models import UserRole
from tests.web.harness import Clock, ConsoleHarness, Person, settings_for
from tests.web.http_client import sign_in

STAFF = Person("U-shimin", "市民 太郎", UserRole.STAFF, "市民課")
OPERATOR = f"cli:local:{getpass.getuser()}"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


@pytest.fixture
def harness(cli_database: Database, tmp_path: Path) -> ConsoleHarness:
    """The console on a real SQLite file the CLI opens too, with STAFF registered."""
    # Sessions expire by the real clock here: the CLI lists what is live now.
    console = ConsoleHarness(cli_database, Clock(datetime.now(UTC)), settings_for(tmp_path))
    console.register(STAFF)
    return console


def revoked_by_operator(database: Database) -> None:
    """One audit row: the OS user ended STAFF's sessions, bypassing the policy."""
    with database.session() as session:
        (row,) = list_audit(session=session, action="admin.console.revoke")
    assert (row.actor, row.target) == (OPERATOR, STAFF.key)
    assert row.detail == {"count": 1, "via": "cli"}


async def test_revoke_signs_the_user_out_everywhere(harness: ConsoleHarness) -> None:
    async with TestClient(TestServer(harness.app())) as client:
        await sign_in(client, harness, STAFF)
        code, out = run("console", "sessions")
        assert code == 0 and f"{STAFF.key}\t有効" in out
        assert run("admin", "console", "revoke", STAFF.key) == (
            0, f"{STAFF.key} のサインインを 1 件無効にしました。\n")
        assert (await client.get("/console/mine")).status == 401
    code, out = run("console", "sessions")
    assert out == "該当するサインインはありません。\n"
    assert f"{STAFF.key}\t無効化" in run("console", "sessions", "--all")[1]
    assert run("admin", "console", "revoke", "U-shimin")[0] == 2
    revoked_by_operator(harness.database)


async def test_the_old_command_points_to_the_new_one_and_does_the_same(
    harness: ConsoleHarness,
) -> None:
    async with TestClient(TestServer(harness.app())) as client:
        await sign_in(client, harness, STAFF)
        result = CliRunner().invoke(app, ["console", "revoke", STAFF.key])
        assert result.exit_code == 0
        assert result.stdout == f"{STAFF.key} のサインインを 1 件無効にしました。\n"
        assert "`soudan admin console revoke` に移りました" in result.stderr
        assert (await client.get("/console/mine")).status == 401
    assert CliRunner().invoke(app, ["console", "revoke", "U-shimin"]).exit_code == 2
    revoked_by_operator(harness.database)
