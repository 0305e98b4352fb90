"""What the Teams adapter keeps in the database: conversation references and refusals.

A ConversationReference (service URL, conversation, bot and user accounts) is what
botbuilder needs to post into a conversation later. The adapter stores the latest
one of every conversation it hears from, so review results and the weekly digest
can be posted by any replica, after any restart.
"""

from __future__ import annotations

from typing import Any, Protocol

from bot.core.messages import Address
from bot.core.policy import write_audit
from storage.database import Database
from storage.people import (
    find_conversation_ref,
    find_user_conversation_ref,
    get_conversation_ref,
    upsert_conversation_ref,
)

CHANNEL = "teams"


class TeamsRecords(Protocol):
    """Port: conversation references and refused deliveries, kept in storage.

    Invariants: :meth:`save_reference` keeps one reference per
    (tenant, conversation) — the newest wins; :meth:`record_refusal` appends and
    never changes an earlier row.
    """

    def save_reference(
        self, *, tenant: str, conversation: str, user_id: str | None, reference: dict[str, Any]
    ) -> None: ...

    def find_reference(self, address: Address) -> dict[str, Any] | None: ...

    def record_refusal(self, *, tenant: str, actor: str, reason: str) -> None: ...


class DatabaseTeamsRecords:
    """:class:`TeamsRecords` over the soudan database (``storage.Database``)."""

    def __init__(self, database: Database) -> None:
        self._database = database

    def save_reference(
        self, *, tenant: str, conversation: str, user_id: str | None, reference: dict[str, Any]
    ) -> None:
        with self._database.session() as session:
            upsert_conversation_ref(
                session=session,
                channel=CHANNEL,
                tenant=tenant,
                conversation=conversation,
                user_id=user_id,
                reference=reference,
            )

    def find_reference(self, address: Address) -> dict[str, Any] | None:
        """The conversation's reference; for a person, their latest conversation as fallback.

        An address with an empty tenant (e.g. ``SOUDAN_DIGEST_TEAMS_CONVERSATION``, a
        bare conversation id) matches that conversation in any tenant.
        """
        with self._database.session() as session:
            if address.tenant:
                row = get_conversation_ref(
                    session=session,
                    channel=CHANNEL,
                    tenant=address.tenant,
                    conversation=address.conversation,
                )
            else:
                row = find_conversation_ref(
                    session=session, channel=CHANNEL, conversation=address.conversation
                )
            if row is None and address.user_id:
                row = find_user_conversation_ref(
                    session=session, channel=CHANNEL, tenant=address.tenant, user_id=address.user_id
                )
            return dict(row.reference) if row is not None else None

    def record_refusal(self, *, tenant: str, actor: str, reason: str) -> None:
        with self._database.session() as session:
            write_audit(
                session, actor, "teams.activity", "denied", tenant=tenant,
                detail={"reason": reason},
            )
