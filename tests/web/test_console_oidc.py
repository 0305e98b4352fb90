"""Optional OpenID Connect sign-in against a fake issuer on 127.0.0.1 (code flow, PKCE)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from storage import Database, list_audit
from storage.models import UserRole
from tests.web.conftest import MOMENT
from tests.web.fake_issuer import FakeIssuer
from tests.web.harness import Clock, ConsoleHarness, Person, settings_for
from tests.web.http_client import path_of

CIO = Person("oid-cio", "補佐 一郎", UserRole.REVIEWER, channel="teams", tenant="tid-kisarazu")


@pytest.fixture
async def issuer() -> AsyncIterator[FakeIssuer]:
    fake = FakeIssuer()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def oidc_harness(sqlite_database: Database, tmp_path: Path, issuer: FakeIssuer) -> ConsoleHarness:
    settings = settings_for(tmp_path, console_oidc_issuer=issuer.base_url,
                            console_oidc_client_id=issuer.client_id)
    return ConsoleHarness(sqlite_database, Clock(MOMENT), settings)


async def through_issuer(client: TestClient) -> aiohttp.ClientResponse:
    """Press 「組織のアカウントでサインイン」, sign in at the issuer, come back."""
    started = await client.get("/console/oidc/start", allow_redirects=False)
    assert started.status == 302
    async with aiohttp.ClientSession() as browser_at_issuer:
        at_issuer = await browser_at_issuer.get(started.headers["Location"],
                                                allow_redirects=False)
        assert at_issuer.status == 302
        back = at_issuer.headers["Location"]
    return await client.get(path_of(back), allow_redirects=False)


async def test_a_teams_user_signs_in_with_the_organisation_account(
    oidc_harness: ConsoleHarness,
) -> None:
    oidc_harness.register(CIO)
    async with TestClient(TestServer(oidc_harness.app())) as client:
        help_page = await (await client.get("/console/")).text()
        assert 'href="/console/oidc/start"' in help_page
        back = await through_issuer(client)
        assert back.status == 303 and back.headers["Location"] == "/console/queue"
        page = await client.get("/console/queue")
        assert page.status == 200 and "補佐 一郎" in await page.text()
    with oidc_harness.database.session() as session:
        (row,) = list_audit(session=session, action="review.console.sign_in")
        assert row.actor == CIO.key and row.detail["by"] == "oidc"


@pytest.mark.parametrize("misbehaviour", ["wrong_nonce", "foreign_key"])
async def test_a_bad_id_token_is_refused(
    oidc_harness: ConsoleHarness, issuer: FakeIssuer, misbehaviour: str
) -> None:
    oidc_harness.register(CIO)
    setattr(issuer, misbehaviour, True)
    async with TestClient(TestServer(oidc_harness.app())) as client:
        back = await through_issuer(client)
        assert back.status == 400
        assert (await client.get("/console/queue")).status == 401


async def test_state_and_replay_are_checked(oidc_harness: ConsoleHarness) -> None:
    oidc_harness.register(CIO)
    async with TestClient(TestServer(oidc_harness.app())) as client:
        started = await client.get("/console/oidc/start", allow_redirects=False)
        async with aiohttp.ClientSession() as at_issuer:
            back = (await at_issuer.get(started.headers["Location"],
                                        allow_redirects=False)).headers["Location"]
        forged = path_of(back).replace("state=", "state=x")
        assert (await client.get(forged, allow_redirects=False)).status == 400
        assert (await client.get(path_of(back), allow_redirects=False)).status == 303
    async with TestClient(TestServer(oidc_harness.app())) as other_browser:
        # Without the browser's own pending sign-in (its cookie) the code is useless.
        assert (await other_browser.get(path_of(back), allow_redirects=False)).status == 400


async def test_an_unregistered_account_gets_no_session(oidc_harness: ConsoleHarness) -> None:
    async with TestClient(TestServer(oidc_harness.app())) as client:
        back = await through_issuer(client)
        assert back.status == 403 and "利用者登録" in await back.text()
        assert (await client.get("/console/queue")).status == 401


async def test_without_settings_there_is_no_oidc_route(sqlite_harness: ConsoleHarness) -> None:
    async with TestClient(TestServer(sqlite_harness.app())) as client:
        assert (await client.get("/console/oidc/start")).status == 404
        assert "oidc" not in await (await client.get("/console/")).text()
