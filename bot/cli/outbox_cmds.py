"""CLI: ``soudan review outbox`` — notices waiting to be posted, and those that could not be.

Review results reach requesters through the outbox (:mod:`bot.core.outbox`): written
with the status change, posted after it, retried with back-off while Slack or Teams
is down. This lists what is still waiting and what was given up, with no message text
(整理番号, recipient and the error type only), and puts a given-up one back in line.

Examples:
    soudan review outbox
    soudan review outbox --all
    soudan review outbox --retry 12
"""

from __future__ import annotations

from typing import Annotated

import typer

from bot.cli.context import cli_settings, cli_zone
from storage import outbox as outbox_rows
from storage.outbox import OutboxMessage, OutboxStatus

STATUS_LABELS = {
    OutboxStatus.PENDING: "送信待ち",
    OutboxStatus.SENDING: "送信中",
    OutboxStatus.SENT: "送信済み",
    OutboxStatus.UNDELIVERABLE: "送信できず",
}
KIND_LABELS = {
    "review.returned": "差し戻しの通知",
    "review.accepted": "受理の通知",
}
_OPEN = (OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.UNDELIVERABLE)


def register(app: typer.Typer) -> None:
    """Add ``outbox`` to the ``soudan review`` group."""
    from bot.cli.review_cmds import review_app

    review_app.command("outbox")(review_outbox)


def _line(row: OutboxMessage) -> str:
    recipient = f"{row.channel}:{row.tenant}:{row.user_id or row.conversation}"
    if row.status == OutboxStatus.PENDING:
        when = f"次の送信 {row.next_attempt_at.astimezone(cli_zone()):%Y-%m-%d %H:%M}"
    elif row.status == OutboxStatus.SENT and row.sent_at is not None:
        when = f"送信 {row.sent_at.astimezone(cli_zone()):%Y-%m-%d %H:%M}"
    else:
        when = "-"
    return "\t".join([
        str(row.id), STATUS_LABELS[row.status], KIND_LABELS.get(row.kind, row.kind),
        row.subject or "-", recipient, f"{row.attempts}回", when,
        f"最後の失敗: {row.last_error}" if row.last_error else "",
    ]).rstrip()


def review_outbox(
    show_all: Annotated[bool, typer.Option("--all", help="送信済みも表示する")] = False,
    retry: Annotated[int | None, typer.Option(help="送信できなかった通知（ID）を再送待ちに戻す")]
    = None,
) -> None:
    """依頼者への通知のうち、送信待ち・送信できなかったものを一覧表示する。"""
    from bot.wiring import open_database

    database = open_database(cli_settings())
    try:
        if retry is not None:
            with database.session() as session:
                requeued = outbox_rows.requeue_outbox_message(session=session, message_id=retry)
            if not requeued:
                typer.secho(f"送信できなかった通知 {retry} はありません。"
                            "`soudan review outbox` で ID を確認してください。",
                            err=True, fg=typer.colors.RED)
                raise typer.Exit(code=1)
            typer.echo(f"通知 {retry} を送信待ちに戻しました。soudan serve が送信します。")
            return
        with database.session() as session:
            rows = outbox_rows.list_outbox_messages(
                session=session, statuses=None if show_all else _OPEN
            )
    finally:
        database.dispose()
    if not rows:
        typer.echo("送信待ち・送信できなかった通知はありません。")
        return
    waiting = sum(1 for r in rows if r.status in (OutboxStatus.PENDING, OutboxStatus.SENDING))
    failed = sum(1 for r in rows if r.status == OutboxStatus.UNDELIVERABLE)
    typer.echo(f"依頼者への通知: 送信待ち {waiting}件・送信できず {failed}件")
    typer.echo("ID\t状態\t種類\t整理番号\t宛先\t試行\t時刻")
    for row in rows:
        typer.echo(_line(row))
