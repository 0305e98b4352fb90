"""CLI commands (draft 仕様書 review): ``soudan review-spec FILE`` and ``soudan eval-spec [DIR]``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from zoneinfo import ZoneInfo

import typer

from bot.cli.context import cli_settings
from bot.cli.output import ForceOption, check_output, write_output
from bot.settings import Settings

if TYPE_CHECKING:
    from bot.core.policy import Actor
    from knowledge.spec_review import SpecReview, SpecReviewer

DEFAULT_EVAL_DIR = Path(__file__).resolve().parents[2] / "tests" / "spec_review" / "drafts"
EVAL_TARGET = 0.9


def register(app: typer.Typer) -> None:
    """Add ``review-spec`` and ``eval-spec`` to the ``soudan`` app."""
    app.command("review-spec")(review_spec)
    app.command("eval-spec")(eval_spec)


def spec_reviewer(settings: Settings) -> SpecReviewer:
    """The reviewer with the configured embedding model and the Japanese tokenizer."""
    from knowledge.embedder import TextEmbedder
    from knowledge.lexical import JapaneseTokenizer
    from knowledge.spec_review import SpecReviewer

    embedder = TextEmbedder(
        settings.effective_embedding_model, bundled_model_dir=settings.bundled_model_dir
    )
    return SpecReviewer(embedder, JapaneseTokenizer())


def review_spec(
    file: Annotated[Path, typer.Argument(help="仕様書（案）（.docx / .pdf / .md / .txt）")],
    out: Annotated[
        Path | None, typer.Option("--out", help="レビューメモの出力先（.docx または .md）")
    ] = None,
    method: Annotated[
        str | None,
        typer.Option(help="調達方法 proposal（公募型プロポーザル）/ bid（競争入札）。省略時は仕様書から読み取る"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="判定を JSON で出力する")] = False,
    sheet: Annotated[
        str | None,
        typer.Option("--sheet", help="レビューメモを保存する相談シートの整理番号（または ID）。--as が必要"),
    ] = None,
    as_user: Annotated[
        str | None,
        typer.Option("--as", help="メモを保存する利用者（相談シートの相談者本人か CIO補佐。"
                     "channel:tenant:user_id または user_id）"),
    ] = None,
    force: ForceOption = False,
) -> None:
    """仕様書（案）をガイドラインの仕様書の主な内容と照合し、レビューメモを作る。

    ``--sheet`` を付けると、メモ（Markdown）・ファイル名・判定をその相談シートに保存し、
    ``soudan review show`` と出力（export）に載ります。保存するのは ``--as`` の利用者
    （相談者本人か CIO補佐）で、監査ログにもその人が残ります。

    Example: ``soudan review-spec 仕様書案.docx --out レビューメモ.docx --sheet 2026-0001 --as U0456``
    """
    from bot.terminal_markdown import echo_markdown
    from knowledge.documents import DocumentError
    from knowledge.spec_review import read_draft
    from knowledge.spec_review_memo import render_docx, render_markdown

    settings = cli_settings()
    if method not in (None, "proposal", "bid"):
        typer.echo("--method は proposal か bid を指定してください。", err=True)
        raise typer.Exit(2)
    if sheet is not None and as_user is None:
        typer.echo("--sheet でメモを保存するときは、--as で保存する利用者（相談者本人か CIO補佐）を"
                   "指定してください（例: --as slack:T0123:U0456）。", err=True)
        raise typer.Exit(2)
    target = check_output(out, settings, force=force) if out is not None else None
    keeper = _keeper(settings, sheet, as_user) if sheet is not None and as_user else None
    try:
        document = read_draft(file, max_bytes=settings.max_document_bytes)
    except DocumentError as error:
        typer.echo(f"{error.path.name} を読めません: {error.reason}", err=True)
        raise typer.Exit(1) from None
    review = spec_reviewer(settings).review(document, method=method)  # type: ignore[arg-type]
    today = datetime.now(ZoneInfo(settings.timezone)).date()
    if keeper is not None:
        reference = _save_on_sheet(settings, keeper, review, today)
        typer.echo(f"レビューメモを相談シート {reference} に保存しました。", err=True)
    if as_json:
        typer.echo(json.dumps(review_json(review), ensure_ascii=False, indent=2))
    if target is not None and out is not None:
        if out.suffix.lower() == ".docx":
            write_output(target, render_docx(review, reviewed_on=today), force=force)
        else:
            write_output(target, render_markdown(review, reviewed_on=today).encode("utf-8"), force=force)
        typer.echo(f"{out} にレビューメモを出力しました。", err=as_json)
    elif not as_json:
        echo_markdown(render_markdown(review, reviewed_on=today))


@dataclass(frozen=True)
class _Keeper:
    """Who keeps the memo on which sheet (the policy allowed it)."""

    actor: Actor
    sheet_id: str


def _keeper(settings: Settings, key: str, as_user: str) -> _Keeper:
    """The user ``--as`` names and the sheet ``key`` names, if the policy lets that user
    keep a memo on it (``spec_memo``: its requester or a CIO補佐); checked before the
    slow review. A refusal is audited; a missing sheet is answered as a foreign one."""
    import storage
    from bot.cli.acting import named_user, refuse
    from bot.core.policy import Sheet, decide, write_audit
    from bot.wiring import open_database

    database = open_database(settings)
    try:
        actor = named_user(database, as_user)
        with database.session() as session:
            found = storage.get_sheet(session=session, sheet_id=key) or (
                storage.get_sheet_by_reference(session=session, reference=key)
            )
            decision = decide(actor, "spec_memo", Sheet.of(found) if found else None)
            if found is None or not decision.allowed:
                write_audit(session, actor, "sheet.spec_memo", "denied",
                            target=found.id if found else None)
        if found is None or not decision.allowed:
            raise refuse(f"相談シート {key} にレビューメモを保存できません。{decision.reason}")
        return _Keeper(actor, found.id)
    finally:
        database.dispose()


def _save_on_sheet(settings: Settings, keeper: _Keeper, review: SpecReview, today: date) -> str:
    """Keep the memo on the sheet (audited as the ``--as`` user); the sheet's reference."""
    import storage
    from bot.core.spec_drafts import keep_memo
    from bot.spec_drafts import reviewed_draft
    from bot.wiring import open_database

    reviewed = reviewed_draft(review, reviewed_on=today)
    database = open_database(settings)
    try:
        with database.session() as session:
            found = storage.get_sheet(session=session, sheet_id=keeper.sheet_id)
            assert found is not None
            keep_memo(
                session, sheet_id=found.id, reviewed=reviewed, actor=keeper.actor.key,
                tenant=keeper.actor.tenant, via="cli",
            )
            return found.reference
    finally:
        database.dispose()


def review_json(review: SpecReview) -> dict[str, Any]:
    """The review as JSON values (for scripts and ``--json``)."""
    return {
        "file": review.name,
        "method": review.method,
        "items": [
            {"id": j.item.id, "label": j.item.label, "status": j.status, "section": j.section,
             "excerpt": j.excerpt, "reason": j.reason,
             "cites": [{"doc": c.doc, "section": c.section, "quote": c.quote} for c in j.item.cites]}
            for j in review.items
        ],
        "findings": [
            {"check": f.check, "label": f.label, "message": f.message, "evidence": list(f.evidence),
             "cites": [{"doc": c.doc, "section": c.section, "quote": c.quote} for c in f.cites]}
            for f in review.findings
        ],
    }


def eval_spec(
    folder: Annotated[
        Path, typer.Argument(help="仕様書（案）と labels.yaml のフォルダ（既定: 同梱の評価用の仕様書）")
    ] = DEFAULT_EVAL_DIR,
    as_json: Annotated[bool, typer.Option("--json", help="結果を JSON で出力する")] = False,
) -> None:
    """評価用の仕様書（案）でレビューの判定の適合率・再現率を測る（目標 0.9 以上）。"""
    from knowledge.spec_review_eval import STATUSES, evaluate

    settings = cli_settings()
    if not (folder / "labels.yaml").is_file():
        typer.echo(f"{folder} に labels.yaml がありません。", err=True)
        raise typer.Exit(2)
    result = evaluate(spec_reviewer(settings), folder, max_bytes=settings.max_document_bytes)
    if as_json:
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        typer.echo(f"仕様書（案） {result.drafts} 件（判定した項目 {result.judged}）")
        for status in STATUSES:
            typer.echo(
                f"  {status:8s} 適合率 {result.precision(status):.3f}  再現率 {result.recall(status):.3f}"
            )
        typer.echo(f"  指摘事項 適合率 {result.flags_precision:.3f}  再現率 {result.flags_recall:.3f}")
        typer.echo(f"  調達方法の読み取り {result.methods_right}/{result.judged_drafts}")
        typer.echo(f"  読めない文書の拒否 {result.refusals_right}/{result.refusals_expected}")
        for error in result.errors:
            typer.echo(f"  誤り: {error}")
    scores = [result.precision(s) for s in STATUSES] + [result.recall(s) for s in STATUSES]
    scores += [result.flags_precision, result.flags_recall]
    if min(scores) < EVAL_TARGET:
        raise typer.Exit(1)
