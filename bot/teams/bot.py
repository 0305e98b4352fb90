"""One Teams turn: remember the conversation, show typing, answer in the background.

Teams waits about 15 seconds for the HTTP response to an activity. The turn
therefore only stores the conversation reference, sends a typing indicator and
schedules the answer; the core runs on a worker thread (it is synchronous and may
take a second or more) and its parts are posted afterwards as a proactive reply to
the same conversation.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import traceback
from collections.abc import AsyncIterator
from typing import Protocol

from botbuilder.core import Bot, TurnContext
from botbuilder.schema import Activity, ActivityTypes, ConversationReference

from bot.core.messages import Inbound, Part, Text
from bot.teams.inbound import tenant_of, to_inbound, user_id_of
from bot.teams.notifier import TeamsNotifier, reference_to_dict
from bot.teams.records import TeamsRecords

log = logging.getLogger(__name__)

ERROR_MESSAGE = (
    "申し訳ありません。処理中にエラーが発生しました。少し時間をおいてもう一度送ってください。"
    "繰り返し起きる場合は、システム管理者（情報政策課）にお知らせください。"
)


class Assistant(Protocol):
    """The conversation core as the adapter sees it (``bot.core.assistant.Assistant``)."""

    def handle(self, inbound: Inbound) -> list[Part]: ...


class SoudanTeamsBot(Bot):
    """The botbuilder bot: translates activities for the core and replies proactively.

    Args:
        assistant: the conversation core; its ``handle`` runs on a worker thread.
        records: conversation references are saved here on every activity.
        notifier: posts the core's parts back to the conversation.
    """

    def __init__(
        self, assistant: Assistant, records: TeamsRecords, notifier: TeamsNotifier
    ) -> None:
        self._assistant = assistant
        self._records = records
        self._notifier = notifier
        self._pending: set[asyncio.Task[None]] = set()
        self._conversations: dict[str, tuple[asyncio.Lock, int]] = {}

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
        await self._send_typing(context)
        task = asyncio.create_task(self._answer(inbound, reference))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def drain(self) -> None:
        """Wait for answers still being prepared (server shutdown, tests)."""
        while self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

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

    async def _answer(self, inbound: Inbound, reference: ConversationReference) -> None:
        async with self._turns_of(inbound.conversation):
            try:
                parts = await asyncio.to_thread(self._assistant.handle, inbound)
            except Exception as exc:
                _log_failure("teams turn failed in the core", inbound, exc)
                parts = [Text(ERROR_MESSAGE)]
            try:
                await self._notifier.post(reference, parts)
            except Exception as exc:
                _log_failure("teams reply could not be posted", inbound, exc)

    @contextlib.asynccontextmanager
    async def _turns_of(self, conversation: str) -> AsyncIterator[None]:
        """One turn at a time per conversation, in arrival order.

        A quick click followed by a typed message would otherwise race in the core
        (one of them losing with a conflict) and the replies could cross.
        """
        lock, waiting = self._conversations.get(conversation, (asyncio.Lock(), 0))
        self._conversations[conversation] = (lock, waiting + 1)
        try:
            async with lock:
                yield
        finally:
            lock, waiting = self._conversations[conversation]
            if waiting == 1:
                del self._conversations[conversation]
            else:
                self._conversations[conversation] = (lock, waiting - 1)


def _log_failure(what: str, inbound: Inbound, exc: BaseException) -> None:
    # The exception message may quote the user's text: log the type and the frames only.
    frames = "".join(traceback.format_tb(exc.__traceback__))
    log.error("%s: %s (activity %s)\n%s", what, type(exc).__name__, inbound.inbound_id, frames)
