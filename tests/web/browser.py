"""Headless Chromium for the console tests: Debian's ``chromium``, driven by Playwright.

The browser is the system's (``/usr/bin/chromium``, installed by ``make test``'s set-up);
Playwright's own browser download is never used. Without it the tests fail with a
message saying how to install it: a browser test that quietly skips proves nothing.
"""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
"""Screenshots taken by the browser tests (git-ignored)."""

PC = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(
            f"Chromium not found at {CHROMIUM}. Install Debian's package: "
            "`apt-get install -y chromium` (make test does this).",
            pytrace=False,
        )
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield browser
        browser.close()
