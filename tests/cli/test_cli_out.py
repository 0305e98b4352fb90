"""Every ``--out``: no overwriting without ``--force``, never inside the data directory,
no directories, and OS errors as one Japanese line with a non-zero exit code."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from bot.cli.main import app

# Each command that writes a file with --out, as far as the path check needs.
COMMANDS = {
    "sheets export": ["sheets", "export", "--as", "UR", "--format", "json"],
    "admin sheets export": ["admin", "sheets", "export", "--format", "json"],
    "review export": ["review", "export", "--as", "UR", "--format", "json"],
    "digest": ["digest", "--as", "UR", "--format", "md"],
    "flow document": ["flow", "document", "2026-0001", "--as", "UR"],
}


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data directory with a real SQLite database in it."""
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("SOUDAN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("SOUDAN_DATABASE_URL", raising=False)
    assert run("db", "upgrade").exit_code == 0
    assert (tmp_path / "data" / "soudan.db").is_file()
    return tmp_path / "data"


def run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def refused(result: Result, code: int = 2) -> str:
    """The message of a clean refusal (no traceback, exit ``code``)."""
    assert result.exit_code == code, result.output
    assert type(result.exception) is SystemExit, result.exception
    assert "Traceback" not in result.output
    return result.output


@pytest.mark.parametrize("command", list(COMMANDS))
def test_an_existing_file_is_kept_without_force(
    command: str, data_dir: Path, tmp_path: Path
) -> None:
    existing = tmp_path / "report.json"
    existing.write_text("keep me", encoding="utf-8")

    message = refused(run(*COMMANDS[command], "--out", str(existing)))

    assert "既にあります" in message and "--force" in message
    assert existing.read_text(encoding="utf-8") == "keep me"


def test_force_replaces_an_existing_file(data_dir: Path, tmp_path: Path) -> None:
    existing = tmp_path / "sheets.json"
    existing.write_text("old", encoding="utf-8")

    result = run(*COMMANDS["admin sheets export"], "--out", str(existing), "--force")

    assert result.exit_code == 0, result.output
    assert json.loads(existing.read_text(encoding="utf-8")) == []


def test_a_new_file_is_written_and_its_folders_made(data_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "exports" / "2026" / "sheets.json"

    result = run(*COMMANDS["admin sheets export"], "--out", str(out))

    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize("force", [False, True])
@pytest.mark.parametrize("command", list(COMMANDS))
def test_a_directory_is_refused(command: str, force: bool, data_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "reports"
    folder.mkdir()

    message = refused(run(*COMMANDS[command], "--out", str(folder), *(["--force"] * force)))

    assert "ディレクトリです" in message
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize("command", list(COMMANDS))
@pytest.mark.parametrize("where", ["the database", "a new file", "through a symlink", "relative"])
def test_nothing_is_written_inside_the_data_directory(
    command: str, where: str, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = data_dir / "soudan.db"
    before = database.read_bytes()
    if where == "the database":
        out = str(database)
    elif where == "a new file":
        out = str(data_dir / "chroma" / "export.json")
    elif where == "through a symlink":
        link = tmp_path / "innocent.json"
        link.symlink_to(database)
        out = str(link)
    else:
        monkeypatch.chdir(data_dir)
        out = "soudan.db"

    message = refused(run(*COMMANDS[command], "--out", out, "--force"))

    assert "データディレクトリ" in message
    assert database.read_bytes() == before
    assert not (data_dir / "chroma" / "export.json").exists()
    assert run("db", "status").exit_code == 0  # the database still opens and is current


def test_a_sqlite_database_outside_the_data_directory_is_protected_too(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "db" / "live.db"
    elsewhere.parent.mkdir()
    monkeypatch.setenv("SOUDAN_DATABASE_URL", f"sqlite:///{elsewhere}")
    assert run("db", "upgrade").exit_code == 0
    before = elsewhere.read_bytes()

    message = refused(run(*COMMANDS["admin sheets export"], "--out", str(elsewhere), "--force"))

    assert "データディレクトリ" in message
    assert elsewhere.read_bytes() == before


@pytest.mark.parametrize("command", ["admin sheets export", "review export", "digest"])
@pytest.mark.parametrize("where", ["under a file", "symlink loop", "name too long"])
def test_an_unwritable_location_is_a_japanese_message_not_a_traceback(
    command: str, where: str, data_dir: Path, tmp_path: Path
) -> None:
    if where == "under a file":  # found when writing
        (tmp_path / "plain.txt").write_text("x", encoding="utf-8")
        out, code, reason = tmp_path / "plain.txt" / "sheets.json", 1, "フォルダではなくファイル"
    elif where == "symlink loop":  # found by the check, before any work
        (tmp_path / "a").symlink_to(tmp_path / "b")
        (tmp_path / "b").symlink_to(tmp_path / "a")
        out, code, reason = tmp_path / "a", 2, "シンボリックリンクが循環"
    else:
        out, code, reason = tmp_path / ("長" * 200 + ".json"), 2, "パスが長すぎます"
    args = COMMANDS[command]
    if command != "admin sheets export":  # the reviewer must exist for the file to be made
        assert run("users", "add", "UR", "--tenant", "local", "--role", "reviewer").exit_code == 0

    message = refused(run(*args, "--out", str(out)), code=code)

    assert reason in message


def test_a_folder_without_write_permission_is_a_japanese_message(
    data_dir: Path, tmp_path: Path
) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    # root may write into any folder, but nobody may create a file in sysfs (EACCES):
    target = Path("/sys/soudan-export.json") if os.geteuid() == 0 else locked / "s.json"
    try:
        message = refused(run(*COMMANDS["admin sheets export"], "--out", str(target)), code=1)
    finally:
        locked.chmod(0o700)

    assert "書き込む権限がありません" in message
