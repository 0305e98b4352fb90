"""Who is talking: Slack display names, looked up once and kept in the database.

A user is identified by (tenant, user id), tenant being the Enterprise Grid id or
the workspace id. The first turn of a user costs one ``users.info`` call; the name
goes to the core with the turn (``Inbound.user_name``), and the core records it in
the turn's transaction — the one place a display name is written. Every later turn,
in any replica, reads the name from the database.

Only the display name comes from Slack. The department decides which 相談シート a
user may see, and a Slack profile is edited by its owner, so the adapter never
writes a department: an administrator assigns it, or the core asks the user.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Protocol

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from storage import Database, get_user_profile

log = logging.getLogger(__name__)


class NameStore(Protocol):
    """Port: display names in the database's user profiles (synchronous; off the loop)."""

    def find(self, tenant: str, user_id: str) -> str | None: ...


class DatabaseNameStore:
    """:class:`NameStore` over storage's ``user_profile`` table (channel ``slack``).

    A profile an administrator created without a name counts as unknown, so the
    name is still looked up once.
    """

    def __init__(self, database: Database) -> None:
        self._database = database

    def find(self, tenant: str, user_id: str) -> str | None:
        with self._database.session() as session:
            profile = get_user_profile(
                session=session, channel="slack", tenant=tenant, user_id=user_id
            )
            return profile.display_name if profile is not None else None


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
    """Display names of Slack users, cached in the database.

    Args:
        store: where names are kept (the shared database).
    """

    def __init__(self, store: NameStore) -> None:
        self._store = store

    async def display_name(self, client: AsyncWebClient, tenant: str, user_id: str) -> str | None:
        """The user's display name; looks it up in Slack while none is recorded (the
        core records the name it is given with the turn).

        A failed lookup is logged and yields ``None``: a missing name never blocks
        an answer.
        """
        known = await asyncio.to_thread(self._store.find, tenant, user_id)
        if known is not None:
            return known
        try:
            response = await client.users_info(user=user_id)
        except SlackApiError as exc:
            log.warning("users.info failed: %s", exc.response.get("error"))
            return None
        return display_name_in(response.get("user") or {})
