"""Everything logged during a test, with every logger at DEBUG, for "no user text in logs" tests.

Import the ``all_logs`` fixture into a test module. It sets logging up as the
entry points do (``bot.logs.configure_logging``), then turns every logger and the
root logger to DEBUG (so a level set by ``configure_logging`` protects nothing in
the test; the protection must hold at any level) and captures through caplog, an
extra handler placed first on the root logger (so no filter of another handler has
touched a record before it writes it) and stderr.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.logs import configure_logging
from bot.settings import Settings

MARKER = "MARKER-マイナンバー123456789012"
# JSON escapes and URL encoding change the Japanese part; the ASCII parts survive both.
NEEDLES = (MARKER, "MARKER", "123456789012", "マイナンバー")


@dataclass
class CapturedLogs:
    caplog: pytest.LogCaptureFixture
    capsys: pytest.CaptureFixture[str]
    stream: io.StringIO
    stderr: str = ""

    def texts(self) -> list[str]:
        """Every form a handler could write: formatted output and each record's attributes."""
        self.stderr += self.capsys.readouterr().err
        records = [repr(vars(record)) for record in self.caplog.records]
        return [self.caplog.text, self.stream.getvalue(), self.stderr, *records]

    def leaks(self) -> list[str]:
        """The captured lines (or records) that carry the marker."""
        found: list[str] = []
        for text in self.texts():
            found += [line for line in text.splitlines() if any(n in line for n in NEEDLES)]
        return found

    def clear(self) -> None:
        self.caplog.clear()
        self.stream.seek(0)
        self.stream.truncate()
        self.capsys.readouterr()
        self.stderr = ""


def _every_logger() -> list[logging.Logger]:
    return [
        logger
        for logger in logging.root.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]


@pytest.fixture
def all_logs(
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> Iterator[CapturedLogs]:
    root = logging.getLogger()
    factory = logging.getLogRecordFactory()
    saved_root = (root.level, list(root.handlers), list(root.filters))
    saved = {lg: (lg.level, lg.disabled, list(lg.filters)) for lg in _every_logger()}

    configure_logging(Settings(_env_file=None, data_dir=tmp_path / "logs", log_level="DEBUG"))
    for logger in _every_logger():
        logger.setLevel(logging.DEBUG)
        logger.disabled = False
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root.handlers.insert(0, handler)  # first: it sees each record before any handler filter
    caplog.set_level(logging.DEBUG)
    try:
        yield CapturedLogs(caplog, capsys, stream)
    finally:
        logging.setLogRecordFactory(factory)
        root.setLevel(saved_root[0])
        for existing in root.handlers[:]:
            if existing not in saved_root[1]:
                root.removeHandler(existing)
        root.filters[:] = saved_root[2]
        for logger in _every_logger():
            level, disabled, filters = saved.get(logger, (logging.NOTSET, False, []))
            logger.setLevel(level)
            logger.disabled = disabled
            logger.filters[:] = filters
