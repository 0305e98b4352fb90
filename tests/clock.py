"""Run the whole suite at a chosen date: ``SOUDAN_TEST_DATE``.

Registered from the root ``conftest.py``. When ``SOUDAN_TEST_DATE`` is set, the wall clock
of the test process (``time.time``, ``datetime.now``, ``date.today`` ...) is moved to that
moment for the whole session with `time-machine`_ and keeps ticking from there, so a test
that silently depends on today's date fails the same way it would on that day.

Accepted values:

* an ISO date or date-time (``2028-01-06``, ``2027-03-31T23:30:00+09:00``; naive = UTC);
* an offset from now in days (``+400d``, ``-400d``).

``python -m tests.timeshift`` runs the suite at several dates and fails when any test's
result differs between them (that is what ``make test`` runs).

.. _time-machine: https://pypi.org/project/time-machine/
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest

ENV = "SOUDAN_TEST_DATE"
_OFFSET = re.compile(r"^([+-]\d+)d$")


def parse_test_date(value: str, *, now: datetime | None = None) -> datetime:
    """The moment ``value`` names (see the module docstring)."""
    text = value.strip()
    match = _OFFSET.match(text)
    if match:
        return (now or datetime.now(UTC)) + timedelta(days=int(match.group(1)))
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


_traveller = None


def pytest_configure(config: pytest.Config) -> None:
    global _traveller
    value = os.environ.get(ENV, "").strip()
    if not value:
        return
    import time_machine

    destination = parse_test_date(value)
    _traveller = time_machine.travel(destination, tick=True)
    _traveller.start()
    config.stash[_DESTINATION] = destination


_DESTINATION = pytest.StashKey[datetime]()

# A weekday morning in Asia/Tokyo, mid fiscal year, far from any year boundary.
PINNED = datetime(2026, 11, 20, 10, 0, tzinfo=timezone(timedelta(hours=9)))


@pytest.fixture
def pinned_clock() -> Iterator[datetime]:
    """Move the clock to :data:`PINNED` (ticking) for a test whose expectations name a date.

    For tests that check what the product derives from "now" without a way to pass it
    in (for example the 整理番号 ``2026-0001`` of a sheet started in a chat).
    """
    import time_machine

    with time_machine.travel(PINNED, tick=True):
        yield PINNED


def pytest_report_header(config: pytest.Config) -> str | None:
    destination = config.stash.get(_DESTINATION, None)
    if destination is None:
        return None
    return f"clock moved to {destination.isoformat()} ({ENV})"


def pytest_unconfigure(config: pytest.Config) -> None:
    global _traveller
    if _traveller is not None:
        _traveller.stop()
        _traveller = None
