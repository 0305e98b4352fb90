"""「管理画面」 is a core command: Slack and Teams get the same single-use link as the terminal.

A signed Slack DM goes to the real bolt app (the reply reaches the mock Web API); a
Teams activity goes to the real endpoint (the reply reaches the mock connector); the
link in the reply signs the person in to the console served over HTTP, once.
"""

from __future__ import annotations

from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.web import build_console, mount_console
from bot.wiring import Services, build_services
from storage import UserRole, list_user_profiles, upsert_user_profile
from tests.slack.conftest import mock_api, start_app  # noqa: F401  (Slack fixtures)
from tests.slack.harness import SlackUser, StartApp, slack_settings
from tests.slack.mock_web_api import TEAM_ID, MockSlackApi
from tests.teams.conftest import connector, services, start_bot  # noqa: F401  (Teams fixtures)
from tests.teams.connector import MockConnector
from tests.teams.running_bot import StartBot
from tests.teams.teams_user import TeamsUser
from tests.web.harness import LINK, NoKnowledge
from tests.web.http_client import open_link


async def test_a_slack_dm_brings_a_link_that_signs_in_once(
    tmp_path: Path, mock_api: MockSlackApi, start_app: StartApp  # noqa: F811
) -> None:
    built = build_services(slack_settings(tmp_path, mock_api), knowledge=NoKnowledge())
    try:
        with built.database.session() as session:
            upsert_user_profile(session=session, channel="slack", tenant=TEAM_ID,
                                user_id="U100", role=UserRole.REVIEWER)
        slack = await start_app(built.settings, built)
        reviewer = SlackUser(slack, mock_api)
        shown = await reviewer.say("管理画面")
        found = LINK.search(" ".join(message.body() for message in shown))
        assert found, [message.body() for message in shown]

        app = web.Application()
        mount_console(app, build_console(built))
        async with TestClient(TestServer(app)) as client:
            status, headers = await open_link(client, found.group(0))
            assert status == 303 and headers["Location"] == "/console/queue"
            assert (await client.get("/console/queue")).status == 200
        async with TestClient(TestServer(app)) as replay:
            status, _ = await open_link(replay, found.group(0))
            assert status == 400
    finally:
        built.database.dispose()


async def test_a_teams_message_brings_a_link_that_signs_in(
    start_bot: StartBot, connector: MockConnector, services: Services  # noqa: F811
) -> None:
    hanako = TeamsUser(await start_bot(services=services), connector)
    refused = await hanako.says("管理画面")
    # Having chatted leaves a profile, but no department: nothing to see, no link.
    assert "所属部署が未登録" in refused and "/console/" not in refused
    with services.database.session() as session:
        (profile,) = list_user_profiles(session=session)  # remembered by the first turn
        upsert_user_profile(session=session, channel="teams", tenant=profile.tenant,
                            user_id=profile.user_id, role=UserRole.REVIEWER)
    found = LINK.search(await hanako.says("管理画面"))
    assert found

    app = web.Application()
    mount_console(app, build_console(services))
    async with TestClient(TestServer(app)) as client:
        status, headers = await open_link(client, found.group(0))
        assert status == 303 and headers["Location"] == "/console/queue"
