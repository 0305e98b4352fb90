"""Signing in and posting forms over real HTTP (aiohttp's test server on 127.0.0.1)."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from aiohttp.test_utils import TestClient

from tests.web.harness import ConsoleHarness, Person

_HIDDEN = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)">')


def hidden_fields(html: str) -> dict[str, str]:
    return dict(_HIDDEN.findall(html))


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


async def open_link(client: TestClient, url: str) -> tuple[int, dict[str, str]]:
    """GET the sign-in page, then press its button; (status of the POST, its headers)."""
    page = await client.get(path_of(url))
    fields = hidden_fields(await page.text())
    if page.status != 200:
        return page.status, dict(page.headers)
    posted = await client.post("/console/sign-in", data=fields, allow_redirects=False)
    return posted.status, dict(posted.headers)


async def sign_in(client: TestClient, harness: ConsoleHarness, person: Person) -> str:
    """Sign ``person`` in through a chat-issued link; the session's CSRF token."""
    status, _ = await open_link(client, harness.chat_link(person))
    assert status == 303, f"sign-in failed with HTTP {status}"
    page = await client.get("/console/mine")  # 403 for an administrator, still signed in
    assert page.status in (200, 403)
    return hidden_fields(await page.text())["csrf"]
