"""``soudan users list --pending`` and ``soudan users confirm-department``."""

from __future__ import annotations

from typer.testing import CliRunner

from bot.cli.acting import os_operator
from bot.cli.main import app
from bot.review.desk import ReviewDesk
from bot.review.records import Actor
from bot.review.store import ReviewStore
from storage import Database
from storage.audit import list_audit


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_a_declared_department_is_listed_as_pending_until_confirmed(
    cli_database: Database,
) -> None:
    store = ReviewStore(cli_database)
    desk = ReviewDesk(store)
    desk.set_department(Actor("slack", "T1", "UNEW"), "税務課")  # the chat form
    assert run("users", "add", "U2", "--tenant", "T1", "--department", "市民課")[0] == 0

    code, out = run("users", "list")
    assert code == 0
    assert "slack:T1:UNEW\t所管課職員\t税務課（承認待ち" in out
    assert "slack:T1:U2\t所管課職員\t市民課\t" in out  # set by an administrator: confirmed
    code, out = run("users", "list", "--pending")
    assert code == 0 and "UNEW" in out and "U2" not in out

    code, out = run("users", "confirm-department", "UNEW")
    assert code == 0 and "承認しました: slack:T1:UNEW\t所管課職員\t税務課\t" in out
    assert run("users", "list", "--pending") == (0, "承認待ちの所属部署はありません。\n")
    assert store.actor("slack", "T1", "UNEW").confirmed_department == "税務課"

    code, out = run("users", "confirm-department", "UNKNOWN")
    assert code == 1 and "登録されていません" in out
    # set-department by an administrator is confirmed at once.
    desk.set_department(Actor("slack", "T1", "UOTHER"), "財政課")
    assert run("users", "set-department", "UOTHER", "企画課")[0] == 0
    assert store.actor("slack", "T1", "UOTHER").confirmed_department == "企画課"

    with cli_database.session() as session:
        rows = list_audit(session=session, action="review.user.confirm_department")
    assert [(r.actor, r.target, r.result.value) for r in rows] == [
        (os_operator().key, "slack:T1:UNEW", "allowed"),
    ]
