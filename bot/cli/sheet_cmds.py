"""CLI commands: ``soudan sheets list|show|export --as USER``, ``soudan admin sheets …``
and ``soudan db upgrade|status``.

``sheets`` acts as the user ``--as`` names, through the policy
(:func:`bot.core.policy.decide`): a CIO補佐 sees every sheet of their tenant, staff
their department's (a pending department: the sheets they requested), an
administrator none; each attempt, allowed or refused, leaves one audit row
(``sheet.list`` / ``sheet.view`` / ``sheet.export``, ``via=cli``). ``admin sheets``
bypasses the policy for the operator at the shell (backups, migrations), audited
with the OS user as actor (``admin.sheets.list`` / ``.show`` / ``.export``).

Examples:
    soudan db upgrade
    soudan sheets list --as slack:T0123:U0456 --status submitted --department 市民課
    soudan sheets show 2026-0001 --as U0456
    soudan sheets export --as U0456 --format xlsx --out sheets.xlsx
    soudan admin sheets export --format json --out backup.json
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, cast
from zoneinfo import ZoneInfo

import typer
from sqlmodel import Session

from bot.cli.acting import AsOption, admin_app, named_user, os_operator, refuse
from bot.cli.context import cli_settings, cli_zone
from bot.cli.output import ForceOption, check_output, write_output
from bot.core.policy import Actor, Scope, Sheet, decide, write_audit
from flows.answer_reading import short_yen
from storage import (
    STATUS_LABELS,
    ConsultationSheet,
    Database,
    NotFoundError,
    SheetStatus,
    comments_by_sheet,
    find_sheet,
    list_sheet_comments,
    list_sheet_transitions,
    list_sheets,
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
from storage.sheet_view import COMMENT_KIND_LABELS, answer_lines_by_flow, sheet_content
from storage.spreadsheet import display_width

sheets_app = typer.Typer(
    help="相談シートの一覧・表示・出力（--as で指定した利用者として。閲覧できる範囲だけ）",
    no_args_is_help=True,
)
admin_sheets_app = typer.Typer(
    help="すべての相談シートの一覧・表示・出力（バックアップ・移行用。監査ログに残ります）",
    no_args_is_help=True,
)
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
    """Add ``sheets …``, ``admin sheets …`` and ``db …`` to the ``soudan`` app."""
    app.add_typer(sheets_app, name="sheets")
    app.add_typer(admin_app, name="admin")
    admin_app.add_typer(admin_sheets_app, name="sheets")
    app.add_typer(db_app, name="db")


def _database(*, upgrade: bool = True) -> Database:
    from bot.wiring import open_database

    return open_database(cli_settings(), upgrade=upgrade)


@dataclass(frozen=True)
class Reader:
    """Who reads the sheets: a named user through the policy, or the OS operator
    bypassing it (``soudan admin sheets``)."""

    actor: Actor
    bypass: bool = False

    def audited_as(self, what: str) -> str:
        """The audit action: ``sheet.<what>`` or ``admin.sheets.<what>``."""
        return f"admin.sheets.{what}" if self.bypass else f"sheet.{what}"


def _named(database: Database, spec: str) -> Reader:
    return Reader(named_user(database, spec))


def _operator() -> Reader:
    return Reader(os_operator(), bypass=True)


def _visible(
    session: Session,
    scope: Scope | None,
    *,
    statuses: list[SheetStatus] | None,
    department: str | None,
    tenant: str | None,
    limit: int | None = None,
) -> list[ConsultationSheet]:
    """The sheets matching the filters, within ``scope`` (``None``: every sheet)."""
    if scope is None:
        return list_sheets(session=session, statuses=statuses, department=department,
                           tenant=tenant, limit=limit)
    if (tenant is not None and tenant != scope.tenant) or (
        department is not None and scope.department not in (None, department)
    ):
        return []
    rows = list_sheets(
        session=session, statuses=statuses, tenant=scope.tenant,
        department=department or scope.department,
        requester_id=scope.requester[1] if scope.requester else None, limit=limit,
    )
    return [row for row in rows if scope.includes(Sheet.of(row))]


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


LimitOption = Annotated[int, typer.Option(help="表示する最大件数")]


@sheets_app.command("list")
def list_command(
    as_user: AsOption,
    status: StatusOption = None,
    department: DepartmentOption = None,
    tenant: TenantOption = None,
    limit: LimitOption = 50,
) -> None:
    """閲覧できる相談シートを新しい順に一覧表示する。"""
    database = _database()
    _list(database, _named(database, as_user), status, department, tenant, limit)


@admin_sheets_app.command("list")
def admin_list_command(
    status: StatusOption = None,
    department: DepartmentOption = None,
    tenant: TenantOption = None,
    limit: LimitOption = 50,
) -> None:
    """すべての相談シートを新しい順に一覧表示する（監査ログに残ります）。"""
    _list(_database(), _operator(), status, department, tenant, limit)


def _list(
    database: Database, reader: Reader, status: list[str] | None, department: str | None,
    tenant: str | None, limit: int,
) -> None:
    statuses = parse_statuses(status)
    decision = None if reader.bypass else decide(reader.actor, "list")
    sheets: list[ConsultationSheet] = []
    with database.session() as session:
        if decision is None or decision.allowed:
            sheets = _visible(session, decision.scope if decision else None, statuses=statuses,
                              department=department, tenant=tenant, limit=limit)
            write_audit(session, reader.actor, reader.audited_as("list"),
                        detail={"count": len(sheets)})
        else:
            write_audit(session, reader.actor, reader.audited_as("list"), "denied")
    if decision is not None and not decision.allowed:
        raise refuse(decision.reason)
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
    lines += answer_lines_by_flow(content)
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


KeyArgument = Annotated[str, typer.Argument(help="整理番号（例: 2026-0001）または ID")]
JsonOption = Annotated[bool, typer.Option("--json", help="JSON で出力する")]


@sheets_app.command("show")
def show_command(key: KeyArgument, as_user: AsOption, as_json: JsonOption = False) -> None:
    """閲覧できる相談シート 1 件の内容・判断の根拠・履歴・コメントを表示する。"""
    database = _database()
    _show(database, _named(database, as_user), key, as_json)


@admin_sheets_app.command("show")
def admin_show_command(key: KeyArgument, as_json: JsonOption = False) -> None:
    """相談シート 1 件を表示する（アクセス制御を通さず、監査ログに残ります）。"""
    _show(_database(), _operator(), key, as_json)


def _show(database: Database, reader: Reader, key: str, as_json: bool) -> None:
    refusal: str | None = None
    with database.session() as session:
        try:
            sheet: ConsultationSheet | None = find_sheet(session=session, key=key)
        except NotFoundError as error:
            sheet, refusal = None, str(error)
        if not reader.bypass:
            # A missing sheet and another department's get the same answer.
            decision = decide(reader.actor, "view", Sheet.of(sheet) if sheet else None)
            refusal = None if decision.allowed else decision.reason
        action = reader.audited_as("show" if reader.bypass else "view")
        if sheet is None or refusal is not None:
            write_audit(session, reader.actor, action, "denied",
                        target=sheet.id if sheet else None)
        else:
            comments = list_sheet_comments(session=session, sheet_id=sheet.id)
            moves = list_sheet_transitions(session=session, sheet_id=sheet.id)
            memos = spec_memos.list_spec_memos(session=session, sheet_id=sheet.id)
            write_audit(session, reader.actor, action, target=sheet.id)
    if sheet is None or refusal is not None:
        raise refuse(refusal or "")
    if as_json:
        document = sheet_document(sheet, comments, memos)
        document["transitions"] = [m.model_dump(mode="json") for m in moves]
        typer.echo(json.dumps(document, ensure_ascii=False, indent=2))
        return
    typer.echo(_show_text(sheet, comments, moves, ZoneInfo(cli_settings().timezone), memos))


OutOption = Annotated[Path, typer.Option("--out", help="出力先のファイル")]
FormatOption = Annotated[
    str, typer.Option("--format", help=f"出力形式: {' / '.join(EXPORT_FORMATS)}")
]


@sheets_app.command("export")
def export_command(
    out: OutOption,
    as_user: AsOption,
    export_format: FormatOption = "xlsx",
    status: StatusOption = None,
    department: DepartmentOption = None,
    tenant: TenantOption = None,
    force: ForceOption = False,
) -> None:
    """閲覧できる相談シートを JSON・CSV（UTF-8 BOM 付き）・Excel に出力する。"""
    _export(as_user, out, export_format, status, department, tenant, force)


@admin_sheets_app.command("export")
def admin_export_command(
    out: OutOption,
    export_format: FormatOption = "xlsx",
    status: StatusOption = None,
    department: DepartmentOption = None,
    tenant: TenantOption = None,
    force: ForceOption = False,
) -> None:
    """すべての相談シートを出力する（バックアップ・移行用。監査ログに残ります）。"""
    _export(None, out, export_format, status, department, tenant, force)


def _export(
    as_user: str | None, out: Path, export_format: str, status: list[str] | None,
    department: str | None, tenant: str | None, force: bool,
) -> None:
    if export_format not in EXPORT_FORMATS:
        typer.echo(
            f"形式「{export_format}」は使えません。{' / '.join(EXPORT_FORMATS)} のどれかを"
            "指定してください。",
            err=True,
        )
        raise typer.Exit(2)
    chosen = cast(ExportFormat, export_format)
    statuses = parse_statuses(status)
    target = check_output(out, cli_settings(), force=force)
    database = _database()
    reader = _operator() if as_user is None else _named(database, as_user)
    decision = None if reader.bypass else decide(reader.actor, "export")
    with database.session() as session:
        if decision is not None and not decision.allowed:
            write_audit(session, reader.actor, reader.audited_as("export"), "denied",
                        detail={"format": chosen})
            sheets: list[ConsultationSheet] = []
        else:
            sheets = _visible(session, decision.scope if decision else None, statuses=statuses,
                              department=department, tenant=tenant)
            comments = comments_by_sheet(session=session, sheet_ids=[s.id for s in sheets])
            memos = spec_memos.memos_by_sheet(session=session, sheet_ids=[s.id for s in sheets])
    if decision is not None and not decision.allowed:
        raise refuse(decision.reason)
    data = export_sheets(sheets, chosen, comments, cli_zone(), memos)
    write_output(target, data, force=force)
    with database.session() as session:
        write_audit(session, reader.actor, reader.audited_as("export"),
                    detail={"format": chosen, "count": len(sheets)})
    typer.echo(f"{len(sheets)} 件の相談シートを {out} に出力しました（{chosen}）。")
