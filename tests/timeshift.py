"""Run the test suite at several dates and fail when any test's result depends on the day.

``make test`` runs ``python -m tests.timeshift``: the whole suite once at the real date,
then again with the wall clock moved (``SOUDAN_TEST_DATE``, see ``tests/clock.py``) far
ahead -- across a calendar-year and a fiscal-year (April) boundary -- and back. A test
whose outcome differs between the runs, or any failure, makes the command fail.

    python -m tests.timeshift                      # now, +400 days, -400 days
    python -m tests.timeshift --dates now,2027-04-01T00:30:00+09:00 -- -k digest
    SOUDAN_TEST_DATE=2028-01-06 pytest             # one run at a chosen date
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree
from collections import Counter
from pathlib import Path

from tests.clock import ENV

DEFAULT_DATES = ("now", "+400d", "-400d")


def _outcomes(report: Path) -> dict[str, str]:
    """Test id -> passed / failed / error / skipped, from a JUnit XML report."""
    outcomes: dict[str, str] = {}
    for case in ElementTree.parse(report).getroot().iter("testcase"):
        test_id = f"{case.get('classname')}::{case.get('name')}"
        outcome = "passed"
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                outcome = {"failure": "failed"}.get(child.tag, child.tag)
                break
        outcomes[test_id] = outcome
    return outcomes


def _run(date: str, report: Path, pytest_args: list[str]) -> int:
    environment = dict(os.environ)
    environment.pop(ENV, None)
    if date != "now":
        environment[ENV] = date
    label = "the real date" if date == "now" else f"{ENV}={date}"
    print(f"\n=== tests at {label} ===", flush=True)
    command = [sys.executable, "-m", "pytest", "-q", f"--junitxml={report}", *pytest_args]
    return subprocess.run(command, env=environment, check=False).returncode


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--dates", default=",".join(DEFAULT_DATES),
        help="comma-separated: now, an ISO date/date-time, or +Nd / -Nd",
    )
    parser.add_argument("pytest_args", nargs="*", help="passed to pytest (after --)")
    options = parser.parse_args(argv)
    dates = [d.strip() for d in options.dates.split(",") if d.strip()]

    results: dict[str, dict[str, str]] = {}
    codes: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="soudan-timeshift-") as folder:
        for index, date in enumerate(dates):
            report = Path(folder) / f"run-{index}.xml"
            codes[date] = _run(date, report, options.pytest_args)
            if not report.exists():
                print(f"timeshift: pytest wrote no report at {date} (exit {codes[date]})")
                return codes[date] or 1
            results[date] = _outcomes(report)

    baseline_date = dates[0]
    baseline = results[baseline_date]
    changed: list[str] = []
    for date in dates[1:]:
        for test_id in sorted(set(baseline) | set(results[date])):
            before = baseline.get(test_id, "absent")
            after = results[date].get(test_id, "absent")
            if before != after:
                changed.append(f"  {test_id}: {before} at {baseline_date}, {after} at {date}")

    print("\n=== results by date ===")
    for date in dates:
        counts = Counter(results[date].values())
        print(f"  {date:>28}: " + ", ".join(f"{n} {k}" for k, n in sorted(counts.items())))
    if changed:
        print(f"\n{len(changed)} test result(s) depend on the date:")
        print("\n".join(changed))
    passed = sum(Counter(r.values())["passed"] for r in results.values())
    failed = sum(
        Counter(r.values())["failed"] + Counter(r.values())["error"] for r in results.values()
    )
    skipped = sum(Counter(r.values())["skipped"] for r in results.values())
    print(f"timeshift: {passed} passed, {failed + len(changed)} failed, {skipped} skipped")
    if changed or failed or any(codes.values()):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
