"""Logging for every entry point: what users wrote never reaches a log, at any level.

``configure_logging(settings)`` is the one place logging is set up (``soudan serve``,
``soudan start``, ``soudan digest run-scheduler``). Besides the handler and the level
it installs two guards:

* every record is made safe when it is created (a ``LogRecord`` factory), so no
  handler — ours, pytest's, one a library adds — ever sees user text:

  - records of third-party loggers that may quote a request, a response or a
    query (bolt's ``RequestVerification`` writes the whole body at INFO when a
    signature fails; slack_sdk, msrest and httpx write bodies at DEBUG; SQLAlchemy
    its parameters) keep their logger, level and source line, but not their text;
  - every exception keeps its type and frames but not its message (a message may
    quote the input, as ``ValueError``, pydantic and SQLAlchemy errors do), in the
    record's traceback and in its arguments alike.

* :class:`UserTextFilter` on the handler drops withheld records below WARNING, so
  a DEBUG log stays readable.

Our own loggers (``bot``, ``knowledge``, ``flows``, ``storage``) keep their
messages: they log ids, counts and exception types, never text a user typed.

Example:
    >>> configure_logging(Settings())  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import sys
import traceback
from pathlib import Path
from typing import Any

from bot.settings import Settings

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
WITHHELD = "(message withheld: it may contain user text)"
EXCEPTION_WITHHELD = "(message withheld)"

BODY_LOGGERS = (
    "slack_bolt",
    "soudan",  # the bolt app's own loggers ("soudan", "soudan:<listener>")
    "slack_sdk",
    "botbuilder",
    "botframework",
    "msrest",
    "msal",
    "aiohttp",
    "httpx",
    "httpcore",
    "urllib3",
    "openai",
    "langchain",
    "langchain_core",
    "langchain_community",
    "langchain_openai",
    "chromadb",
    "sqlalchemy",
    "asyncio",  # "Task exception was never retrieved" quotes the exception
)
"""Third-party loggers whose messages may quote a body, a query or an exception."""

SAFE_LOGGERS = ("aiohttp.access",)
"""Exceptions to :data:`BODY_LOGGERS`: the access log has the request line, no body."""


def configure_logging(settings: Settings, *, to_file: Path | None = None) -> None:
    """Log to stderr at ``settings.log_level``, with user text kept out of every record.

    ``to_file``: log there instead (the terminal chat: its user reads the terminal,
    and a log line is not a message to them). Safe to call more than once (later
    calls replace the handler, never stack guards).
    """
    root = logging.getLogger()
    for existing in root.handlers[:]:
        if getattr(existing, _OURS, False):
            root.removeHandler(existing)
    handler: logging.Handler
    if to_file is not None:
        to_file.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(to_file, encoding="utf-8")
    else:
        handler = _StderrHandler()
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.addFilter(UserTextFilter())
    setattr(handler, _OURS, True)
    root.addHandler(handler)
    root.setLevel(settings.log_level.upper())

    factory = logging.getLogRecordFactory()
    if not isinstance(factory, _RedactingFactory):
        logging.setLogRecordFactory(_RedactingFactory(factory))


class UserTextFilter(logging.Filter):
    """Redacts a record (if no factory did) and drops withheld records below WARNING."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact(record)
        return not (getattr(record, _WITHHELD, False) and record.levelno < logging.WARNING)


def carries_bodies(logger_name: str) -> bool:
    """Whether records of ``logger_name`` may quote what a user wrote."""

    def under(prefix: str) -> bool:
        return logger_name == prefix or logger_name.startswith((prefix + ".", prefix + ":"))

    return any(map(under, BODY_LOGGERS)) and not any(map(under, SAFE_LOGGERS))


def redact(record: logging.LogRecord) -> logging.LogRecord:
    """Make ``record`` safe to write (in place; applying it twice changes nothing)."""
    if getattr(record, _REDACTED, False):
        return record
    setattr(record, _REDACTED, True)
    if carries_bodies(record.name):
        record.msg, record.args = WITHHELD, ()
        setattr(record, _WITHHELD, True)
    elif isinstance(record.args, tuple):
        record.args = tuple(_safe_arg(arg) for arg in record.args)
    elif isinstance(record.args, dict):
        record.args = {key: _safe_arg(value) for key, value in record.args.items()}
    if record.exc_info and record.exc_info[1] is not None:
        record.exc_text = safe_traceback(record.exc_info[1])
    record.exc_info = None
    return record


def safe_traceback(exc: BaseException) -> str:
    """The traceback of ``exc`` (and its causes) with types and frames, without messages."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
    parts = [
        "Traceback (most recent call last):\n"
        + "".join(traceback.format_tb(error.__traceback__))
        + f"{type(error).__module__}.{type(error).__qualname__}: {EXCEPTION_WITHHELD}"
        for error in reversed(chain)
    ]
    return "\n\nThe above exception led to the following:\n\n".join(parts)


_OURS = "_soudan_handler"
_REDACTED = "_soudan_redacted"
_WITHHELD = "_soudan_withheld"


def _safe_arg(arg: object) -> object:
    return f"{type(arg).__name__}({EXCEPTION_WITHHELD})" if isinstance(arg, BaseException) else arg


class _StderrHandler(logging.StreamHandler):
    """Writes to ``sys.stderr`` as it is when a record comes (typer and pytest replace it)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _: Any) -> None:
        pass

    def handleError(self, record: logging.LogRecord) -> None:
        # logging's own report prints the exception being handled with its context,
        # which may be the one whose message quotes the user: print it redacted.
        error = sys.exc_info()[1]
        if logging.raiseExceptions and error is not None:
            sys.stderr.write(f"--- Logging error ({record.name}) ---\n{safe_traceback(error)}\n")


class _RedactingFactory:
    """A ``LogRecord`` factory that redacts each record it creates (wraps the previous one)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        return redact(self.inner(*args, **kwargs))
