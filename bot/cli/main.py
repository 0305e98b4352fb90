"""The ``soudan`` command line: one entry point, sub-commands registered by area."""

from __future__ import annotations

import typer

from bot.cli import flow_cmds, knowledge_cmds, review_cmds, serve_cmds, sheet_cmds

app = typer.Typer(
    name="soudan",
    help="自治体 ICT 調達相談アシスタント soudan",
    no_args_is_help=True,
    add_completion=False,
)

for module in (knowledge_cmds, flow_cmds, sheet_cmds, serve_cmds, review_cmds):
    module.register(app)


if __name__ == "__main__":  # pragma: no cover
    app()
