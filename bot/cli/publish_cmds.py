"""CLI: ``soudan flow publish`` — make every running replica run this machine's flow files.

The flows a replica runs are stored in the database (:mod:`bot.core.flow_catalog`);
``soudan serve`` publishes its own files at start-up, and this command publishes
``SOUDAN_FLOWS_DIR`` without starting anything. Every replica picks the change up
within a few seconds, without a restart. Files that do not validate are refused with
one Japanese line naming the file, and nothing is published.

Example:
    soudan flow publish
"""

from __future__ import annotations

import os
import socket

import typer

from bot.cli.context import cli_settings


def register(app: typer.Typer) -> None:
    """Add ``publish`` to the ``soudan flow`` group."""
    from bot.cli.flow_cmds import flow_app

    flow_app.command("publish")(publish_flows)


def publish_flows() -> None:
    """フロー定義を検証し、稼働中のすべてのサーバーが使うフローとして登録する（再起動は不要）。"""
    from bot.core.flow_catalog import FlowCatalog, FlowFiles
    from bot.wiring import open_database
    from flows import FlowDefinitionError

    settings = cli_settings()
    try:
        files = FlowFiles.read(settings.flows_dir)
        flows = files.load()
    except FlowDefinitionError as error:
        line = " ".join(str(error).split())
        typer.echo(f"登録できません: フロー定義に誤りがあります。{line}", err=True)
        raise typer.Exit(2) from None
    if not flows:
        typer.echo(f"登録できません: {settings.flows_dir} にフロー定義（*.yaml）がありません。",
                   err=True)
        raise typer.Exit(2)
    database = open_database(settings)
    try:
        changed = FlowCatalog(database, files).publish(
            by=f"cli:{socket.gethostname()}:{os.getpid()}"
        )
    finally:
        database.dispose()
    names = "、".join(sorted(flows))
    if changed:
        typer.echo(f"フロー（{names}）を登録しました。稼働中のサーバーは数秒以内に切り替わります。"
                   f"（版 {files.digest[:12]}）")
    else:
        typer.echo(f"登録済みのフローと同じです（版 {files.digest[:12]}）。")
