"""Fixtures: a mock Bot Connector, a tmp SQLite database, and the real endpoint on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.settings import Settings
from bot.teams import MESSAGES_PATH, TEAMS_BOT, mount_teams
from bot.wiring import Services, build_services
from storage.database import Database
from tests.fixtures_db import sqlite_database, sqlite_template  # noqa: F401  (fixtures)
from tests.teams.connector import MockConnector
from tests.teams.fakes import GuidelineExcerpts
from tests.teams.running_bot import RunningBot, StartBot, teams_settings


@pytest.fixture
def connector() -> Iterator[MockConnector]:
    mock = MockConnector()
    mock.start()
    yield mock
    mock.stop()


@pytest.fixture
def services(tmp_path: Path) -> Iterator[Services]:
    """The real system (core, flows, storage on a tmp SQLite data dir), knowledge faked."""
    knowledge = GuidelineExcerpts()  # a QuestionAnswerer; build_services annotates KnowledgeBase
    built = build_services(teams_settings(tmp_path / "data"), knowledge=knowledge)  # type: ignore[arg-type]
    yield built
    built.database.dispose()


@pytest.fixture
async def start_bot(
    tmp_path: Path,
    sqlite_database: Database,  # noqa: F811  (the fixture imported above)
) -> AsyncIterator[StartBot]:
    """``await start_bot(assistant, settings=..., **mount_teams_kwargs)`` -> RunningBot."""
    runners: list[web.AppRunner] = []
    http = aiohttp.ClientSession()

    async def start(
        assistant: Any = None,
        *,
        settings: Settings | None = None,
        services: Any = None,
        **mount_kwargs: Any,
    ) -> RunningBot:
        settings = settings or (services.settings if services else teams_settings(tmp_path))
        app = web.Application()
        services = services or SimpleNamespace(
            settings=settings, assistant=assistant, database=sqlite_database
        )
        if assistant is not None:
            mount_kwargs["assistant"] = assistant
        notifier = mount_teams(app, settings, services, **mount_kwargs)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        host, port = runner.addresses[0][:2]
        url = f"http://{host}:{port}{MESSAGES_PATH}"
        return RunningBot(url=url, notifier=notifier, bot=app[TEAMS_BOT], http=http)

    yield start
    await http.close()
    for runner in runners:
        await runner.cleanup()
