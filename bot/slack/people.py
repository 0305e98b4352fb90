"""Who is talking: Slack display names, looked up once and kept in the database.

A user is identified by (tenant, user id), tenant being the Enterprise Grid id or
the workspace id. The first turn of a user costs one ``users.info`` call; every
later turn, in any replica, reads the name from the database.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from typing import Any, Protocol

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from storage import UNSET, Database, get_user_profile, upsert_user_profile

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Person:
    display_name: str | None
    department: str | None = None


class PersonStore(Protocol):
    """Port: the database's user profiles (synchronous; called off the event loop)."""

    def find(self, tenant: str, user_id: str) -> Person | None: ...

    def remember(self, tenant: str, user_id: str, person: Person) -> None: ...


class DatabasePersonStore:
    """:class:`PersonStore` over storage's ``user_profile`` table (channel ``slack``).

    A profile an administrator created for its role but without a name counts as
    unknown, so the name is still looked up once; the role is left untouched.
    """

    def __init__(self, database: Database) -> None:
        self._database = database

    def find(self, tenant: str, user_id: str) -> Person | None:
        with self._database.session() as session:
            profile = get_user_profile(
                session=session, channel="slack", tenant=tenant, user_id=user_id
            )
            if profile is None or profile.display_name is None:
                return None
            return Person(profile.display_name, profile.department)

    def remember(self, tenant: str, user_id: str, person: Person) -> None:
        with self._database.session() as session:
            upsert_user_profile(
                session=session,
                channel="slack",
                tenant=tenant,
                user_id=user_id,
                display_name=person.display_name,
                # Keep a department an administrator entered when Slack has none.
                department=person.department if person.department else UNSET,
            )


def person_from_users_info(user: dict[str, Any]) -> Person:
    """Display name and department from a ``users.info`` ``user`` object."""
    profile = user.get("profile") or {}
    name = (
        profile.get("display_name")
        or profile.get("real_name")
        or user.get("real_name")
        or user.get("name")
    )
    return Person(display_name=name or None, department=department_in(profile.get("title") or ""))


_UNIT = re.compile(r"(?:[^\s　、,/／・()（）]+?(?:課|室|局|部|係|班|センター|事務所))+")


def department_in(title: str) -> str | None:
    """The organisational unit named in a Slack profile title, if any.

    Slack has no department field; many workspaces write 所属 and 役職 into the
    title. Only a unit name is taken, so the core still asks when there is none.

    Example:
        >>> department_in("総務部 情報政策課 主任"), department_in("主任")
        ('情報政策課', None)
    """
    units = [match.group(0) for match in _UNIT.finditer(title)]
    return units[-1] if units else None  # the most specific unit comes last


class SlackDirectory:
    """Display names of Slack users, cached in the database.

    Args:
        store: where profiles are kept (the shared database).
    """

    def __init__(self, store: PersonStore) -> None:
        self._store = store

    async def display_name(self, client: AsyncWebClient, tenant: str, user_id: str) -> str | None:
        """The user's display name; looks it up in Slack only the first time.

        A failed lookup is logged and yields ``None``: a missing name never blocks
        an answer.
        """
        known = await asyncio.to_thread(self._store.find, tenant, user_id)
        if known is not None:
            return known.display_name
        try:
            response = await client.users_info(user=user_id)
        except SlackApiError as exc:
            log.warning("users.info failed: %s", exc.response.get("error"))
            return None
        person = person_from_users_info(response.get("user") or {})
        await asyncio.to_thread(self._store.remember, tenant, user_id, person)
        return person.display_name
