"""CLI commands (running): ``soudan serve`` and ``soudan start`` (what ``make run`` calls)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from bot.logs import configure_logging
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.wiring import Services

_NO_CHANNEL = (
    "Slack・Teams の認証情報が設定されていません。端末で試すには `soudan chat` を使ってください。"
    "（Slack: SLACK_BOT_TOKEN と SLACK_SIGNING_SECRET または SLACK_APP_TOKEN、"
    "Teams: MICROSOFT_APP_ID と MICROSOFT_APP_PASSWORD）"
)


def check_flows(settings: Settings) -> None:
    """Stop start-up with one Japanese line when a flow file is malformed.

    Every flow in ``SOUDAN_FLOWS_DIR`` must load: a consultation that silently
    disappeared would be worse than a service that says which file to fix.
    """
    from flows import FlowDefinitionError, load_flows

    try:
        load_flows(settings.flows_dir)
    except FlowDefinitionError as error:
        line = " ".join(str(error).split())
        typer.echo(f"起動できません: フロー定義に誤りがあります。{line}", err=True)
        raise typer.Exit(2) from None


def register(app: typer.Typer) -> None:
    """Add ``serve`` and ``start`` to the ``soudan`` app."""
    app.command("serve")(serve)
    app.command("start")(start)


def serve(
    host: Annotated[str | None, typer.Option(help="待ち受けるアドレス")] = None,
    port: Annotated[int | None, typer.Option(help="待ち受けるポート")] = None,
) -> None:
    """Slack（/slack/events または Socket Mode）・Teams（/api/messages）・/healthz を起動する。"""
    from bot.knowledge_setup import open_knowledge
    from bot.wiring import build_services

    settings = Settings()
    check_flows(settings)
    services = build_services(settings, knowledge=open_knowledge(settings, warm=True))
    _serve(services, host=host or settings.host, port=port or settings.port)


def start() -> None:
    """準備（DB 移行・モデル・文書の取り込み）をしてから、チャットまたはサーバーを起動する。"""
    from bot.chat import TerminalChat
    from bot.health import index_health
    from bot.knowledge_setup import open_knowledge
    from bot.wiring import build_services

    settings = Settings()
    check_flows(settings)
    knowledge = open_knowledge(settings)
    health = index_health(knowledge)  # built with another model: ingest rebuilds it
    if knowledge.is_stale() or (health is not None and health.problem is not None):
        typer.echo(f"ガイドライン文書を取り込みます: {settings.docs_dir}")
        typer.echo(knowledge.ingest(progress=True).summary_ja())
    services = build_services(settings, knowledge=knowledge)
    if settings.slack_configured or settings.teams_configured:
        _serve(services, host=settings.host, port=settings.port)
        return
    configure_logging(settings, to_file=settings.data_dir / "chat.log")
    TerminalChat(services.assistant).run()


def _serve(services: Services, *, host: str, port: int) -> None:
    from bot import server

    settings = services.settings
    configure_logging(settings)
    if not settings.slack_configured and not settings.teams_configured:
        typer.echo(_NO_CHANNEL, err=True)
    try:
        app = server.build_web_app(services)
    except server.ChannelConfigError as error:
        typer.echo(f"起動できません: {error}", err=True)
        raise typer.Exit(2) from error
    typer.echo(f"soudan を http://{host}:{port} で起動します（/healthz）。")
    server.serve_app(app, host=host, port=port)
