"""CLI commands for the web console's sessions: ``soudan console sessions``,
``soudan admin console revoke``.

Ending someone's sessions bypasses the policy, so it is an ``admin`` command, audited
with the OS user as actor (``cli:local:<OS user>``, ``admin.console.revoke``).
``soudan console revoke`` is its deprecated alias: it says so on standard error and
does the same.

Examples:
    soudan console sessions --user slack:T0123:U0456
    soudan admin console revoke slack:T0123:U0456
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from bot.cli.acting import admin_app, os_operator
from bot.cli.context import cli_settings, cli_zone
from bot.core.policy import write_audit
from storage import utc_now
from storage.console import list_sessions, revoke_sessions_of

console_app = typer.Typer(help="管理画面（Web コンソール）のサインインの管理", no_args_is_help=True)
admin_console_app = typer.Typer(
    help="管理画面のサインインを無効にする（監査ログに OS ユーザー名で残ります）",
    no_args_is_help=True,
)

MOVED_NOTE = (
    "お知らせ: `soudan console revoke` は `soudan admin console revoke` に移りました。"
    "同じ処理を行いますが、今後は `soudan admin console revoke` を使ってください。"
)
"""What the deprecated alias prints on standard error before doing the same."""

UserArgument = Annotated[str, typer.Argument(help="channel:tenant:user_id")]


def register(app: typer.Typer) -> None:
    """Add ``console …`` and ``admin console …`` to the ``soudan`` app."""
    app.add_typer(console_app, name="console")
    admin_app.add_typer(admin_console_app, name="console")


def _when(moment: datetime | None) -> str:
    return moment.astimezone(cli_zone()).strftime("%Y-%m-%d %H:%M") if moment else "-"


@console_app.command("sessions")
def sessions(
    user: Annotated[str | None, typer.Option(help="channel:tenant:user_id で絞り込む")] = None,
    all_: Annotated[bool, typer.Option("--all", help="終了したものも表示する")] = False,
) -> None:
    """管理画面のサインイン（セッション）を一覧する。"""
    from bot.wiring import open_database

    database = open_database(cli_settings())
    now = utc_now()
    with database.session() as session:
        rows = list_sessions(session=session, actor=user)
        lines = []
        for row in rows:
            live = row.revoked_at is None and row.expires_at > now
            if not live and not all_:
                continue
            state = "有効" if live else ("無効化" if row.revoked_at else "期限切れ")
            lines.append(
                f"{row.id[:8]}\t{row.actor}\t{state}\tサインイン {_when(row.created_at)}"
                f"\t最終操作 {_when(row.last_seen_at)}\t期限 {_when(row.expires_at)}"
            )
    database.dispose()
    typer.echo("\n".join(lines) if lines else "該当するサインインはありません。")


@admin_console_app.command("revoke")
def admin_revoke(user: UserArgument) -> None:
    """利用者の管理画面のサインインをすべて無効にする（すぐにサインアウトされます。監査ログに残ります）。"""
    _revoke(user)


@console_app.command("revoke")
def revoke(user: UserArgument) -> None:
    """（非推奨）`soudan admin console revoke` と同じです。"""
    typer.echo(MOVED_NOTE, err=True)
    _revoke(user)


def _revoke(user: str) -> None:
    """End every console session of ``user``, audited as the OS user (``admin.console.revoke``)."""
    from bot.wiring import open_database

    if user.count(":") < 2:
        typer.echo("利用者は channel:tenant:user_id の形で指定してください（例: slack:T0123:U0456）。",
                   err=True)
        raise typer.Exit(2)
    database = open_database(cli_settings())
    with database.session() as session:
        count = revoke_sessions_of(session=session, actor=user)
        write_audit(session, os_operator(), "admin.console.revoke", target=user,
                    detail={"count": count})
    database.dispose()
    typer.echo(f"{user} のサインインを {count} 件無効にしました。")
