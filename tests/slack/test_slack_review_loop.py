"""The review loop in Slack: the return reason is posted in the requester's thread
and shown again when they press 「修正して再提出する」 there."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.review.desk import ReviewDesk
from bot.review.store import ReviewStore
from bot.wiring import Services, build_notifiers, build_services
from storage import UserRole, list_sheets, upsert_user_profile
from tests.slack.harness import SlackUser, StartApp, slack_settings
from tests.slack.mock_web_api import TEAM_ID, MockSlackApi
from tests.teams.fakes import GuidelineExcerpts

OTHER_FLOWS = Path(__file__).parent.parent / "core" / "other_flows"
REASON = "見積の内訳を添付してください"


@pytest.fixture
def services(tmp_path: Path, mock_api: MockSlackApi) -> Services:
    settings = slack_settings(tmp_path, mock_api, flows_dir=OTHER_FLOWS)
    return build_services(settings, knowledge=GuidelineExcerpts())  # type: ignore[arg-type]


async def test_the_return_reason_reaches_the_thread_and_is_shown_on_reopening(
    start_app: StartApp, services: Services, mock_api: MockSlackApi
) -> None:
    slack = await start_app(services.settings, services)
    staff = SlackUser(slack, mock_api)
    await staff.say("相談を始める")
    await staff.say("総務課")
    await staff.say("複合機の入れ替え")
    await staff.say("150万円")
    [submitted] = await staff.click("この内容で確定する")
    assert "CIO補佐に提出しました" in submitted.body()

    with services.database.session() as session:
        upsert_user_profile(session=session, channel="slack", tenant=TEAM_ID, user_id="U-cio",
                            display_name="補佐 一郎", role=UserRole.REVIEWER)
        [sheet] = list_sheets(session=session)
    store = ReviewStore(services.database)
    desk = ReviewDesk(store, build_notifiers(services))
    reviewer = store.actor("slack", TEAM_ID, "U-cio")
    await asyncio.to_thread(desk.start_review, reviewer, sheet.reference)
    before = len(staff.thread())
    await asyncio.to_thread(desk.return_sheet, reviewer, sheet.reference, REASON)

    notices = staff.thread()[before:]
    assert any(f"理由: {REASON}" in n.body() for n in notices)
    reopened = await staff.click("修正して再提出する")
    text = "\n".join(m.body() for m in reopened)
    assert "差し戻された相談シート" in text
    assert f"差し戻し理由: {REASON}" in text
    services.database.dispose()
