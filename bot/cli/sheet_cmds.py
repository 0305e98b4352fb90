"""CLI commands for the operator: ``soudan sheets list|show|export`` and ``soudan db upgrade``.

These act as the shell operator (an administrator, audited as
``cli:local:operator``); the CIO補佐's access-controlled commands are ``soudan review``.

Examples:
    soudan db upgrade
    soudan sheets list --status submitted --department 市民課
    soudan sheets show 2026-0001
    soudan sheets export --format xlsx --out sheets.xlsx
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import typer

from bot.cli.context import cli_settings, cli_zone
from bot.cli.output import ForceOption, check_output, write_output
from flows.answer_reading import short_yen
from storage import (
    STATUS_LABELS,
    AuditResult,
    ConsultationSheet,
    Database,
    NotFoundError,
    SheetStatus,
    actor_key,
    comments_by_sheet,
    find_sheet,
    list_sheet_comments,
    list_sheet_transitions,
    list_sheets,
    record_audit,
    spec_memos,
    status_label,
)
from storage.export import (
    EXPORT_FORMATS,
    ExportFormat,
    export_sheets,
    sheet_document,
)
from storage.lifecycle import parse_status
from storage.sheet_view import COMMENT_KIND_LABELS, sheet_content
from storage.spreadsheet import display_width

OPERATOR = actor_key("cli", "local", "operator")
"""Who the audit log names for commands run from the shell."""

sheets_app = typer.Typer(help="相談シートの一覧・表示・出力（運用者向け）", no_args_is_help=True)
db_app = typer.Typer(help="データベースの管理", no_args_is_help=True)

StatusOption = Annotated[
    list[str] | None,
    typer.Option(
        "--status",
        help="状態で絞り込む（複数指定可。例: 提出済み / submitted。"
        + "、".join(STATUS_LABELS.values()) + "）",
    ),
]


def parse_statuses(values: list[str] | None) -> list[SheetStatus] | None:
    """``--status`` values (labels or values) as statuses; a Japanese error otherwise."""
    if not values:
        return None
    try:
        return [parse_status(value) for value in values]
    except ValueError as error:
        typer.echo(str(error), err=True)
        raise typer.Exit(2) from error
DepartmentOption = Annotated[str | None, typer.Option("--department", help="所管課で絞り込む")]
TenantOption = Annotated[str | None, typer.Option("--tenant", help="ワークスペース／テナントで絞り込む")]


def register(app: typer.Typer) -> None:
    """Add ``sheets …`` and ``db …`` to the ``soudan`` app."""
    app.add_typer(sheets_app, name="sheets")
    app.add_typer(db_app, name="db")


def _database(*, upgrade: bool = True) -> Database:
    from bot.wiring import open_database

    return open_database(cli_settings(), upgrade=upgrade)


def _audit(database: Database, action: str, target: str | None, **detail: Any) -> None:
    with database.session() as session:
        record_audit(
            session=session, actor=OPERATOR, action=action, target=target,
            result=AuditResult.ALLOWED, detail={"via": "cli", **detail},
        )


# --- db ------------------------------------------------------------------------------------


@db_app.command("upgrade")
def upgrade() -> None:
    """データベースを最新のスキーマに更新する（何度実行しても安全）。"""
    database = _database(upgrade=False)
    before = database.current_revision()
    database.upgrade()
    after = database.current_revision()
    where = repr(database)
    if before == after:
        typer.echo(f"データベースは最新です（リビジョン {after}）: {where}")
    else:
        typer.echo(f"データベースを更新しました（{before or '空'} → {after}）: {where}")
    database.dispose()


@db_app.command("status")
def status() -> None:
    """データベースのスキーマが最新かどうかを表示する。"""
    database = _database(upgrade=False)
    current, head = database.current_revision(), database.head_revision()
    if current == head:
        typer.echo(f"最新です（リビジョン {current}）")
    else:
        typer.echo(
            f"更新が必要です（現在 {current or '空'}、最新 {head}）。"
            "`soudan db upgrade` を実行してください。"
        )
        raise typer.Exit(1)


# --- sheets ----------------------------------------------------------------------------------


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - display_width(text))


@sheets_app.command("list")
def list_command(
    status: StatusOption = None,
    department: DepartmentOption = None,
    tenant: TenantOption = None,
    limit: Annotated[int, typer.Option(help="表示する最大件数")] = 50,
) -> None:
    """相談シートを新しい順に一覧表示する。"""
    database = _database()
    with database.session() as session:
        sheets = list_sheets(
            session=session, statuses=parse_statuses(status), department=department,
            tenant=tenant, limit=limit,
        )
    _audit(database, "sheet.list", None, count=len(sheets))
    if not sheets:
        typer.echo("条件に合う相談シートはありません。")
        return
    zone = ZoneInfo(cli_settings().timezone)
    header = ("整理番号", "状態", "所管課", "イニシャルコスト", "作成日", "対象業務")
    widths = (10, 9, 16, 16, 11)
    typer.echo("  ".join(_pad(h, w) for h, w in zip(header, widths, strict=False)) + header[-1])
    for sheet in sheets:
        cells = (
            sheet.reference,
            status_label(sheet.status),
            sheet.department or "（未設定）",
            short_yen(sheet.initial_cost),
            sheet.created_at.astimezone(zone).strftime("%Y-%m-%d"),
        )
        line = "  ".join(_pad(c, w) for c, w in zip(cells, widths, strict=True))
        typer.echo(line + sheet.business)
    typer.echo(f"{len(sheets)} 件")


def _show_text(
    sheet: ConsultationSheet, comments: list[Any], moves: list[Any], zone: ZoneInfo,
    memos: list[Any] | None = None,
) -> str:
    def when(moment: Any) -> str:
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") if moment else "—"

    content = sheet_content(sheet.sections)
    lines = [
        f"相談シート {sheet.reference}（{status_label(sheet.status)}）",
        f"  所管課: {sheet.department or '（未設定）'}",
        f"  相談者: {sheet.requester_name or sheet.requester_id}",
        f"  対象業務: {sheet.business or '—'}",
    ]
    if sheet.initial_cost is not None:
        lines.append(f"  イニシャルコスト: {short_yen(sheet.initial_cost)}")
    lines += [f"  {d.label}: {d.value_label}" for d in content.headline]
    lines.append(
        f"  作成: {when(sheet.created_at)}  提出: {when(sheet.submitted_at)}  "
        f"確認: {when(sheet.reviewed_at)}  完了: {when(sheet.closed_at)}"
    )
    flow_title = None
    for answer in content.answers:
        if answer.flow_title != flow_title:
            flow_title = answer.flow_title
            lines.append(f"回答（{flow_title}）:" if flow_title else "回答:")
        lines.append(f"  {answer.label}: {answer.text}")
    if content.decisions:
        lines.append("判断と根拠:")
        for decision in content.decisions:
            head = (
                f"{decision.label}: {decision.value_label}"
                if decision.kind == "decision" else decision.label
            )
            lines.append(f"  ■ {head}" + (f" — {decision.statement}" if decision.statement else ""))
            for citation in decision.citations:
                lines.append(f"      根拠: {citation}")
    if sheet.questions:
        lines.append("相談中の質問:")
        for question in sheet.questions:
            text = question.get("text", "") if isinstance(question, dict) else str(question)
            lines.append(f"  ・{text}")
    if moves:
        lines.append("状態の履歴:")
        for move in moves:
            lines.append(
                f"  {when(move.at)}  {status_label(move.from_status)} → {status_label(move.to_status)}"
            )
    if comments:
        lines.append("コメント:")
        for comment in comments:
            kind = COMMENT_KIND_LABELS.get(str(comment.kind), "コメント")
            lines.append(f"  {when(comment.created_at)}  {kind}（{comment.author_name or 'CIO補佐'}）: "
                         f"{comment.text}")
    if memos:
        lines.append("仕様書（案）レビューメモ:")
        for memo in memos:
            lines.append(f"  {when(memo.created_at)}  {memo.file_name}: {memo.summary}")
    return "\n".join(lines)


@sheets_app.command("show")
def show_command(
    key: Annotated[str, typer.Argument(help="整理番号（例: 2026-0001）または ID")],
    as_json: Annotated[bool, typer.Option("--json", help="JSON で出力する")] = False,
) -> None:
    """相談シート 1 件の内容・判断の根拠・履歴・コメントを表示する。"""
    database = _database()
    with database.session() as session:
        try:
            sheet = find_sheet(session=session, key=key)
        except NotFoundError as error:
            typer.echo(str(error), err=True)
            raise typer.Exit(1) from error
        comments = list_sheet_comments(session=session, sheet_id=sheet.id)
        moves = list_sheet_transitions(session=session, sheet_id=sheet.id)
        memos = spec_memos.list_spec_memos(session=session, sheet_id=sheet.id)
    _audit(database, "sheet.view", sheet.id)
    if as_json:
        document = sheet_document(sheet, comments, memos)
        document["transitions"] = [m.model_dump(mode="json") for m in moves]
        typer.echo(json.dumps(document, ensure_ascii=False, indent=2))
        return
    typer.echo(_show_text(sheet, comments, moves, ZoneInfo(cli_settings().timezone), memos))


@sheets_app.command("export")
def export_command(
    out: Annotated[Path, typer.Option("--out", help="出力先のファイル")],
    export_format: Annotated[
        str, typer.Option("--format", help=f"出力形式: {' / '.join(EXPORT_FORMATS)}")
    ] = "xlsx",
    status: StatusOption = None,
    department: DepartmentOption = None,
    tenant: TenantOption = None,
    force: ForceOption = False,
) -> None:
    """相談シートを JSON・CSV（UTF-8 BOM 付き）・Excel に出力する。"""
    if export_format not in EXPORT_FORMATS:
        typer.echo(
            f"形式「{export_format}」は使えません。{' / '.join(EXPORT_FORMATS)} のどれかを"
            "指定してください。",
            err=True,
        )
        raise typer.Exit(2)
    chosen: ExportFormat = export_format
    target = check_output(out, cli_settings(), force=force)
    database = _database()
    with database.session() as session:
        sheets = list_sheets(
            session=session, statuses=parse_statuses(status), department=department,
            tenant=tenant,
        )
        comments = comments_by_sheet(session=session, sheet_ids=[s.id for s in sheets])
        memos = spec_memos.memos_by_sheet(session=session, sheet_ids=[s.id for s in sheets])
    data = export_sheets(sheets, chosen, comments, cli_zone(), memos)
    write_output(target, data, force=force)
    _audit(database, "sheet.export", None, format=chosen, count=len(sheets))
    typer.echo(f"{len(sheets)} 件の相談シートを {out} に出力しました（{chosen}）。")
