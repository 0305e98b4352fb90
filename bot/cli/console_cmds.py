"""CLI commands for the web console's sessions: ``soudan console sessions|revoke``.

These act as the shell operator (audited as ``cli:local:operator``).

Examples:
    soudan console sessions --user slack:T0123:U0456
    soudan console revoke slack:T0123:U0456
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from bot.cli.context import cli_settings, cli_zone
from bot.core.policy import write_audit
from storage import actor_key, utc_now
from storage.console import list_sessions, revoke_sessions_of

OPERATOR = actor_key("cli", "local", "operator")

console_app = typer.Typer(help="管理画面（Web コンソール）のサインインの管理", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add ``console …`` to the ``soudan`` app."""
    app.add_typer(console_app, name="console")


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


@console_app.command("revoke")
def revoke(
    user: Annotated[str, typer.Argument(help="channel:tenant:user_id")],
) -> None:
    """利用者の管理画面のサインインをすべて無効にする（すぐにサインアウトされます）。"""
    from bot.wiring import open_database

    if user.count(":") < 2:
        typer.echo("利用者は channel:tenant:user_id の形で指定してください（例: slack:T0123:U0456）。",
                   err=True)
        raise typer.Exit(2)
    database = open_database(cli_settings())
    with database.session() as session:
        count = revoke_sessions_of(session=session, actor=user)
        write_audit(session, OPERATOR, "console.revoke", target=user,
                    detail={"via": "cli", "count": count})
    database.dispose()
    typer.echo(f"{user} のサインインを {count} 件無効にしました。")
