"""``bot.logs``: what a record keeps and loses once logging is configured."""

from __future__ import annotations

import logging

import pytest

from bot.logs import WITHHELD, UserTextFilter, configure_logging, safe_traceback
from bot.settings import Settings
from tests.log_capture import MARKER, CapturedLogs, all_logs  # noqa: F401  (fixture)


def _ours() -> list[logging.Handler]:
    return [h for h in logging.getLogger().handlers
            if any(isinstance(f, UserTextFilter) for f in h.filters)]


def _fail_twice() -> None:
    typed = MARKER  # the frames quote these source lines; they must not trip the check
    try:
        raise KeyError(typed)
    except KeyError as error:
        raise ValueError(f"invalid input {typed}") from error


def test_an_exception_keeps_its_types_and_frames_but_not_its_message(
    all_logs: CapturedLogs,  # noqa: F811
) -> None:
    try:
        _fail_twice()
    except ValueError as error:
        logging.getLogger("bot.example").exception("turn failed: %s", error)

    assert all_logs.leaks() == []
    text = all_logs.caplog.text
    assert "turn failed: ValueError(" in text
    assert "builtins.KeyError: (message withheld)" in text
    assert "builtins.ValueError: (message withheld)" in text
    assert "in _fail_twice" in text


def test_our_messages_stay_and_third_party_bodies_go(all_logs: CapturedLogs) -> None:  # noqa: F811
    logging.getLogger("bot.slack.turns").info("answered %s in %d ms", "D100:1.2", 12)
    logging.getLogger("slack_bolt.RequestVerification").info(f"body: {MARKER}")
    logging.getLogger("soudan:on_message").warning("listener said %s", MARKER)
    logging.getLogger("aiohttp.access").info('"POST /slack/events HTTP/1.1" 401')

    assert all_logs.leaks() == []
    text = all_logs.caplog.text
    assert "answered D100:1.2 in 12 ms" in text
    assert text.count(WITHHELD) == 2
    assert "POST /slack/events" in text


def test_the_handler_drops_withheld_records_below_warning() -> None:
    keep = UserTextFilter()

    def record(name: str, level: int) -> logging.LogRecord:
        return logging.LogRecord(name, level, __file__, 1, MARKER, (), None)

    assert keep.filter(record("slack_sdk.web.base_client", logging.DEBUG)) is False
    assert keep.filter(record("bot.server", logging.DEBUG)) is True
    kept = record("slack_bolt.AsyncApp", logging.ERROR)
    assert keep.filter(kept) is True
    assert kept.getMessage() == WITHHELD


def test_configuring_twice_keeps_one_handler_and_one_guard(
    all_logs: CapturedLogs,  # noqa: F811
) -> None:
    settings = Settings(_env_file=None)
    configure_logging(settings)
    configure_logging(settings)

    assert len(_ours()) == 1
    factory = logging.getLogRecordFactory()
    assert not isinstance(getattr(factory, "inner", None), type(factory))


def test_a_failing_handler_reports_without_the_exception_being_handled(
    all_logs: CapturedLogs, capsys: pytest.CaptureFixture[str],  # noqa: F811
) -> None:
    [ours] = _ours()
    try:
        raise RuntimeError(MARKER)
    except RuntimeError:
        try:
            raise OSError("disk full")
        except OSError:
            ours.handleError(logging.LogRecord("bot.x", logging.ERROR, __file__, 1, "m", (), None))

    err = capsys.readouterr().err
    assert "builtins.OSError: (message withheld)" in err
    assert "RuntimeError" in err and MARKER not in err


def test_safe_traceback_survives_a_cycle() -> None:
    first, second = ValueError(MARKER), KeyError(MARKER)
    first.__context__, second.__context__ = second, first

    text = safe_traceback(first)

    assert MARKER not in text
    assert text.count("(message withheld)") == 2


def test_the_terminal_chat_logs_to_a_file_and_never_to_the_users_terminal(
    tmp_path: pytest.TempPathFactory, capsys: pytest.CaptureFixture[str]
) -> None:
    log_file = tmp_path / "data" / "chat.log"  # type: ignore[operator]
    configure_logging(Settings(), to_file=log_file)
    try:
        logging.getLogger("bot.review.desk").warning(
            "no notifier for sheet %s; requester not told", "s1"
        )
        for handler in _ours():
            handler.flush()
        captured = capsys.readouterr()
        assert "no notifier" not in captured.err + captured.out
        assert "no notifier for sheet s1" in log_file.read_text(encoding="utf-8")
    finally:
        for handler in _ours():
            logging.getLogger().removeHandler(handler)
            handler.close()
