"""CLI commands (running): ``soudan serve`` and ``soudan start`` (what ``make run`` calls)."""

from __future__ import annotations

import logging
from typing import Annotated

import typer

from bot.settings import Settings


def register(app: typer.Typer) -> None:
    """Add ``serve`` and ``start`` to the ``soudan`` app."""
    app.command("serve")(serve)
    app.command("start")(start)


def serve(
    host: Annotated[str | None, typer.Option(help="待ち受けるアドレス")] = None,
    port: Annotated[int | None, typer.Option(help="待ち受けるポート")] = None,
) -> None:
    """Slack（/slack/events または Socket Mode）・Teams（/api/messages）・/healthz を起動する。"""
    from bot import server
    from bot.wiring import build_services

    settings = Settings()
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    if not settings.slack_configured and not settings.teams_configured:
        typer.echo(
            "Slack・Teams の認証情報が設定されていません。端末で試すには `soudan chat` を使ってください。"
            "（Slack: SLACK_BOT_TOKEN と SLACK_SIGNING_SECRET または SLACK_APP_TOKEN、"
            "Teams: MICROSOFT_APP_ID と MICROSOFT_APP_PASSWORD）",
            err=True,
        )
    services = build_services(settings)
    try:
        app = server.build_web_app(services)
    except server.ChannelConfigError as error:
        typer.echo(f"起動できません: {error}", err=True)
        raise typer.Exit(2) from error
    bind_host, bind_port = host or settings.host, port or settings.port
    typer.echo(f"soudan を http://{bind_host}:{bind_port} で起動します（/healthz）。")
    server.serve_app(app, host=bind_host, port=bind_port)


def start() -> None:
    """準備（DB 移行・モデル・文書の取り込み）をしてから、チャットまたはサーバーを起動する。"""
    from bot.wiring import build_services, knowledge_config
    from knowledge import KnowledgeBase

    settings = Settings()
    knowledge = KnowledgeBase(knowledge_config(settings))
    services = build_services(settings, knowledge=knowledge)
    if knowledge.is_stale():
        typer.echo(f"ガイドライン文書を取り込みます: {settings.docs_dir}")
        report = knowledge.ingest(progress=True)
        typer.echo(report.summary() if hasattr(report, "summary") else str(report))
    if settings.slack_configured or settings.teams_configured:
        serve(None, None)
        return
    from bot.chat import TerminalChat

    TerminalChat(services.assistant).run()
