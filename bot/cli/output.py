"""Files the CLI writes (``--out``): one check for every command that writes one.

``check_output`` runs before the command does its work, ``write_output`` writes the
bytes. A path is refused when it is a directory, already exists (unless ``--force``)
or lies inside the data directory (the database, the index, the models), also
through a symlink; every OS error becomes one Japanese line and a non-zero exit
code, never a traceback.

Example:
    >>> target = check_output(Path("sheets.xlsx"), Settings(), force=False)  # doctest: +SKIP
    >>> write_output(target, data, force=False)                             # doctest: +SKIP
"""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.settings import Settings

ForceOption = Annotated[bool, typer.Option("--force", help="既にあるファイルを上書きする")]

REFUSED_EXIT = 2
"""Exit code when the path is refused before anything was done."""
FAILED_EXIT = 1
"""Exit code when the operating system would not let the file be written."""

_REASONS = {
    errno.EACCES: "書き込む権限がありません",
    errno.EPERM: "書き込む権限がありません",
    errno.ENOENT: "フォルダがありません",
    errno.ENOTDIR: "途中にフォルダではなくファイルがあります",
    errno.EISDIR: "ディレクトリです。ファイル名を指定してください",
    errno.EEXIST: "既にあります。上書きするには --force を付けてください",
    errno.ENOSPC: "ディスクの空きが足りません",
    errno.EROFS: "読み取り専用の場所です",
    errno.ENAMETOOLONG: "パスが長すぎます",
    errno.ELOOP: "シンボリックリンクが循環しています",
}


def check_output(out: Path, settings: Settings, *, force: bool) -> Path:
    """The path to write ``out`` to, or exit with a Japanese message (code 2).

    Args:
        out: the ``--out`` value as given.
        settings: its ``data_dir`` (and a SQLite database file kept elsewhere) is protected.
        force: an existing file may be replaced.
    """
    try:
        target = out.expanduser().resolve()
        protected = any(_inside(target, place) for place in _protected(settings))
        is_dir = target.is_dir()
        exists = out.is_symlink() or target.exists()
    except OSError as error:
        _refuse(out, _reason(error))
    except RuntimeError:  # Python 3.11 reports a symlink loop this way
        _refuse(out, _REASONS[errno.ELOOP])
    if protected:
        _refuse(out, f"データディレクトリ（{settings.data_dir}）の中です。別の場所を指定してください")
    if is_dir:
        _refuse(out, _REASONS[errno.EISDIR])
    if exists and not force:
        _refuse(out, _REASONS[errno.EEXIST])
    return target


def write_output(target: Path, data: bytes, *, force: bool) -> None:
    """Write ``data`` to a path from :func:`check_output`; exit with a Japanese message on failure.

    Without ``force`` the file is created exclusively, so a file that appeared since
    the check is not replaced either.
    """
    try:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except FileExistsError:  # a file where a folder should be
            raise NotADirectoryError(errno.ENOTDIR, "not a directory") from None
        with target.open("wb" if force else "xb") as file:
            file.write(data)
    except OSError as error:
        typer.echo(f"{target} に書き込めません: {_reason(error)}。", err=True)
        raise typer.Exit(FAILED_EXIT) from None


def _protected(settings: Settings) -> list[Path]:
    places = [settings.data_dir.expanduser().resolve()]
    try:
        url = make_url(settings.effective_database_url)
    except ArgumentError:
        return places
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        places.append(Path(str(url.database)).expanduser().resolve())
    return places


def _inside(target: Path, place: Path) -> bool:
    return target == place or place in target.parents


def _reason(error: OSError) -> str:
    if error.errno in _REASONS:
        return _REASONS[error.errno]
    code = errno.errorcode.get(error.errno or 0, "不明")
    return f"書き込めませんでした（{code}）"


def _refuse(out: Path, reason: str) -> NoReturn:
    typer.echo(f"{out} には書き出しません: {reason}。", err=True)
    raise typer.Exit(REFUSED_EXIT)
