"""The real ``/api/messages`` endpoint served on 127.0.0.1 for a test."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from bot.settings import Settings
from bot.teams import TeamsNotifier
from bot.teams.bot import SoudanTeamsBot


def teams_settings(data_dir: Path, **overrides: Any) -> Settings:
    """Settings for a test: anonymous local mode unless ``overrides`` say otherwise."""
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "microsoft_app_id": "",
        "teams_allow_anonymous": True,
    }
    return Settings(_env_file=None, **(values | overrides))


@dataclass
class RunningBot:
    """The real ``/api/messages`` endpoint, served on 127.0.0.1."""

    url: str
    notifier: TeamsNotifier
    bot: SoudanTeamsBot
    http: aiohttp.ClientSession

    async def post(self, activity: dict[str, Any], *, token: str | None = None) -> int:
        """POST one activity; the HTTP status the bot answered."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with self.http.post(self.url, json=activity, headers=headers) as response:
            await response.read()
            return response.status

    async def turn(self, activity: dict[str, Any]) -> None:
        """POST one activity and wait until everything it causes has been posted."""
        assert await self.post(activity) == 200
        await self.bot.drain()


StartBot = Callable[..., Awaitable[RunningBot]]
