"""Fixtures: a mock Slack Web API, the real bolt app behind real aiohttp, signed requests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.settings import Settings
from bot.slack import build_slack_app, mount_slack
from bot.wiring import Services, build_services
from knowledge import KnowledgeBase
from tests.fixtures_db import sqlite_database, sqlite_template  # noqa: F401  (fixtures)
from tests.slack.harness import SIGNING_SECRET, SlackHarness, StartApp
from tests.slack.mock_web_api import MockSlackApi
from tests.slack.slack_requests import SlackSender


@pytest.fixture
async def mock_api() -> AsyncIterator[MockSlackApi]:
    api = MockSlackApi()
    await api.start()
    yield api
    await api.stop()


@pytest.fixture
async def start_app() -> AsyncIterator[StartApp]:
    """Factory: serve ``build_slack_app(settings, services)`` on 127.0.0.1 (random port)."""
    runners: list[web.AppRunner] = []
    sessions: list[aiohttp.ClientSession] = []

    async def start(settings: Settings, services: Any) -> SlackHarness:
        slack_app = build_slack_app(settings, services)
        web_app = web.Application()
        mount_slack(web_app, slack_app)
        runner = web.AppRunner(web_app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        runners.append(runner)
        host, port = runner.addresses[0][:2]
        session = aiohttp.ClientSession()
        sessions.append(session)
        url = f"http://{host}:{port}/slack/events"
        return SlackHarness(slack_app, SlackSender(url, SIGNING_SECRET, session))

    yield start
    for session in sessions:
        await session.close()
    for runner in runners:
        await runner.cleanup()  # on_shutdown drains the turns still running


# --- the real core ------------------------------------------------------------------------

@pytest.fixture(scope="session")
def knowledge_base(corpus_knowledge: KnowledgeBase) -> KnowledgeBase:
    """The real knowledge base over the whole corpus, shared with the other test folders."""
    return corpus_knowledge


@pytest.fixture
def build_real_services(
    knowledge_base: KnowledgeBase,
) -> Iterator[Callable[[Settings], Services]]:
    """Factory: ``build_services`` over a settings' own database, sharing the index."""
    built: list[Services] = []

    def build(settings: Settings) -> Services:
        services = build_services(settings, knowledge=knowledge_base)
        built.append(services)
        return services

    yield build
    for services in built:
        services.database.dispose()
