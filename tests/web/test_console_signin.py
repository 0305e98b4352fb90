"""Sign-in: a chat-issued link, single use, ≤ 10 minutes, bound to the user; sessions."""

from __future__ import annotations

from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

from storage import Database, count_audit
from storage.models import UserRole
from tests.web.conftest import MOMENT
from tests.web.harness import Clock, ConsoleHarness, Person, settings_for
from tests.web.http_client import hidden_fields, open_link, path_of, sign_in

REVIEWER = Person("U-cio", "木更津 CIO補佐", UserRole.REVIEWER)
STAFF = Person("U-shimin", "市民 太郎", UserRole.STAFF, "市民課")


async def test_a_chat_link_signs_the_user_in_once(harness: ConsoleHarness) -> None:
    harness.register(REVIEWER)
    async with TestClient(TestServer(harness.app())) as client:
        link = harness.chat_link(REVIEWER)
        page = await client.get(path_of(link))
        assert "<strong>木更津 CIO補佐</strong> さんとしてサインインします" in await page.text()
        status, headers = await open_link(client, link)
        assert status == 303 and headers["Location"] == "/console/queue"
        cookie = headers["Set-Cookie"]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/console" in cookie
        assert "Secure" not in cookie  # plain http on localhost
        page = await client.get("/console/queue")
        assert page.status == 200 and "木更津 CIO補佐" in await page.text()

    async with TestClient(TestServer(harness.app())) as replay:
        status, _ = await open_link(replay, link)
        assert status == 400
        assert (await replay.get("/console/queue")).status == 401


async def test_an_expired_link_is_refused(harness: ConsoleHarness) -> None:
    harness.register(REVIEWER)
    link = harness.chat_link(REVIEWER)
    harness.clock.advance(minutes=10, seconds=1)
    async with TestClient(TestServer(harness.app())) as client:
        page = await client.get(path_of(link))
        assert page.status == 400
        assert "有効期限" in await page.text()


async def test_a_tampered_link_is_refused(harness: ConsoleHarness) -> None:
    harness.register(REVIEWER)
    harness.register(STAFF)
    link = harness.chat_link(STAFF)
    forged = link.replace("t=", "t=x")
    async with TestClient(TestServer(harness.app())) as client:
        assert (await client.get(path_of(forged))).status == 400
        page = await client.get(path_of(link))
        fields = hidden_fields(await page.text())
        fields["t"] = fields["t"][:-2] + ("AA" if not fields["t"].endswith("AA") else "BB")
        posted = await client.post("/console/sign-in", data=fields, allow_redirects=False)
        assert posted.status == 400


async def test_unregistered_and_outside_users_get_no_link(harness: ConsoleHarness) -> None:
    from bot.core.messages import Inbound, Text

    parts = harness.assistant.handle(Inbound(
        channel="slack", tenant="T1", conversation="D1", user_id="U-nobody", text="管理画面"))
    assert "利用者登録" in " ".join(p.text for p in parts if isinstance(p, Text))
    harness.register(REVIEWER)
    parts = harness.assistant.handle(Inbound(
        channel="slack", tenant="T1", conversation="D1", user_id=REVIEWER.user_id,
        text="管理画面", home_tenant="T-other"))
    text = " ".join(p.text for p in parts if isinstance(p, Text))
    assert "組織の外" in text and "/console/" not in text
    # Someone who only chatted (a profile with a name, no department) and an administrator
    # (user management only) have no sheet to see: no link either.
    harness.register(Person("U-admin", "管理者", UserRole.ADMIN))
    for user_id, expected in (("U-chatted", "所属部署が未登録"), ("U-admin", "CIO補佐")):
        parts = harness.assistant.handle(Inbound(
            channel="slack", tenant="T1", conversation="D2", user_id=user_id,
            user_name="名前だけ", text="管理画面"))
        text = " ".join(p.text for p in parts if isinstance(p, Text))
        assert expected in text and "/console/" not in text, text
    with harness.database.session() as session:
        assert count_audit(session=session, action="review.console.link") == 4


async def test_sign_in_needs_the_pre_sign_in_cookie(harness: ConsoleHarness) -> None:
    harness.register(REVIEWER)
    link = harness.chat_link(REVIEWER)
    async with TestClient(TestServer(harness.app())) as client:
        fields = hidden_fields(await (await client.get(path_of(link))).text())
        client.session.cookie_jar.clear()
        posted = await client.post("/console/sign-in", data=fields, allow_redirects=False)
        assert posted.status == 403


async def test_sign_out_revokes_the_session(harness: ConsoleHarness) -> None:
    harness.register(STAFF)
    async with TestClient(TestServer(harness.app())) as client:
        csrf = await sign_in(client, harness, STAFF)
        cookies = {c.key: c.value for c in client.session.cookie_jar}
        posted = await client.post("/console/sign-out", data={"csrf": csrf})
        assert posted.status == 200 and "サインアウトしました" in await posted.text()
    async with TestClient(TestServer(harness.app())) as stolen:
        stolen.session.cookie_jar.update_cookies(cookies)
        assert (await stolen.get("/console/mine")).status == 401


async def test_sessions_end_when_idle_or_old(harness: ConsoleHarness) -> None:
    harness.register(STAFF)
    async with TestClient(TestServer(harness.app())) as client:
        await sign_in(client, harness, STAFF)
        harness.clock.advance(minutes=59)
        assert (await client.get("/console/mine")).status == 200
        harness.clock.advance(minutes=61)
        assert (await client.get("/console/mine")).status == 401
    async with TestClient(TestServer(harness.app())) as client:
        await sign_in(client, harness, STAFF)
        for _ in range(8):
            harness.clock.advance(minutes=55)
            assert (await client.get("/console/mine")).status == 200
        harness.clock.advance(minutes=55)
        assert (await client.get("/console/mine")).status == 401  # > 8 hours after sign-in


async def test_the_sign_in_endpoint_is_rate_limited(harness: ConsoleHarness) -> None:
    harness.register(REVIEWER)
    link = harness.chat_link(REVIEWER)
    async with TestClient(TestServer(harness.app())) as client:
        statuses = [(await client.get(path_of(link))).status for _ in range(12)]
        assert statuses[:10] == [200] * 10
        assert statuses[10:] == [429, 429]
        posted = await client.post("/console/sign-in", data={"t": "x", "pre": "y"})
        assert posted.status == 429


async def test_over_https_the_cookie_is_secure_and_hsts_is_sent(
    sqlite_database: Database, tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, console_base_url="https://soudan.example.jp")
    harness = ConsoleHarness(sqlite_database, Clock(MOMENT), settings)
    harness.register(REVIEWER)
    link = harness.chat_link(REVIEWER)
    assert link.startswith("https://soudan.example.jp/console/sign-in?t=")
    async with TestClient(TestServer(harness.app())) as client:
        page = await client.get(path_of(link))
        assert "Secure" in page.headers["Set-Cookie"]
        assert page.headers["Strict-Transport-Security"].startswith("max-age=")
        fields = hidden_fields(await page.text())
        # The test client speaks plain http and keeps Secure cookies to itself: send the
        # pre-sign-in cookie by hand, as a browser on https would.
        posted = await client.post("/console/sign-in", allow_redirects=False, data=fields,
                                   headers={"Cookie": f"soudan_console_pre={fields['pre']}"})
        assert posted.status == 303
        cookie = posted.headers["Set-Cookie"]
        assert "soudan_console=" in cookie and "Secure" in cookie and "HttpOnly" in cookie


async def test_links_and_sessions_that_ended_a_day_ago_are_forgotten(
    harness: ConsoleHarness,
) -> None:
    from sqlmodel import func, select

    from storage.console import ConsoleSession, ConsoleSignIn

    def rows() -> tuple[int, int]:
        with harness.database.session() as session:
            return (session.exec(select(func.count()).select_from(ConsoleSignIn)).one(),
                    session.exec(select(func.count()).select_from(ConsoleSession)).one())

    harness.register(STAFF)
    async with TestClient(TestServer(harness.app())) as client:
        await sign_in(client, harness, STAFF)
        harness.chat_link(STAFF)  # never used
        assert rows() == (2, 1)
        harness.clock.advance(hours=8, minutes=1)
        harness.chat_link(STAFF)  # the session ended only just now: kept
        assert rows() == (3, 1)
        harness.clock.advance(days=1, minutes=1)
        harness.chat_link(STAFF)  # the first two links and the session ended > 1 day ago
        assert rows() == (2, 0)
