"""The review loop in Teams: a returned sheet's reason reaches the requester's
conversation, and is shown again when they reopen the sheet to fix it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.review.desk import ReviewDesk
from bot.review.store import ReviewStore
from bot.wiring import Services, build_services
from storage import UserRole, list_sheets, upsert_user_profile
from tests.teams.activities import PERSONAL_CONVERSATION, TENANT
from tests.teams.connector import MockConnector
from tests.teams.fakes import GuidelineExcerpts
from tests.teams.running_bot import StartBot, teams_settings
from tests.teams.teams_user import TeamsUser, shown_text

OTHER_FLOWS = Path(__file__).parent.parent / "core" / "other_flows"
REASON = "見積の内訳を添付してください"


@pytest.fixture
def two_step_services(tmp_path: Path) -> Iterator[Services]:
    settings = teams_settings(tmp_path / "data").model_copy(update={"flows_dir": OTHER_FLOWS})
    built = build_services(settings, knowledge=GuidelineExcerpts())  # type: ignore[arg-type]
    yield built
    built.database.dispose()


async def test_the_return_reason_reaches_teams_and_is_shown_on_reopening(
    start_bot: StartBot, connector: MockConnector, two_step_services: Services
) -> None:
    services = two_step_services
    running = await start_bot(services=services)
    hanako = TeamsUser(running, connector)
    await hanako.says("相談を始める")
    await hanako.says("総務課")
    await hanako.says("複合機の入れ替え")
    await hanako.says("150万円")
    submitted = await hanako.presses("この内容で確定する")
    assert "CIO補佐に提出しました" in submitted

    with services.database.session() as session:
        upsert_user_profile(session=session, channel="teams", tenant=TENANT, user_id="aad-cio",
                            display_name="補佐 一郎", role=UserRole.REVIEWER)
        [sheet] = list_sheets(session=session)
    store = ReviewStore(services.database)
    desk = ReviewDesk(store, {"teams": running.notifier})
    reviewer = store.actor("teams", TENANT, "aad-cio")
    await asyncio.to_thread(desk.start_review, reviewer, sheet.reference)
    before = len(connector.messages(PERSONAL_CONVERSATION))
    await asyncio.to_thread(desk.return_sheet, reviewer, sheet.reference, REASON)

    notices = connector.messages(PERSONAL_CONVERSATION)[before:]
    notice = shown_text(notices)
    assert f"理由: {REASON}" in notice
    assert "no notifier" not in notice

    [card] = [card for call in notices for card in call.cards
              if "修正して再提出する" in str(card)]
    reopened = await hanako.presses("修正して再提出する", on=card)
    assert "差し戻された相談シート" in reopened
    assert f"差し戻し理由: {REASON}" in reopened
    assert "購入価格: 1,500,000円（150万円）" in reopened
