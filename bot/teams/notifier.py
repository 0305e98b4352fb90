"""Posting to a Teams conversation outside a turn: replies after slow work, review results, digests.

botbuilder posts proactively with ``adapter.continue_conversation(reference, ...)``;
the reference comes from the turn itself (a reply) or from storage (a later
notification). :meth:`TeamsNotifier.deliver` is the synchronous
:class:`~bot.core.messages.Notifier` port: it may be called from any thread except
the server's event loop, and hands the post to that loop (or, outside the server,
runs it on a private loop).

Example:
    >>> notifier.deliver(Address("teams", tenant_id, conversation_id), [Text("差し戻されました")])
    ... # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from collections.abc import Sequence
from typing import Any

from botbuilder.core import CloudAdapterBase, TurnContext
from botbuilder.schema import ConversationReference

from bot.core.messages import Address, DeliveryError, Notifier, Part
from bot.teams.cards import render_parts
from bot.teams.records import TeamsRecords

log = logging.getLogger(__name__)


class TeamsNotifier(Notifier):
    """:class:`~bot.core.messages.Notifier` for Microsoft Teams.

    Args:
        adapter: the botbuilder adapter that serves ``/api/messages``.
        app_id: the bot's Microsoft app id ("" in anonymous local mode).
        records: where conversation references are stored.
        timeout_seconds: how long :meth:`deliver` waits for the post to finish.
    """

    channel = "teams"

    def __init__(
        self,
        adapter: CloudAdapterBase,
        *,
        app_id: str,
        records: TeamsRecords,
        timeout_seconds: float = 30.0,
    ) -> None:
        self._adapter = adapter
        self._app_id = app_id
        self._records = records
        self._timeout_seconds = timeout_seconds
        self._loop: asyncio.AbstractEventLoop | None = None

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        """Post on ``loop`` (the web server's event loop) from now on."""
        self._loop = loop

    def detach(self) -> None:
        """The server stopped; posts run on a private loop again."""
        self._loop = None

    async def post(self, reference: ConversationReference, parts: Sequence[Part]) -> None:
        """Post ``parts`` into the conversation of ``reference`` (in reply to its activity).

        Raises:
            Exception: whatever the Bot Connector call raised; nothing is retried here.
        """
        activities = render_parts(parts)
        if not activities:
            return

        async def send(turn_context: TurnContext) -> None:
            # The continuation activity has a fresh id; answer the stored activity instead,
            # so that a reply lands in the reply chain it belongs to.
            turn_context.activity.id = reference.activity_id
            for activity in activities:
                await turn_context.send_activity(activity)

        await self._adapter.continue_conversation(reference, send, self._app_id)

    def deliver(self, address: Address, parts: list[Part]) -> None:
        """Post ``parts`` to the stored conversation of ``address``; block until done.

        Inside ``soudan serve`` the post runs on the server's event loop; elsewhere (the
        CLI, a script) on a private loop in the calling thread.

        Raises:
            DeliveryError: no stored reference, called on an event loop thread, a
                timeout, or the Bot Connector refused the post.
        """
        if address.channel != self.channel:
            raise DeliveryError(f"not a Teams address: channel={address.channel}")
        if _running_loop() is not None:
            raise DeliveryError("deliver() blocks; call it from a worker thread, not a loop")
        stored = self._records.find_reference(address)
        if stored is None:
            raise DeliveryError("no conversation reference stored for this Teams address")
        post = self.post(reference_from_dict(stored), parts)
        loop = self._loop
        try:
            if loop is not None and not loop.is_closed():
                future = asyncio.run_coroutine_threadsafe(post, loop)
                try:
                    future.result(timeout=self._timeout_seconds)
                except concurrent.futures.TimeoutError:
                    future.cancel()
                    raise
            else:
                asyncio.run(asyncio.wait_for(post, self._timeout_seconds))
        except (TimeoutError, concurrent.futures.TimeoutError) as exc:
            raise DeliveryError("the Teams post did not finish in time") from exc
        except Exception as exc:
            log.warning("teams proactive post failed: %s", type(exc).__name__)
            raise DeliveryError(f"the Teams post failed: {type(exc).__name__}") from exc


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def reference_to_dict(reference: ConversationReference) -> dict[str, Any]:
    """A JSON-ready form of a ConversationReference (Bot Framework wire names)."""
    serialized = reference.serialize()
    assert isinstance(serialized, dict)
    return serialized


def reference_from_dict(data: dict[str, Any]) -> ConversationReference:
    """The inverse of :func:`reference_to_dict`."""
    reference = ConversationReference().deserialize(data)
    assert isinstance(reference, ConversationReference)
    return reference
