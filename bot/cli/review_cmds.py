"""CLI commands (review): ``soudan users …``, ``soudan review …``, ``soudan digest …``.

Review and digest commands act as a registered reviewer named with ``--as``
(``slack:T0123:U0456``, or a user id registered once; resolved by
:func:`bot.cli.acting.named_user`, like ``soudan sheets``); the policy applies and the
audit records that person, with ``via=cli``. User management is the shell
operator's (an administrator: :func:`bot.cli.acting.os_operator`), audited as
``cli:local:<OS user>`` like ``soudan admin …``.

Examples:
    soudan users add U0456 --channel slack --tenant T0123 --role reviewer
    soudan users list --pending
    soudan users confirm-department slack:T0123:U0789
    soudan review list --as U0456 --status submitted
    soudan review return 2026-0012 --comment "予算の積算根拠を追記してください" --as U0456
    soudan digest --week 2026-W47 --format xlsx --out digest.xlsx --as U0456
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, cast

import typer

from bot.cli.acting import named_user, os_operator, refuse
from bot.cli.context import cli_settings, cli_zone
from bot.cli.output import ForceOption, check_output, write_output
from bot.core.messages import ChannelName, Notifier
from bot.digest_schedule import (
    DigestScheduler,
    ScheduleError,
    digest_targets,
    run_every_minute,
)
from bot.logs import configure_logging
from bot.review.desk import ReviewDesk
from bot.review.digest_render import FORMATS, render
from bot.review.outcomes import ReviewRefused
from bot.review.parts import sheet_summary
from bot.review.records import ROLE_LABELS, Actor, Role
from bot.review.store import ReviewStore
from bot.review.weeks import IsoWeek, WeekFormatError
from bot.terminal_markdown import echo_markdown
from bot.users import CHANNELS, UserDirectory, UserEntry, UserFileError
from flows.answer_reading import short_yen
from storage.export import EXPORT_FORMATS
from storage.lifecycle import parse_status, status_label
from storage.models import ConsultationSheet
from storage.sheet_view import (
    COMMENT_KIND_LABELS,
    answer_lines_by_flow,
    decision_lines_text,
    sheet_content,
)

users_app = typer.Typer(help="利用者（役割・所属部署）の登録と一覧", no_args_is_help=True)
review_app = typer.Typer(help="CIO補佐のレビュー（一覧・表示・コメント・差し戻し・受理・完了）",
                         no_args_is_help=True)
digest_app = typer.Typer(help="週次ダイジェスト（表示・出力・定期投稿）")

_AS_HELP = "操作する CIO補佐（channel:tenant:user_id または user_id）"
AsOption = Annotated[str, typer.Option("--as", help=_AS_HELP)]


def register(app: typer.Typer) -> None:
    """Add this area's commands to the ``soudan`` app."""
    app.add_typer(users_app, name="users")
    app.add_typer(review_app, name="review")
    app.add_typer(digest_app, name="digest")


# --- plumbing -----------------------------------------------------------------------------


def _store() -> ReviewStore:
    from bot.wiring import open_database

    return ReviewStore(open_database(cli_settings()))


def _reviewer(store: ReviewStore, spec: str) -> Actor:
    """The reviewer ``--as`` names (:func:`bot.cli.acting.named_user`); an unregistered
    one is refused by the policy, audited."""
    return named_user(store.database, spec, refuse_unknown=False)


def _line(sheet: ConsultationSheet) -> str:
    created = sheet.created_at.astimezone(cli_zone()).strftime("%Y-%m-%d")
    cost = short_yen(sheet.initial_cost)
    return (
        f"{sheet.reference}\t{status_label(sheet.status)}\t{sheet.department or '-'}\t"
        f"{sheet.business}\t{cost}\t{created}"
    )


def _week(text: str | None) -> IsoWeek | None:
    if text is None:
        return None
    try:
        return IsoWeek.parse(text, cli_zone())
    except WeekFormatError as error:
        raise refuse(str(error)) from None


def _output(out: Path | None, force: bool) -> Path | None:
    """Where ``--out`` may write (checked before any work); ``None``: standard output."""
    return None if out is None else check_output(out, cli_settings(), force=force)


def _write(data: bytes, target: Path | None, force: bool, *, markdown: bool = False) -> None:
    if target is None:
        if data.startswith(b"PK"):  # a zip container: xlsx
            raise refuse("xlsx は --out でファイルに保存してください。")
        text = data.decode("utf-8-sig")
        if markdown:
            echo_markdown(text)  # drawn on a terminal, Markdown as is into a pipe
        else:
            typer.echo(text, nl=False)
        return
    write_output(target, data, force=force)
    typer.echo(f"{target} に保存しました（{len(data):,} バイト）。")


# --- users --------------------------------------------------------------------------------


def _change_user(change: Callable[[UserDirectory, Actor], Actor], done: str) -> None:
    """Run one user change as the shell's administrator (:func:`os_operator`) and print
    ``done`` with the user, or the refusal."""
    try:
        saved = change(UserDirectory(_store()), os_operator())
    except ReviewRefused as refusal:
        raise refuse(refusal.message) from None
    typer.echo(f"{done}: {_user_line(saved)}")


@users_app.command("add")
def users_add(
    user_id: Annotated[str, typer.Argument(help="Slack / Teams のユーザー ID")],
    channel: Annotated[str, typer.Option(help=" / ".join(CHANNELS))] = "slack",
    tenant: Annotated[str, typer.Option(help="Slack team id / Teams tenant id")] = "local",
    role: Annotated[str, typer.Option(help="staff / reviewer / admin")] = "staff",
    department: Annotated[str | None, typer.Option(help="所属部署（staff は必須）")] = None,
    name: Annotated[str | None, typer.Option(help="表示名")] = None,
) -> None:
    """利用者を登録（または更新）する。"""
    if channel not in CHANNELS:
        raise refuse(f"--channel は {' / '.join(CHANNELS)} のいずれかです。")
    entry = UserEntry(cast(ChannelName, channel), tenant, user_id, cast(Role, role),
                      department, name)
    _change_user(lambda users, operator: users.add(entry, operator=operator), "登録しました")


@users_app.command("set-role")
def users_set_role(
    user: Annotated[str, typer.Argument(help="channel:tenant:user_id または user_id")],
    role: Annotated[str, typer.Argument(help="staff / reviewer / admin")],
) -> None:
    """利用者の役割を変更する。"""
    _change_user(lambda users, operator: users.set_role(user, role, operator=operator),
                 "変更しました")


@users_app.command("set-department")
def users_set_department(
    user: Annotated[str, typer.Argument(help="channel:tenant:user_id または user_id")],
    department: Annotated[str, typer.Argument(help="所属部署")],
) -> None:
    """利用者の所属部署を変更する。"""
    _change_user(
        lambda users, operator: users.set_department(user, department, operator=operator),
        "変更しました",
    )


@users_app.command("confirm-department")
def users_confirm_department(
    user: Annotated[str, typer.Argument(help="channel:tenant:user_id または user_id")],
) -> None:
    """本人が申告した所属部署を承認する（承認後、その部署の相談シートを閲覧できる）。"""
    _change_user(lambda users, operator: users.confirm_department(user, operator=operator),
                 "承認しました")


@users_app.command("list")
def users_list(
    tenant: Annotated[str | None, typer.Option(help="テナントで絞り込む")] = None,
    pending: Annotated[
        bool, typer.Option("--pending", help="所属部署が承認待ちの利用者だけを表示する")
    ] = False,
) -> None:
    """登録済みの利用者を一覧表示する（承認待ちの所属部署には「承認待ち」と表示）。"""
    users = UserDirectory(_store()).registered(
        tenant, operator=os_operator(), pending=True if pending else None
    )
    if not users:
        typer.echo("承認待ちの所属部署はありません。" if pending else
                   "登録済みの利用者はいません。`soudan users add` で登録してください。")
    for user in users:
        typer.echo(_user_line(user))


@users_app.command("import")
def users_import(file: Annotated[Path, typer.Argument(help="users: の一覧を書いた YAML")]) -> None:
    """YAML ファイルから利用者をまとめて登録する。"""
    try:
        saved = UserDirectory(_store()).import_file(file, operator=os_operator())
    except (UserFileError, ReviewRefused) as error:
        raise refuse(getattr(error, "message", str(error))) from None
    typer.echo(f"{len(saved)} 人を登録しました。")


def _user_line(user: Actor) -> str:
    role = ROLE_LABELS.get(user.role or "", "未登録")
    department = user.department or "-"
    if user.department_pending:
        department += "（承認待ち: soudan users confirm-department）"
    return f"{user.key}\t{role}\t{department}\t{user.display_name or ''}"


# --- review -------------------------------------------------------------------------------


@review_app.command("list")
def review_list(
    as_user: AsOption,
    status: Annotated[
        list[str] | None,
        typer.Option(help="状態（複数可）: 提出済み / submitted など"),
    ] = None,
    department: Annotated[str | None, typer.Option(help="部署")] = None,
    week: Annotated[str | None, typer.Option(help="ISO 週 例: 2026-W47")] = None,
) -> None:
    """相談シートを一覧表示する（状態・部署・週で絞り込み）。"""
    try:
        status = [parse_status(value).value for value in status or ()]
    except ValueError as error:
        raise refuse(str(error)) from None
    store = _store()
    desk = ReviewDesk(store, zone=cli_zone())
    try:
        sheets = desk.list_sheets(_reviewer(store, as_user), statuses=tuple(status or ()),
                                  department=department, week=_week(week))
    except ReviewRefused as refusal:
        raise refuse(refusal.message) from None
    if not sheets:
        typer.echo("該当する相談シートはありません。")
    for sheet in sheets:
        typer.echo(_line(sheet))


@review_app.command("show")
def review_show(
    reference: str,
    as_user: AsOption,
    memo: Annotated[
        bool, typer.Option("--memo", help="仕様書（案）レビューメモの全文（Markdown）も表示する")
    ] = False,
) -> None:
    """相談シートを表示する（整理番号または ID）。仕様書（案）レビューメモがあれば判定の一覧も。"""
    store = _store()
    try:
        detail = ReviewDesk(store, zone=cli_zone()).show(_reviewer(store, as_user), reference)
    except ReviewRefused as refusal:
        raise refuse(refusal.message) from None
    summary = sheet_summary(detail.sheet, cli_zone())
    typer.echo(f"{summary.reference}（{summary.status}）")
    for label, value in summary.rows:
        typer.echo(f"  {label}: {value}")
    content = sheet_content(detail.sheet.sections)
    for line in answer_lines_by_flow(content):
        typer.echo(line)
    if content.decisions:
        typer.echo("判断と根拠:")
        for line in decision_lines_text(content).splitlines():
            typer.echo(f"  ■ {line}")
    if detail.comments:
        typer.echo("コメント:")
    for comment in detail.comments:
        when = comment.created_at.astimezone(cli_zone()).strftime("%Y-%m-%d %H:%M")
        kind = COMMENT_KIND_LABELS.get(comment.kind, "コメント")
        typer.echo(f"  [{when}] {kind}: {comment.text}")
    if detail.memos:
        typer.echo("仕様書（案）レビューメモ:")
    for saved in detail.memos:
        when = saved.created_at.astimezone(cli_zone()).strftime("%Y-%m-%d %H:%M")
        typer.echo(f"  [{when}] {saved.file_name}: {saved.summary}")
        for label, judged in saved.items:
            typer.echo(f"    {label}: {judged}")
        if memo:
            typer.echo("")
            typer.echo(saved.markdown)
    if detail.memos and not memo:
        typer.echo("  （メモの全文は --memo で表示します）")


def _move(kind: str, reference: str, as_user: str, comment: str | None = None) -> None:
    store = _store()
    desk = ReviewDesk(store, _cli_notifiers(), zone=cli_zone())
    actor = _reviewer(store, as_user)
    try:
        if kind == "start":
            outcome = desk.start_review(actor, reference)
        elif kind == "return":
            outcome = desk.return_sheet(actor, reference, comment or "")
        elif kind == "accept":
            outcome = desk.accept(actor, reference, comment)
        else:
            outcome = desk.close(actor, reference)
    except ReviewRefused as refusal:
        raise refuse(refusal.message) from None
    typer.echo(f"{outcome.sheet.reference}: {status_label(outcome.sheet.status)} にしました。"
               f"{outcome.notice}")


def _cli_notifiers() -> dict[str, Notifier]:
    """Channel notifiers for the CLI: those whose credentials are configured.

    Without them a return/accept from the CLI still happens, and the reviewer is told
    that the requester was not notified.
    """
    from bot.wiring import build_notifiers, build_services

    return build_notifiers(build_services(cli_settings()))


@review_app.command("start")
def review_start(reference: str, as_user: AsOption) -> None:
    """確認を開始する（提出済み → 確認中）。"""
    _move("start", reference, as_user)


@review_app.command("comment")
def review_comment(reference: str, text: str, as_user: AsOption) -> None:
    """相談シートにコメントする。"""
    store = _store()
    try:
        ReviewDesk(store, zone=cli_zone()).comment(_reviewer(store, as_user), reference, text)
    except ReviewRefused as refusal:
        raise refuse(refusal.message) from None
    typer.echo(f"{reference} にコメントしました。")


@review_app.command("return")
def review_return(
    reference: str,
    as_user: AsOption,
    comment: Annotated[str, typer.Option(help="差し戻しの理由（依頼者に届きます）")],
) -> None:
    """差し戻す（確認中 → 差し戻し、理由は必須）。"""
    _move("return", reference, as_user, comment)


@review_app.command("accept")
def review_accept(
    reference: str,
    as_user: AsOption,
    comment: Annotated[str | None, typer.Option(help="依頼者へのコメント")] = None,
) -> None:
    """受理する（確認中 → 受理）。"""
    _move("accept", reference, as_user, comment)


@review_app.command("close")
def review_close(reference: str, as_user: AsOption) -> None:
    """完了にする（受理 → 完了）。"""
    _move("close", reference, as_user)


@review_app.command("export")
def review_export(
    as_user: AsOption,
    format: Annotated[str, typer.Option("--format", help=" / ".join(EXPORT_FORMATS))] = "csv",
    out: Annotated[Path | None, typer.Option(help="保存先ファイル")] = None,
    force: ForceOption = False,
) -> None:
    """閲覧できる相談シートを JSON / CSV / xlsx で出力する。"""
    target = _output(out, force)
    store = _store()
    try:
        data = ReviewDesk(store, zone=cli_zone()).export(_reviewer(store, as_user), format)
    except ReviewRefused as refusal:
        raise refuse(refusal.message) from None
    _write(data, target, force)


# --- digest -------------------------------------------------------------------------------


@digest_app.callback(invoke_without_command=True)
def digest(
    ctx: typer.Context,
    as_user: Annotated[str | None, typer.Option("--as", help=_AS_HELP)] = None,
    week: Annotated[str | None, typer.Option(help="ISO 週 例: 2026-W47（既定: 今週）")] = None,
    format: Annotated[str, typer.Option("--format", help=" / ".join(FORMATS))] = "md",
    out: Annotated[Path | None, typer.Option(help="保存先ファイル")] = None,
    force: ForceOption = False,
) -> None:
    """週次ダイジェストを表示・出力する（CIO補佐のみ）。"""
    if ctx.invoked_subcommand is not None:
        return
    if as_user is None:
        raise refuse("--as で CIO補佐を指定してください（例: --as slack:T0123:U0456）。")
    if format not in FORMATS:
        raise refuse(f"--format は {' / '.join(FORMATS)} のいずれかです。")
    target = _output(out, force)
    store = _store()
    try:
        result = ReviewDesk(store, zone=cli_zone()).digest(_reviewer(store, as_user), _week(week))
    except ReviewRefused as refusal:
        raise refuse(refusal.message) from None
    _write(render(result, format), target, force, markdown=format == "md")


@digest_app.command("run-scheduler")
def digest_run_scheduler(
    once: Annotated[bool, typer.Option(help="1 回だけ確認して終わる")] = False,
) -> None:
    """設定した時刻に週次ダイジェストを投稿し続ける（複数台でも週 1 回）。"""
    settings = cli_settings()
    store = _store()
    targets = digest_targets(settings, store)
    if not targets():
        raise refuse("投稿先がありません。SOUDAN_DIGEST_SLACK_CHANNEL か "
                    "SOUDAN_DIGEST_TEAMS_CONVERSATION を設定してください"
                    "（reviewers と書くと CIO補佐全員への DM）。")
    notifiers = _cli_notifiers()
    if not any(target.address.channel in notifiers for target in targets()):
        raise refuse("Slack / Teams への投稿手段がこのコマンドでは使えません。"
                    "定期投稿は `soudan serve` が毎分確認して行います。")
    try:
        scheduler = DigestScheduler(
            store, notifiers, targets, cron=settings.digest_cron, zone=cli_zone()
        )
    except ScheduleError as error:
        raise refuse(str(error)) from None
    configure_logging(settings)
    if once:
        posted = scheduler.run_due()
        typer.echo(json.dumps([(str(p.week), p.destination, p.delivered) for p in posted]))
        return
    typer.echo(f"次回の投稿: {scheduler.next_due():%Y-%m-%d %H:%M %Z}")
    run_every_minute(scheduler, threading.Event())
