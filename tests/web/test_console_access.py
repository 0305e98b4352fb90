"""Every route's authorisation over HTTP: role × department × status, one audit row each.

The expectations are written out (not computed from the policy): a staff member of
another department, an administrator and a reviewer of another tenant get 404 for a
sheet, whether it exists or not; reviewers may take only the steps the sheet's status
allows (409 otherwise); staff may look but not review (403).
"""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient, TestServer

from storage import count_audit
from storage.models import UserRole
from tests.web.harness import ConsoleHarness, Person
from tests.web.http_client import sign_in

STATUSES = ("draft", "submitted", "in_review", "returned", "accepted", "closed")
VERBS = ("comment", "start", "return", "accept", "close")

PEOPLE = {
    "reviewer": Person("U-cio", "CIO補佐", UserRole.REVIEWER),
    "staff_same": Person("U-same", "市民課の職員", UserRole.STAFF, "市民課"),
    "staff_other": Person("U-other", "総務課の職員", UserRole.STAFF, "総務課"),
    "staff_pending": Person("U-pending", "申告中の職員", UserRole.STAFF),
    "admin": Person("U-admin", "管理者", UserRole.REVIEWER),  # made admin once signed in
    "reviewer_t2": Person("U-cio2", "他団体の CIO補佐", UserRole.REVIEWER, tenant="T2"),
}

ALLOWED_STEP = {"start": "submitted", "return": "in_review", "accept": "in_review",
                "close": "accepted"}


def expected_sheet(who: str, route: str, status: str) -> int:
    """HTTP status of GET /sheets/<ref> (route ``view``) or POST /sheets/<ref>/<verb>."""
    if who != "reviewer" and who != "staff_same":
        return 404
    if route == "view":
        return 200
    if who == "staff_same":
        return 403
    if route == "comment":
        return 303
    return 303 if ALLOWED_STEP[route] == status else 409


PAGES = ("/console/queue", "/console/digest", "/console/digest/download?format=csv",
         "/console/unanswered", "/console/mine")
EXPECTED_PAGES = {
    "reviewer": (200, 200, 200, 200, 200),
    "staff_same": (200, 403, 403, 403, 200),
    "staff_other": (200, 403, 403, 403, 200),
    "staff_pending": (200, 403, 403, 403, 200),
    "admin": (403, 403, 403, 403, 403),
    "reviewer_t2": (200, 200, 200, 200, 200),
}


def audit_rows(harness: ConsoleHarness) -> int:
    with harness.database.session() as session:
        return count_audit(session=session)


def register(harness: ConsoleHarness, who: str) -> Person:
    person = harness.register(PEOPLE[who])
    if who == "staff_pending":  # a department the user declared, not yet confirmed
        harness.store.save_user("slack", "T1", person.user_id, department="市民課")
    return person


async def signed_in(client: TestClient, harness: ConsoleHarness, who: str) -> str:
    """Sign in; an administrator gets no link, so a reviewer signs in and is then made
    admin: the new role applies from the next request."""
    csrf = await sign_in(client, harness, PEOPLE[who])
    if who == "admin":
        harness.store.save_user("slack", "T1", PEOPLE[who].user_id, role="admin")
    return csrf


@pytest.mark.parametrize("who", list(PEOPLE))
async def test_sheet_routes_by_role_department_and_status(
    harness: ConsoleHarness, who: str
) -> None:
    register(harness, who)
    sheets = {
        (route, status): harness.sheet(status=status, department="市民課")
        for route in ("view", *VERBS) for status in STATUSES
    }
    async with TestClient(TestServer(harness.app())) as client:
        csrf = await signed_in(client, harness, who)
        for (route, status), reference in sheets.items():
            before = audit_rows(harness)
            if route == "view":
                response = await client.get(f"/console/sheets/{reference}")
            else:
                text = "理由: 積算根拠を追記してください" if route in ("return", "comment") else ""
                response = await client.post(
                    f"/console/sheets/{reference}/{route}", data={"csrf": csrf, "text": text},
                    allow_redirects=False,
                )
            expected = expected_sheet(who, route, status)
            assert response.status == expected, (who, route, status)
            assert audit_rows(harness) == before + 1, (who, route, status)
            body = await response.text()
            if expected == 404:
                assert "窓口予約受付" not in body and reference not in body
        # A sheet that does not exist reads exactly like a foreign one.
        before = audit_rows(harness)
        missing = await client.get("/console/sheets/2099-9999")
        assert missing.status == 404 and audit_rows(harness) == before + 1


@pytest.mark.parametrize("who", list(PEOPLE))
async def test_page_routes_by_role(harness: ConsoleHarness, who: str) -> None:
    register(harness, who)
    harness.sheet(department="市民課", business="市民課の窓口予約")
    harness.sheet(department="総務課", business="総務課の文書管理")
    async with TestClient(TestServer(harness.app())) as client:
        await signed_in(client, harness, who)
        for path, expected in zip(PAGES, EXPECTED_PAGES[who], strict=True):
            before = audit_rows(harness)
            response = await client.get(path)
            assert response.status == expected, (who, path)
            assert audit_rows(harness) == before + 1, (who, path)
        queue = await (await client.get("/console/queue")).text()
        shows = ("市民課の窓口予約" in queue, "総務課の文書管理" in queue)
        assert shows == {
            "reviewer": (True, True), "staff_same": (True, False),
            "staff_other": (False, True), "staff_pending": (False, False),
            "admin": (False, False), "reviewer_t2": (False, False),
        }[who]


async def test_pages_need_a_session(sqlite_harness: ConsoleHarness) -> None:
    reference = sqlite_harness.sheet()
    async with TestClient(TestServer(sqlite_harness.app())) as client:
        for path in (*PAGES, f"/console/sheets/{reference}", "/console/"):
            response = await client.get(path, allow_redirects=False)
            assert response.status == 401, path
            assert "管理画面" in await response.text()
        posted = await client.post(f"/console/sheets/{reference}/accept", data={})
        assert posted.status == 401
        assert sqlite_harness.store.sheet(reference).status == "submitted"  # type: ignore[union-attr]


async def test_a_form_without_its_csrf_token_is_refused(sqlite_harness: ConsoleHarness) -> None:
    harness = sqlite_harness
    person = harness.register(PEOPLE["reviewer"])
    reference = harness.sheet(status="in_review")
    async with TestClient(TestServer(harness.app())) as client:
        await sign_in(client, harness, person)
        for data in ({"text": "理由"}, {"text": "理由", "csrf": "forged"}):
            before = audit_rows(harness)
            response = await client.post(f"/console/sheets/{reference}/return", data=data)
            assert response.status == 403
            assert "確認用トークン" in await response.text()
            assert audit_rows(harness) == before  # nothing was attempted
        assert harness.store.sheet(reference).status == "in_review"  # type: ignore[union-attr]
