"""CLI commands (running): ``soudan serve`` and ``soudan start`` (what ``make run`` calls)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from bot.cli.context import cli_settings
from bot.logs import configure_logging
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.web.local import LocalConsole
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
    from flows.offering import UnknownOfferedFlowError, check_tenant_flows

    try:
        check_tenant_flows(load_flows(settings.flows_dir), settings.tenant_flows)
    except FlowDefinitionError as error:
        line = " ".join(str(error).split())
        typer.echo(f"起動できません: フロー定義に誤りがあります。{line}", err=True)
        raise typer.Exit(2) from None
    except UnknownOfferedFlowError as error:
        typer.echo(f"起動できません: SOUDAN_TENANT_FLOWS に誤りがあります。{error}", err=True)
        raise typer.Exit(2) from None


def register(app: typer.Typer) -> None:
    """Add ``serve`` and ``start`` to the ``soudan`` app."""
    app.command("serve")(serve)
    app.command("start")(start)


def serve(
    host: Annotated[str | None, typer.Option(help="待ち受けるアドレス")] = None,
    port: Annotated[int | None, typer.Option(help="待ち受けるポート")] = None,
) -> None:
    """Slack（/slack/events または Socket Mode）・Teams（/api/messages）・管理画面（/console/）・/healthz を起動する。"""
    from bot.knowledge_setup import open_knowledge
    from bot.wiring import build_services

    settings = cli_settings()
    check_flows(settings)
    services = build_services(
        settings, knowledge=open_knowledge(settings, warm=True), publish_flows=True
    )
    _serve(services, host=host or settings.host, port=port or settings.port)


def start() -> None:
    """準備（DB 移行・モデル・文書の取り込み）をしてから、チャット（と管理画面）またはサーバーを起動する。"""
    from bot.health import index_health
    from bot.knowledge_setup import open_knowledge
    from bot.wiring import build_services

    settings = cli_settings()
    check_flows(settings)
    knowledge = open_knowledge(settings)
    health = index_health(knowledge)  # built with another model: ingest rebuilds it
    if knowledge.is_stale() or (health is not None and health.problem is not None):
        typer.echo(f"ガイドライン文書を取り込みます: {settings.docs_dir}")
        typer.echo(knowledge.ingest(progress=True).summary_ja())
    services = build_services(settings, knowledge=knowledge, publish_flows=True)
    if settings.slack_configured or settings.teams_configured:
        _serve(services, host=settings.host, port=settings.port)
        return
    run_terminal_chat(services)


def run_terminal_chat(services: Services) -> None:
    """The terminal chat, with the web console on localhost beside it (``start``, ``chat``)."""
    from bot.chat import TerminalChat

    settings = services.settings
    configure_logging(settings, to_file=settings.data_dir / "chat.log")
    console = _local_console(services)
    try:
        TerminalChat(services.assistant, database=services.database).run()
    finally:
        if console is not None:
            console.stop()


def _local_console(services: Services) -> LocalConsole | None:
    """Serve the web console beside the terminal chat and print its address (or why not)."""
    from bot.server import build_console_app
    from bot.web.local import LocalConsole

    settings = services.settings
    if not settings.console_enabled:
        return None
    server = LocalConsole(build_console_app(services), settings.host, settings.port)
    try:
        server.start()
    except OSError:
        typer.echo(
            f"管理画面は起動できませんでした（{settings.host}:{settings.port} は使用中です）。"
            "SOUDAN_PORT で別のポートを指定できます。チャットはこのまま使えます。",
            err=True,
        )
        return None
    typer.echo(
        f"管理画面: {settings.console_url}/console/ "
        "（チャットで「管理画面」と入力すると、サインイン用リンクを表示します）"
    )
    return server


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
    if settings.console_enabled:
        typer.echo(f"管理画面: {settings.console_url}/console/ （チャットで「管理画面」と送るとサインイン用リンクが届きます）")
    server.serve_app(app, host=host, port=port)
