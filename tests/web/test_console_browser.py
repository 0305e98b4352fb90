"""The console in a real headless Chromium: sign-in by chat link, the review round trip,
404 across departments, refused links and forms, the digest's charts. Screenshots go to
``test-artifacts/browser/``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.web.local import LocalConsole
from storage import Database
from storage.models import UserRole
from tests.web.browser import ARTIFACTS, PC, PHONE, free_port
from tests.web.conftest import MOMENT
from tests.web.harness import Clock, ConsoleHarness, Person, settings_for

pytestmark = pytest.mark.browser

REVIEWER = Person("U-cio", "補佐 一郎", UserRole.REVIEWER)
REQUESTER = Person("U-hanako", "市民 花子", UserRole.STAFF, "市民課")
OTHER = Person("U-somu", "総務 次郎", UserRole.STAFF, "総務課")

DECISION = {
    "name": "dx_council_required", "label": "DX推進本部協議", "kind": "decision", "value": True,
    "value_label": "必要",
    "statement": "イニシャルコストが300万円以上のため、DX推進本部会議での協議が必要です。",
    "cites": [{"doc": "kisarazu-ict-guideline.md", "title": "木更津市 ICT活用ガイドライン（案）",
               "section": "【Ⅰ. 検討】 > 3. ICT 活用に関する協議",
               "quote": "設計額が300万円以上となる場合は、DX推進本部会議で協議を行う。"}],
}


@pytest.fixture
def served(sqlite_database: Database, tmp_path: Path) -> Iterator[ConsoleHarness]:
    """The console on a real port of 127.0.0.1, people registered, a few sheets."""
    harness = ConsoleHarness(
        sqlite_database, Clock(MOMENT), settings_for(tmp_path, port=free_port())
    )
    for person in (REVIEWER, REQUESTER, OTHER):
        harness.register(person)
    server = LocalConsole(harness.app(), "127.0.0.1", harness.settings.port)
    server.start()
    yield harness
    server.stop()


def signed_in(chromium: Any, harness: ConsoleHarness, person: Person, **options: Any) -> Any:
    """A new browser context (own cookies) signed in through the person's chat link."""
    context = chromium.new_context(viewport=options.pop("viewport", PC), locale="ja-JP",
                                   **options)
    page = context.new_page()
    page.goto(harness.chat_link(person))
    page.get_by_role("button", name="サインインする").click()
    page.wait_for_load_state()
    return page


def shot(page: Any, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def test_review_round_trip_in_the_browser(chromium: Any, served: ConsoleHarness) -> None:
    harness = served
    reference = harness.sheet(requester=REQUESTER, business="窓口予約のオンライン化",
                              created=timedelta(days=9), decisions=[DECISION])
    harness.sheet(department="総務課", business="文書管理システムの更新",
                  requester=OTHER, created=timedelta(days=2))

    reviewer = signed_in(chromium, harness, REVIEWER)
    assert reviewer.url.endswith("/console/queue")
    reviewer.get_by_label("状態").select_option("submitted,in_review")
    reviewer.get_by_label("部署").select_option("市民課")
    reviewer.get_by_role("button", name="絞り込む").click()
    rows = reviewer.locator("table.queue tbody tr")
    assert rows.count() == 1
    assert "overdue" in (rows.first.get_attribute("class") or "")
    assert "7日超" in rows.first.inner_text()
    shot(reviewer, "queue-filtered")

    reviewer.get_by_role("link", name=reference).click()
    assert reviewer.get_by_role("heading", level=1).inner_text().startswith(f"相談シート {reference}")
    citation = reviewer.locator("ol.citations details").first
    assert not citation.locator("blockquote").is_visible()
    citation.locator("summary").click()  # the quoted clause opens on demand
    assert "300万円以上" in citation.locator("blockquote").inner_text()
    reviewer.get_by_role("button", name="確認を開始").click()
    assert "確認を開始しました" in reviewer.locator("p.notice").inner_text()
    reviewer.get_by_label("差し戻しの理由（依頼者に届きます）").fill(
        "ランニングコストの内訳を追記してください")
    reviewer.get_by_role("button", name="差し戻し").click()
    assert "差し戻しました" in reviewer.locator("p.notice").inner_text()
    assert "ランニングコストの内訳を追記してください" in reviewer.locator("ol.timeline").inner_text()
    shot(reviewer, "sheet-returned")

    requester = signed_in(chromium, harness, REQUESTER)
    assert requester.url.endswith("/console/mine")
    reason = requester.locator(".reason")
    assert "ランニングコストの内訳を追記してください" in reason.inner_text()
    shot(requester, "mine-with-reason")

    other = signed_in(chromium, harness, OTHER)
    response = other.goto(f"{harness.settings.console_url}/console/sheets/{reference}")
    assert response is not None and response.status == 404
    assert "窓口予約のオンライン化" not in other.content()
    shot(other, "other-department-404")


def test_replayed_and_expired_links_are_refused(chromium: Any, served: ConsoleHarness) -> None:
    harness = served
    link = harness.chat_link(REVIEWER)
    first = chromium.new_context(viewport=PC)
    page = first.new_page()
    page.goto(link)
    page.get_by_role("button", name="サインインする").click()
    assert page.url.endswith("/console/queue")

    replay = chromium.new_context(viewport=PC).new_page()
    replay.goto(link)
    replay.get_by_role("button", name="サインインする").click()
    assert "このサインイン用リンクは使えません" in replay.locator("p.notice").inner_text()
    assert replay.goto(f"{harness.settings.console_url}/console/queue").status == 401

    late = harness.chat_link(REVIEWER)
    harness.clock.advance(minutes=11)
    expired = chromium.new_context(viewport=PC).new_page()
    response = expired.goto(late)
    assert response is not None and response.status == 400
    assert "有効期限" in expired.locator("p.notice").inner_text()
    assert expired.get_by_role("button", name="サインインする").count() == 0
    shot(expired, "expired-link")


def test_a_form_without_its_csrf_token_is_refused(chromium: Any, served: ConsoleHarness) -> None:
    harness = served
    reference = harness.sheet(status="in_review")
    page = signed_in(chromium, harness, REVIEWER)
    page.goto(f"{harness.settings.console_url}/console/sheets/{reference}")
    form = page.locator("form.action-accept")
    form.locator('input[name="csrf"]').evaluate("input => input.remove()")
    form.get_by_role("button", name="受理").click()
    assert "確認用トークンが一致しません" in page.locator("p.notice").inner_text()
    assert harness.store.sheet(reference).status == "in_review"  # type: ignore[union-attr]


def test_the_digest_charts_render(chromium: Any, served: ConsoleHarness) -> None:
    harness = served
    for department, cost in (("市民課", 4_500_000), ("市民課", 1_200_000),
                             ("総務課", 15_000_000)):
        harness.sheet(department=department, initial_cost=cost, created=timedelta(days=2))
    page = signed_in(chromium, harness, REVIEWER)
    page.goto(f"{harness.settings.console_url}/console/digest?week=2026-W47")
    charts = page.locator("svg.chart")
    assert charts.count() == 5
    for index in range(5):
        box = charts.nth(index).bounding_box()
        assert box is not None and box["width"] > 200 and box["height"] > 20
    departments = page.locator("#departments rect.chart-bar")
    widths = [float(departments.nth(i).get_attribute("width") or 0) for i in range(2)]
    assert widths[0] == 300 and 140 < widths[1] < 160  # 市民課 2, 総務課 1
    fill = departments.first.evaluate("r => getComputedStyle(r).fill")
    assert fill == "rgb(47, 111, 214)"  # the stylesheet applied (no inline styles)
    shot(page, "digest")


def test_usable_on_a_phone(chromium: Any, served: ConsoleHarness) -> None:
    harness = served
    reference = harness.sheet(decisions=[DECISION])
    page = signed_in(chromium, harness, REVIEWER, viewport=PHONE, is_mobile=True)
    for path in ("/console/queue", f"/console/sheets/{reference}", "/console/digest"):
        page.goto(f"{harness.settings.console_url}{path}")
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, (path, overflow)
    shot(page, "phone-digest")
    page.goto(f"{harness.settings.console_url}/console/queue")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "本文へ移動"
    shot(page, "phone-queue")
