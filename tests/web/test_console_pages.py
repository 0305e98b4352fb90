"""What each console page shows: queue filters, sort and pages; the sheet in full; the
digest with its charts and downloads; unanswered questions; one's own sheets."""

from __future__ import annotations

import re
from datetime import timedelta

from aiohttp.test_utils import TestClient, TestServer

from bot.core.messages import Text
from storage import FeedbackValue, MessageDirection, record_feedback, record_message
from storage.models import UserRole
from storage.outbox import list_outbox_messages
from tests.review.review_fakes import CollectingNotifier
from tests.web.harness import ConsoleHarness, Person
from tests.web.http_client import sign_in

REVIEWER = Person("U-cio", "CIO補佐", UserRole.REVIEWER)
REQUESTER = Person("U-hanako", "市民 花子", UserRole.STAFF, "市民課")

DECISION = {
    "name": "dx_council_required", "label": "DX推進本部協議", "kind": "decision", "value": True,
    "value_label": "必要",
    "statement": "イニシャルコストが300万円以上のため、DX推進本部会議での協議が必要です。",
    "cites": [{"doc": "kisarazu-ict-guideline.md", "title": "木更津市 ICT活用ガイドライン（案）",
               "section": "【Ⅰ. 検討】 > 3. ICT 活用に関する協議",
               "quote": "設計額が300万円以上となる場合は、DX推進本部会議で協議を行う。"}],
}


def references(html: str) -> list[str]:
    return re.findall(r'<th scope="row"><a href="/console/sheets/([\d-]+)">', html)


async def test_queue_filters_sorts_pages_and_highlights_long_waits(
    harness: ConsoleHarness,
) -> None:
    harness.register(REVIEWER)
    old = harness.sheet(department="市民課", business="長く待っている相談",
                        created=timedelta(days=12))
    fresh = harness.sheet(department="総務課", business="新しい相談", created=timedelta(days=1),
                          initial_cost=1_000_000)
    done = harness.sheet(department="市民課", business="受理済みの相談", status="accepted",
                         initial_cost=None)
    for n in range(55):
        harness.sheet(department="税務課", business=f"税務の相談{n}", status="draft",
                      created=timedelta(days=60))
    async with TestClient(TestServer(harness.app())) as client:
        await sign_in(client, harness, REVIEWER)
        page = await (await client.get("/console/queue?status=submitted,in_review")).text()
        assert references(page) == [old, fresh]  # oldest submission first
        rows = page.split("<tr")
        old_row = next(r for r in rows if f">{old}</a>" in r)
        fresh_row = next(r for r in rows if f">{fresh}</a>" in r)
        assert old_row.startswith(' class="overdue">') and "11日 <strong class=\"late\">7日超" in old_row
        assert "overdue" not in fresh_row and "7日超" not in fresh_row

        by_department = await (await client.get("/console/queue?department=総務課")).text()
        assert references(by_department) == [fresh]
        cheap = await (await client.get("/console/queue?cost=low")).text()
        assert references(cheap) == [fresh]
        unknown = await (await client.get("/console/queue?cost=unknown")).text()
        assert references(unknown) == [done]
        this_week = await (await client.get("/console/queue?week=2026-W47")).text()
        assert set(references(this_week)) == {fresh, done}
        by_cost = await (await client.get("/console/queue?sort=cost&status=submitted")).text()
        assert references(by_cost) == [old, fresh]

        first = await (await client.get("/console/queue?sort=reference")).text()
        assert "58 件中 1〜50 件を表示" in first and "1 / 2 ページ" in first
        second = await (await client.get("/console/queue?sort=reference&page=2")).text()
        assert "58 件中 51〜58 件を表示" in second
        assert len(references(first)) == 50 and len(references(second)) == 8
        assert not set(references(first)) & set(references(second))
        bad = await client.get("/console/queue?week=47")
        assert bad.status == 400 and "2026-W47" in await bad.text()


async def test_the_sheet_shows_decisions_with_clauses_timeline_and_actions(
    harness: ConsoleHarness,
) -> None:
    harness.register(REVIEWER)
    slack = CollectingNotifier("slack")
    harness.notifiers["slack"] = slack
    reference = harness.sheet(status="in_review", decisions=[DECISION])
    async with TestClient(TestServer(harness.app())) as client:
        csrf = await sign_in(client, harness, REVIEWER)
        page = await (await client.get(f"/console/sheets/{reference}")).text()
        assert "DX推進本部協議: 必要 — イニシャルコストが300万円以上のため" in page
        assert "木更津市 ICT活用ガイドライン（案）" in page
        assert "【Ⅰ. 検討】 &gt; 3. ICT 活用に関する協議" in page
        assert "<blockquote>設計額が300万円以上となる場合は" in page
        assert "提出済み → 確認中" in page
        verbs = re.findall(rf'action="/console/sheets/{reference}/(\w+)"', page)
        assert verbs == ["accept", "return", "comment"]

        empty = await client.post(f"/console/sheets/{reference}/return",
                                  data={"csrf": csrf, "text": "  "})
        assert empty.status == 409 and "理由の記入が必要" in await empty.text()
        returned = await client.post(f"/console/sheets/{reference}/return",
                                     data={"csrf": csrf, "text": "積算根拠を追記してください"})
        assert returned.status == 200 and str(returned.url).endswith("?done=return&n=sent")
        page = await returned.text()
        assert "差し戻しました。依頼者に通知しました。" in page and "確認中 → 差し戻し" in page
        (address, parts), = slack.delivered
        assert address.conversation == "C-U-req:1.0"
        assert "理由: 積算根拠を追記してください" in " ".join(
            p.text for p in parts if isinstance(p, Text))
        assert "差し戻し理由" in page and "積算根拠を追記してください" in page
        assert re.findall(rf'action="/console/sheets/{reference}/(\w+)"', page) == ["comment"]


async def test_the_digest_draws_its_charts_and_offers_downloads(harness: ConsoleHarness) -> None:
    harness.register(REVIEWER)
    harness.sheet(department="市民課", created=timedelta(days=2))
    harness.sheet(department="総務課", created=timedelta(days=2), initial_cost=12_000_000)
    with harness.database.session() as session:
        for weeks_ago in (0, 0, 3):
            record_message(
                session=session, channel="slack", tenant="T1", conversation="C9:1.0",
                direction=MessageDirection.INBOUND, text="電話番号 090-1234-5678 の扱いは？",
                user_id="U7", question=True, answered=False,
                now=harness.clock() - timedelta(days=7 * weeks_ago, hours=1),
            )
    async with TestClient(TestServer(harness.app())) as client:
        await sign_in(client, harness, REVIEWER)
        page = await (await client.get("/console/digest?week=2026-W47")).text()
        assert page.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart"') == 5
        assert "市民課 1件、総務課 1件" in page  # the departments chart's description
        assert "1000万円以上 1件" in page
        assert re.search(r"W44 1件、W45 0件、W46 0件、W47 2件</desc>", page)
        assert "090-1234-5678" not in page
        assert "<script" not in page and "style=" not in page
        for fmt, kind in (("xlsx", "spreadsheetml"), ("csv", "text/csv"), ("md", "markdown")):
            download = await client.get(f"/console/digest/download?week=2026-W47&format={fmt}")
            assert download.status == 200 and kind in download.headers["Content-Type"]
            assert "attachment" in download.headers["Content-Disposition"]
            assert len(await download.read()) > 50
        assert (await client.get("/console/digest/download?format=exe")).status == 404


async def test_unanswered_and_disliked_questions(harness: ConsoleHarness) -> None:
    harness.register(REVIEWER)
    with harness.database.session() as session:
        at = harness.clock() - timedelta(hours=2)
        for _ in range(2):
            record_message(session=session, channel="slack", tenant="T1", conversation="C1",
                           direction=MessageDirection.INBOUND, text="クラウド利用の基準は？",
                           user_id="U7", question=True, answered=False, now=at)
        asked = record_message(session=session, channel="slack", tenant="T1",
                               conversation="C1", direction=MessageDirection.INBOUND,
                               text="RFI の期間は？", user_id="U7", question=True,
                               answered=True, now=at)
        answer = record_message(session=session, channel="slack", tenant="T1",
                                conversation="C1", direction=MessageDirection.OUTBOUND,
                                text="…", in_reply_to=asked.id, now=at)
        record_feedback(session=session, answer_id=answer.id, user_id="U7",
                        value=FeedbackValue.DOWN, now=at)
    async with TestClient(TestServer(harness.app())) as client:
        await sign_in(client, harness, REVIEWER)
        page = await (await client.get("/console/unanswered?week=2026-W47")).text()
        assert "<td>クラウド利用の基準は？</td><td>2</td>" in page
        assert "<td>RFI の期間は？</td><td>1</td>" in page
        earlier = await (await client.get("/console/unanswered?week=2026-W40")).text()
        assert "クラウド利用の基準は？" not in earlier


async def test_my_sheets_show_the_return_reason(harness: ConsoleHarness) -> None:
    harness.register(REQUESTER)
    mine = harness.sheet(requester=REQUESTER, status="returned", business="自分の相談")
    harness.sheet(business="同じ課の別の人の相談")
    async with TestClient(TestServer(harness.app())) as client:
        await sign_in(client, harness, REQUESTER)
        page = await (await client.get("/console/mine")).text()
        assert mine in page and "自分の相談" in page and "同じ課の別の人の相談" not in page
        assert "差し戻しの理由" in page and "積算根拠を追記してください" in page
        assert "Slack の相談スレッドを開く" in page


async def test_security_headers_on_every_console_response(sqlite_harness: ConsoleHarness) -> None:
    async with TestClient(TestServer(sqlite_harness.app())) as client:
        for path in ("/console/", "/console/queue", "/console/sign-in?t=bad",
                     "/console/static/console.css"):
            response = await client.get(path)
            csp = response.headers["Content-Security-Policy"]
            assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
            assert "unsafe-inline" not in csp
            assert response.headers["Referrer-Policy"] == "no-referrer"
            assert response.headers["X-Frame-Options"] == "DENY"
            assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_the_reviewer_is_told_the_notice_waits_when_the_requester_cannot_be_reached(
    sqlite_harness: ConsoleHarness,
) -> None:
    harness = sqlite_harness  # no notifier for the sheet's channel in this process
    harness.register(REVIEWER)
    reference = harness.sheet(status="in_review")
    async with TestClient(TestServer(harness.app())) as client:
        csrf = await sign_in(client, harness, REVIEWER)
        accepted = await client.post(f"/console/sheets/{reference}/accept", data={"csrf": csrf})
        assert "受理しました。依頼者に通知します。" in await accepted.text()
    # The notice waits in the outbox for a process that can reach the requester.
    with harness.database.session() as session:
        waiting = list_outbox_messages(session=session)
    assert [m.subject for m in waiting] == [reference]
