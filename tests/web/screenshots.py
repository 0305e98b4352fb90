"""Screenshots of every console page for the README: ``python -m tests.web.screenshots``.

Seeds a throw-away SQLite database with a handful of realistic sheets, serves the
console on 127.0.0.1, signs in through chat-issued links in headless Chromium
(Debian's ``chromium``) and writes ``docs/images/console-*.png``.
"""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

from playwright.sync_api import sync_playwright

from bot.web.local import LocalConsole
from storage import Database, MessageDirection, record_message
from storage.models import UserRole
from tests.web.browser import CHROMIUM, PC, PHONE, free_port
from tests.web.conftest import MOMENT
from tests.web.harness import Clock, ConsoleHarness, Person, settings_for

OUT = Path(__file__).resolve().parents[2] / "docs" / "images"
REVIEWER = Person("U-cio", "補佐 一郎", UserRole.REVIEWER)
STAFF = Person("U-hanako", "市民 花子", UserRole.STAFF, "市民課")
CITE = {"doc": "kisarazu-ict-guideline.md", "title": "木更津市 ICT活用ガイドライン（案）",
        "section": "【Ⅰ. 検討】 > 3. ICT 活用に関する協議",
        "quote": "新規 ICT ツール導入のイニシャルコスト部分の設計額が300万円以上となる場合は、"
                 "DX推進本部会議で協議を行う。"}
DECISIONS = [
    {"name": "dx_council_required", "label": "DX推進本部協議", "value": True,
     "statement": "イニシャルコストが300万円以上のため、DX推進本部会議での協議が必要です。",
     "cites": [CITE]},
    {"name": "rfi_recommended", "label": "RFI", "value": True,
     "statement": "新たに ICT 活用を検討する業務のため、RFI を行います。",
     "cites": [{**CITE, "section": "【Ⅰ. 検討】 > 4. RFI の実施",
                "quote": "新たに ICT 活用を検討する業務、または ICT 活用に必要な基礎情報が"
                         "不足している場合は RFI を行う。"}]},
]


def seed(harness: ConsoleHarness) -> str:
    for person in (REVIEWER, STAFF):
        harness.register(person)
    main = harness.sheet(requester=STAFF, business="窓口予約のオンライン化",
                         created=timedelta(days=10), decisions=DECISIONS)
    rows = [("総務課", "文書管理システムの更新", 12_000_000, "in_review", 5),
            ("税務課", "課税資料のデータ化", 2_400_000, "submitted", 2),
            ("福祉課", "相談記録のクラウド化", None, "returned", 4),
            ("子育て課", "保育所入所申請の電子化", 6_800_000, "accepted", 6),
            ("市民課", "証明書コンビニ交付の拡充", 1_500_000, "submitted", 1),
            ("環境課", "ごみ収集ルートの最適化", 3_200_000, "closed", 20)]
    for department, business, cost, status, days in rows:
        harness.sheet(department=department, business=business, initial_cost=cost,
                      status=status, created=timedelta(days=days))
    harness.sheet(requester=STAFF, business="窓口の混雑状況の公開", status="returned",
                  initial_cost=900_000, created=timedelta(days=3))
    with harness.database.session() as session:
        for days, text in ((1, "クラウドサービスの選定基準は？"), (2, "クラウドサービスの選定基準は？"),
                           (3, "RFI の回答期限は何日が目安？"), (15, "保守契約の更新手続きは？"),
                           (30, "生成 AI の利用ルールは？")):
            record_message(session=session, channel="slack", tenant="T1", conversation="C9:1.0",
                           direction=MessageDirection.INBOUND, text=text, user_id="U7",
                           question=True, answered=False,
                           now=harness.clock() - timedelta(days=days))
    return main


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        database = Database(f"sqlite:///{folder}/soudan.db")
        database.upgrade()
        harness = ConsoleHarness(database, Clock(MOMENT),
                                 settings_for(Path(folder), port=free_port()))
        reference = seed(harness)
        server = LocalConsole(harness.app(), "127.0.0.1", harness.settings.port)
        server.start()
        base = harness.settings.console_url
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)

                def page_for(person: Person, viewport: dict[str, int] = PC) -> object:
                    page = browser.new_context(viewport=viewport, locale="ja-JP").new_page()
                    page.goto(harness.chat_link(person))
                    page.screenshot(path=str(OUT / "console-sign-in.png"))
                    page.get_by_role("button", name="サインインする").click()
                    return page

                page = page_for(REVIEWER)
                for name, path in (("queue", "/console/queue?status=submitted,in_review"),
                                   ("sheet", f"/console/sheets/{reference}"),
                                   ("digest", "/console/digest?week=2026-W47"),
                                   ("unanswered", "/console/unanswered?week=2026-W47")):
                    page.goto(base + path)  # type: ignore[attr-defined]
                    if name == "sheet":
                        page.locator("ol.citations details summary").first.click()  # type: ignore[attr-defined]
                    page.screenshot(path=str(OUT / f"console-{name}.png"), full_page=True)  # type: ignore[attr-defined]
                staff = page_for(STAFF)
                staff.goto(base + "/console/mine")  # type: ignore[attr-defined]
                staff.screenshot(path=str(OUT / "console-mine.png"), full_page=True)  # type: ignore[attr-defined]
                phone = page_for(REVIEWER, PHONE)
                phone.goto(base + "/console/queue?status=submitted,in_review")  # type: ignore[attr-defined]
                phone.screenshot(path=str(OUT / "console-phone.png"))  # type: ignore[attr-defined]
                browser.close()
        finally:
            server.stop()
            database.dispose()
    print(f"screenshots written to {OUT}")


if __name__ == "__main__":
    main()
