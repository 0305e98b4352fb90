"""Who is talking: Slack display names, looked up once and kept in the database.

A user is identified by (tenant, user id), tenant being the Enterprise Grid id or
the workspace id. The adapter leaves the name to the core: it binds a look-up
(``Inbound.find_name``) to the turn, and the core, inside the turn's transaction,
uses the name it recorded; only while none is recorded does it call the look-up —
one ``users.info``, outside its transaction — and record the name with the turn,
the one place a display name is written. Every later turn, in any replica, finds
the name in the turn's own transaction (no read of its own before the turn).

Only the display name comes from Slack. The department decides which 相談シート a
user may see, and a Slack profile is edited by its owner, so the adapter never
writes a department: an administrator assigns it, or the core asks the user.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)

LOOKUP_TIMEOUT_SECONDS = 30.0
"""How long the core's worker thread waits for ``users.info`` (the client retries)."""


def display_name_in(user: dict[str, Any]) -> str | None:
    """The name to show for a ``users.info`` ``user`` object.

    Example:
        >>> display_name_in({"name": "taro", "profile": {"display_name": "", "real_name": "山田"}})
        '山田'
    """
    profile = user.get("profile") or {}
    name = (
        profile.get("display_name")
        or profile.get("real_name")
        or user.get("real_name")
        or user.get("name")
    )
    return str(name) if name else None


class SlackDirectory:
    """Display names of Slack users from ``users.info``, for the core to ask.

    Args:
        client: the Web API client of the app.
    """

    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client

    def finder(
        self, user_id: str, *, timeout: float = LOOKUP_TIMEOUT_SECONDS
    ) -> Callable[[], str | None]:
        """``find_name()`` for the core, which calls it from a worker thread while no
        name is recorded: the call runs on this event loop. Past ``timeout`` it raises
        (the core goes on without the name and asks again next turn)."""
        loop = asyncio.get_running_loop()

        def find_name() -> str | None:
            future = asyncio.run_coroutine_threadsafe(self.display_name(user_id), loop)
            return future.result(timeout=timeout)

        return find_name

    async def display_name(self, user_id: str) -> str | None:
        """The user's display name in Slack.

        A failed lookup is logged and yields ``None``: a missing name never blocks
        an answer.
        """
        try:
            response = await self._client.users_info(user=user_id)
        except SlackApiError as exc:
            log.warning("users.info failed: %s", exc.response.get("error"))
            return None
        return display_name_in(response.get("user") or {})
