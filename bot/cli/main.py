"""The ``soudan`` command line: one entry point, sub-commands registered by area."""

from __future__ import annotations

import typer
from pydantic import ValidationError

from bot.cli import (
    console_cmds,
    flow_cmds,
    japanese,
    knowledge_cmds,
    outbox_cmds,
    publish_cmds,
    review_cmds,
    serve_cmds,
    sheet_cmds,
    spec_cmds,
)
from bot.cli.context import keep_for_invocation
from bot.settings import Settings

japanese.install()

app = typer.Typer(
    name="soudan",
    help="自治体 ICT 調達相談アシスタント soudan",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def check_settings(ctx: typer.Context) -> None:
    """Build the invocation's one Settings (:func:`bot.cli.context.cli_settings` hands it
    to the commands); refuse settings that do not validate, with a message an operator
    can act on."""
    try:
        settings = Settings()
    except ValidationError as error:
        problems = "\n".join(
            f"  - {'.'.join(str(p) for p in e['loc']) or '設定'}: {e['msg']}" for e in error.errors()
        )
        typer.echo(
            "設定に誤りがあるため起動できません。環境変数（SOUDAN_…、SLACK_…、MICROSOFT_…）"
            f"または .env を確認してください:\n{problems}",
            err=True,
        )
        raise typer.Exit(2) from None
    keep_for_invocation(ctx, settings)


for module in (
    knowledge_cmds, flow_cmds, sheet_cmds, serve_cmds, review_cmds, outbox_cmds, publish_cmds,
    console_cmds, spec_cmds,
):
    module.register(app)


if __name__ == "__main__":  # pragma: no cover
    app()
