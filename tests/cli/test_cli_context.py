"""One Settings per ``soudan`` invocation: the callback builds it, commands read it."""

from __future__ import annotations

from pathlib import Path

import typer
from typer.testing import CliRunner

from bot.cli import context
from bot.cli.context import cli_settings, cli_zone
from bot.cli.main import app
from bot.settings import Settings


def test_a_command_reads_the_settings_the_callback_built_and_only_during_its_run(
    tmp_path: Path,
) -> None:
    seen: list[Settings] = []

    @app.command("probe-settings", hidden=True)
    def probe(ctx: typer.Context) -> None:
        root = ctx.find_root().obj
        assert isinstance(root, Settings)
        assert cli_settings() is root and cli_settings() is root
        seen.append(root)
        typer.echo(f"{cli_zone()}")

    runner = CliRunner()
    env = {"SOUDAN_DATA_DIR": str(tmp_path), "SOUDAN_TIMEZONE": "UTC"}
    try:
        first = runner.invoke(app, ["probe-settings"], env=env)
        second = runner.invoke(
            app, ["probe-settings"], env={**env, "SOUDAN_TIMEZONE": "Asia/Tokyo"}
        )
    finally:
        app.registered_commands.pop()

    assert (first.exit_code, second.exit_code) == (0, 0), first.output + second.output
    assert (first.output.strip(), second.output.strip()) == ("UTC", "Asia/Tokyo")
    assert seen[0] is not seen[1]  # each invocation its own
    assert context._current is None  # forgotten when the invocation closed
