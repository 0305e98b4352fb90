"""One Teams turn: remember the conversation, store the activity, show typing.

Teams waits about 15 seconds for the HTTP response to an activity, and does not send
an answered activity again. The turn therefore stores the conversation reference and
the activity in the durable inbox (:mod:`bot.core.inbox`) *before* the HTTP response,
then sends a typing indicator; the inbox's worker applies it (once, in order per
conversation, also after a crash and on any replica) and :class:`TeamsCourier` posts
the core's parts as a proactive reply to the same conversation.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from typing import Protocol

from botbuilder.core import Bot, TurnContext
from botbuilder.schema import Activity, ActivityTypes, ConversationReference

from bot.core.assistant import TurnReceipt
from bot.core.inbox import Envelope, Inbox, InboxTurn, Outcome
from bot.core.messages import ERROR_TEXT, Inbound, Part, Text
from bot.teams.files import with_download
from bot.teams.inbound import tenant_of, to_inbound, user_id_of
from bot.teams.notifier import TeamsNotifier, reference_from_dict, reference_to_dict
from bot.teams.records import TeamsRecords

log = logging.getLogger(__name__)

ERROR_MESSAGE = ERROR_TEXT
"""The core's one error text (the name kept for the Teams tests)."""


class Assistant(Protocol):
    """The conversation core as the adapter sees it (``bot.core.assistant.Assistant``)."""

    def handle(self, inbound: Inbound, *, receipt: TurnReceipt | None = None) -> list[Part]: ...


class SoudanTeamsBot(Bot):
    """The botbuilder bot: translates activities and stores them for the core.

    Args:
        inbox: the Teams inbox (its courier answers proactively).
        records: conversation references are saved here on every activity.
    """

    def __init__(self, inbox: Inbox, records: TeamsRecords) -> None:
        self._inbox = inbox
        self._records = records

    async def on_turn(self, context: TurnContext) -> None:
        activity = context.activity
        reference = TurnContext.get_conversation_reference(activity)
        try:
            await asyncio.to_thread(self._save_reference, activity, reference)
        except Exception as exc:  # later notifications may miss it; this turn goes on
            log.error("teams conversation reference not saved: %s", type(exc).__name__)
        inbound = to_inbound(activity)
        if inbound is None:
            return
        # Raises when it cannot be stored: the endpoint answers 500, the connector retries.
        await self._inbox.accept(Envelope(
            inbound,
            delivery={"reference": reference_to_dict(reference)},
            # Activity ids are unique within a conversation only.
            delivery_id=f"{inbound.conversation}|{inbound.inbound_id}"
            if inbound.inbound_id else None,
        ))
        await self._send_typing(context)

    async def drain(self) -> None:
        """Wait for the stored activities this process can answer (shutdown, tests)."""
        await self._inbox.drain()

    def _save_reference(self, activity: Activity, reference: ConversationReference) -> None:
        if activity.conversation is None or not activity.conversation.id:
            return
        self._records.save_reference(
            tenant=tenant_of(activity),
            conversation=str(activity.conversation.id),
            user_id=user_id_of(activity) or None,
            reference=reference_to_dict(reference),
        )

    async def _send_typing(self, context: TurnContext) -> None:
        try:
            await context.send_activity(Activity(type=ActivityTypes.typing))
        except Exception as exc:  # the answer still follows; typing is a courtesy
            log.warning("teams typing indicator failed: %s", type(exc).__name__)


class TeamsCourier:
    """The Teams side of a stored activity: apply it once, reply in its conversation.

    Args:
        notifier: posts the core's parts with the stored conversation reference.
    """

    def __init__(self, notifier: TeamsNotifier) -> None:
        self._notifier = notifier

    async def run(self, turn: InboxTurn) -> None:
        inbound = turn.inbound
        reference = reference_from_dict(turn.delivery["reference"])
        try:
            parts = await turn.apply(with_download(inbound))
        except Exception as exc:
            _log_failure("teams turn failed in the core", inbound, exc)
            parts = [Text(ERROR_TEXT)]
        if turn.outcome is Outcome.LOST:
            return  # the worker that holds it now answers
        try:
            await self._notifier.post(reference, parts)
        except Exception as exc:
            _log_failure("teams reply could not be posted", inbound, exc)


def _log_failure(what: str, inbound: Inbound, exc: BaseException) -> None:
    # The exception message may quote the user's text: log the type and the frames only.
    frames = "".join(traceback.format_tb(exc.__traceback__))
    log.error("%s: %s (activity %s)\n%s", what, type(exc).__name__, inbound.inbound_id, frames)
