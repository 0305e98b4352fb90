"""CLI commands (flows and the terminal chat): ``soudan chat``, ``soudan flow run|list|document``.

``soudan flow document`` reads a 相談シート, so it acts as the person ``--as`` names and
asks the policy (``view``), like ``soudan sheets show``; ``flow run`` and ``flow list``
read only the flow files (``flow run --save`` creates a draft for ``--user``).
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, NoReturn
from zoneinfo import ZoneInfo

import typer
import yaml

from bot.cli.acting import AsOption
from bot.cli.context import cli_settings
from bot.cli.output import ForceOption, check_output, write_output
from flows import FlowRun

flow_app = typer.Typer(help="相談フロー（YAML 定義）の実行と確認", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add ``chat`` and ``flow …`` to the ``soudan`` app."""
    app.command("chat")(chat)
    app.add_typer(flow_app, name="flow")


def chat() -> None:
    """端末チャットを開く（Q&A と相談フロー。Slack/Teams の認証情報は不要）。管理画面も localhost で開く。"""
    from bot.cli.serve_cmds import check_flows, run_terminal_chat
    from bot.knowledge_setup import open_knowledge
    from bot.logs import configure_logging
    from bot.wiring import build_services

    settings = cli_settings()
    # Log lines go to a file: in the chat, only the assistant's Japanese replies show.
    configure_logging(settings, to_file=settings.data_dir / "chat.log")
    check_flows(settings)
    services = build_services(
        settings, knowledge=open_knowledge(settings, warm=True), publish_flows=True
    )
    run_terminal_chat(services)


@flow_app.command("list")
def list_flows() -> None:
    """読み込める相談フローを検証して一覧表示する。"""
    from flows import FlowDefinitionError, load_flows

    settings = cli_settings()
    try:
        flows = load_flows(settings.flows_dir)
    except FlowDefinitionError as error:
        typer.echo(f"フロー定義に誤りがあります: {error}", err=True)
        raise typer.Exit(2) from error
    for flow_id, definition in sorted(flows.items()):
        typer.echo(f"{flow_id}\t{definition.title}\t{len(definition.steps)} 問")


@flow_app.command("run")
def run_flow(
    flow_id: Annotated[str, typer.Argument(help="フロー ID（`soudan flow list` の1列目）")],
    answers: Annotated[
        Path, typer.Option("--answers", help="スロット名→回答 の YAML / JSON ファイル")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="結果を JSON で出力する")] = False,
    department: Annotated[str | None, typer.Option(help="相談シートの所管課")] = None,
    user: Annotated[str, typer.Option(help="相談者の ID")] = "cli",
    save: Annotated[
        bool, typer.Option("--save", help="結果を相談シート（下書き）として保存する（既定: 保存しない）")
    ] = False,
) -> None:
    """フローを回答ファイルで非対話的に実行し、回答と判断を表示する（確認用。--save で保存）。"""
    from bot.wiring import open_database
    from flows import (
        FlowDefinitionError,
        FlowEngine,
        ScriptedAnswerError,
        load_flows,
        run_with_answers,
    )
    from flows.sheet_section import sheet_section
    from storage import ConsultationSheetCreate, create_sheet, put_sheet_section

    settings = cli_settings()
    try:
        flows = load_flows(settings.flows_dir)
    except FlowDefinitionError as error:
        _fail(f"フロー定義に誤りがあります: {error}")
    if flow_id not in flows:
        _fail(f"フロー「{flow_id}」はありません。使えるフロー: {', '.join(sorted(flows))}")
    given = _read_answers(answers)
    today = datetime.now(ZoneInfo(settings.timezone)).date()
    try:
        result = run_with_answers(flows[flow_id], given, today)
    except ScriptedAnswerError as error:
        _fail(str(error))

    sheet_id = reference = None
    if save:
        database = open_database(settings)
        with database.session() as session:
            sheet = create_sheet(
                session=session,
                sheet_in=ConsultationSheetCreate(
                    channel="cli", tenant="local", conversation=f"cli-{uuid.uuid4().hex[:12]}",
                    requester_id=user, department=department, flow_id=flow_id,
                ),
            )
            section = sheet_section(FlowEngine(flows[flow_id]), result.state)
            sheet = put_sheet_section(session=session, sheet_id=sheet.id, section=section)
            sheet_id, reference = sheet.id, sheet.reference
    payload = _run_payload(result, sheet_id=sheet_id, reference=reference)
    if as_json:
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    if reference is not None:
        typer.echo(f"相談シート {reference}（下書き）を作成しました。")
    else:
        typer.echo("確認のための実行です（相談シートは作成していません。保存するには --save）。")
    for label, value in result.rows:
        typer.echo(f"  {label}: {value}")
    for decision in result.decisions:
        cites = " / ".join(
            dict.fromkeys(f"{c.title or c.doc} > {c.section}" for c in decision.cites)
        )
        typer.echo(f"■ {decision.label}: {decision.statement}")
        if cites:
            typer.echo(f"    根拠: {cites}")


def _run_payload(
    result: FlowRun, *, sheet_id: str | None, reference: str | None
) -> dict[str, Any]:
    return {**result.to_dict(), "sheet_id": sheet_id, "reference": reference}


def _read_answers(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as error:
        _fail(f"回答ファイル {path} を読めません: {error.strerror or error}")
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as error:
        _fail(f"回答ファイル {path} の形式が正しくありません（YAML または JSON）: {error}")
    if not isinstance(data, dict):
        _fail(f"回答ファイル {path} は「スロット名: 回答」の対応表にしてください。")
    return {str(key): value for key, value in data.items()}


def _fail(message: str) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(2)


@flow_app.command("document")
def flow_document(
    key: Annotated[str, typer.Argument(help="相談シートの整理番号（例: 2026-0002）または ID")],
    out: Annotated[Path, typer.Option("--out", help="出力先（.docx または .md）")],
    as_user: AsOption,
    force: ForceOption = False,
) -> None:
    """フローが作る文書（RFI フローの情報提供依頼書（案））を Word / Markdown で出力する（--as の利用者が閲覧できる相談シートだけ）。"""
    import storage
    from bot.cli.acting import named_user, refuse
    from bot.core.documents import DocumentContext, sheet_document
    from bot.core.policy import Sheet, decide, write_audit
    from bot.wiring import open_database
    from flows import FlowDefinitionError, load_flows
    from flows.rfi_document import render_docx, render_markdown
    from storage.word import DocumentMeta

    settings = cli_settings()
    target = check_output(out, settings, force=force)
    now = datetime.now(ZoneInfo(settings.timezone))
    try:
        flows = load_flows(settings.flows_dir)
    except FlowDefinitionError as error:
        _fail(f"フロー定義を読み込めません: {error}")
    context = DocumentContext(now.date(), flows, settings.municipality)
    database = open_database(settings)
    actor = named_user(database, as_user)
    with database.session() as session:
        try:
            sheet: storage.ConsultationSheet | None = storage.find_sheet(session=session, key=key)
        except storage.NotFoundError:
            sheet = None
        # A missing sheet and one the person may not read get the same answer.
        decision = decide(actor, "view", Sheet.of(sheet) if sheet else None)
        if sheet is None or not decision.allowed:
            write_audit(session, actor, "sheet.document", "denied",
                        target=sheet.id if sheet else None)
        else:
            found = sheet_document(sheet)
            if found is None:
                _fail(f"相談シート {sheet.reference} には文書を作るフローの回答がありません"
                      "（RFI の事項を整理した相談シートを指定してください）。")
            name, build = found
            draft = build(session, sheet, context)
            write_audit(session, actor, "sheet.document", target=sheet.id)
    if sheet is None or not decision.allowed:
        raise refuse(decision.reason)
    if out.suffix.lower() == ".docx":
        meta = DocumentMeta(author=sheet.department or settings.municipality or "soudan",
                            created=now)
        write_output(target, render_docx(draft, meta), force=force)
    else:
        write_output(target, render_markdown(draft).encode("utf-8"), force=force)
    typer.echo(f"{out} に{name}を出力しました。")
