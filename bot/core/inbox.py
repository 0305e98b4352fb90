"""The durable inbox: nothing a channel acknowledged is lost, nothing is applied twice.

A channel adapter translates a request into an :class:`Envelope` and awaits
:meth:`Inbox.accept` *before* it acknowledges the request (Slack's HTTP 200 or
socket-mode ack, the HTTP response of a Teams activity): the event is then in the
database (``inbox_event``), once per delivery id. The inbox's worker claims stored
events with a lease — at start-up, whenever one is accepted, and every few seconds,
on any replica — and hands each to the channel's :class:`Courier`, which shows that
the request arrived, calls :meth:`InboxTurn.apply` and posts the reply.

``apply`` runs the core with a :class:`~bot.core.assistant.TurnReceipt`: the turn's
own transaction marks the row applied and keeps the reply, so a turn is applied once
however often its row is claimed (a replica died, a lease ran out). A row taken over
after it was applied only has its stored reply posted again. The rows of one
conversation are processed one at a time in arrival order. Finished rows keep their
delivery id (redeliveries stay no-ops) and lose the user's text.

A turn may also be applied *as it arrives* (``accept(envelope, ready=inbound)``),
before the channel is acknowledged, when this inbox applies turns inline (a fast core:
no LLM endpoint) and the adapter could complete the inbound without asking its channel
anything. The turn's one transaction then stores the event ``applied`` with its reply,
leased to this worker — only when the delivery is new and its conversation has no open
row, so order per conversation holds — and the courier posts and finishes it as any
applied row. When that transaction does not commit (the conversation has an event
waiting, a redelivery, an error), the event is stored the usual way for the worker;
a crash before the commit leaves the request unacknowledged, and the channel retries.

Example (what the channel adapters do)::

    inbox = Inbox(database=services.database, core=services.assistant, channel="slack",
                  courier=runner, lease_seconds=settings.inbox_lease_seconds)
    await inbox.start()                       # picks up what a crashed process left
    if await inbox.accept(Envelope(inbound, delivery={"thread": ...})):
        ...                                   # then acknowledge the request
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import traceback
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from functools import partial
from typing import Any, Protocol

from sqlalchemy import event as sa_event
from sqlmodel import Session

import storage
from bot.core.assistant import TurnReceipt
from bot.core.codec import (
    CodecError,
    inbound_from_json,
    inbound_to_json,
    parts_from_json,
    parts_to_json,
)
from bot.core.messages import ChannelName, Inbound, Part
from storage import Database, InboxEvent, InboxStatus

log = logging.getLogger(__name__)

DEFAULT_LEASE_SECONDS = 15.0
DEFAULT_POLL_SECONDS = 5.0
DEFAULT_MAX_ATTEMPTS = 5
RETENTION = timedelta(days=1)
"""Finished rows are kept this long (channels redeliver within minutes), then deleted."""
_PRUNE_EVERY_SECONDS = 3600.0


class TurnCore(Protocol):
    """What the inbox needs from the conversation core (:class:`bot.core.assistant.Assistant`)."""

    def handle(self, inbound: Inbound, *, receipt: TurnReceipt | None = None) -> list[Part]: ...


@dataclass(frozen=True)
class Envelope:
    """One inbound event as a channel hands it to the inbox.

    Attributes:
        inbound: what the user did, as the core will see it (a channel may still
            complete it, e.g. with the thread a placeholder opens, before applying).
        delivery: JSON the channel's courier needs to answer (thread, reference ...).
        delivery_id: unique per (channel, tenant); default ``inbound.inbound_id``.
            A redelivery with the same id is not stored again.
        conversation: orders the events (one at a time, in arrival order); default
            ``inbound.conversation``.
    """

    inbound: Inbound
    delivery: dict[str, Any] = field(default_factory=dict)
    delivery_id: str | None = None
    conversation: str | None = None


class Courier(Protocol):
    """A channel's side of a stored event: acknowledge visibly, apply, answer, tidy up.

    ``run`` must call :meth:`InboxTurn.apply` to apply the turn (or :meth:`InboxTurn.skip`
    when the event is not for the core after all). A turn that was not applied and not
    skipped is recorded as failed: the courier has told the user to send it again.
    """

    async def run(self, turn: InboxTurn) -> None: ...


class Outcome(StrEnum):
    APPLIED = "applied"
    """The core applied the turn now."""
    REPLAYED = "replayed"
    """Applied by an earlier worker; its stored reply was handed out again."""
    REFUSED = "refused"
    """The core did not apply it (an error, a conflict): its message is the reply."""
    LOST = "lost"
    """Another worker holds the row now; it answers."""
    SKIPPED = "skipped"
    """The courier found nothing for the core in it."""


class _Receipt:
    """:class:`TurnReceipt` of one inbox row, used inside the turn's transaction."""

    def __init__(self, event_id: int, owner: str, lease: timedelta) -> None:
        self._event_id = event_id
        self._owner = owner
        self._lease = lease
        self.claimed: bool | None = None
        """None: the core did not get as far as claiming; False: another worker holds
        the row (or it is applied already); True: claimed in the turn's transaction."""
        self.committed = False
        """Whether that transaction committed (the claim and the turn's changes with it)."""

    def admit(self, session: Session) -> bool:
        return True  # its row is claimed already: the claim decides

    def claim(self, session: Session) -> bool:
        self.claimed = storage.apply_inbox_event(
            session=session, event_id=self._event_id, owner=self._owner, lease=self._lease
        )
        if self.claimed:
            sa_event.listen(session, "after_commit", self._on_commit, once=True)
        return self.claimed

    def _on_commit(self, _session: Session) -> None:
        self.committed = True

    @property
    def outcome(self) -> Outcome:
        """What the turn came to, known without reading the row again: applied when the
        claim committed, lost when another worker held the row, refused otherwise (the
        core failed before its claim, or its transaction was rolled back)."""
        if self.claimed is False:
            return Outcome.LOST
        return Outcome.APPLIED if self.claimed and self.committed else Outcome.REFUSED

    def record(self, session: Session, parts: list[Part]) -> None:
        storage.record_inbox_reply(
            session=session, event_id=self._event_id, reply=parts_to_json(parts)
        )


class _Arrival(_Receipt):
    """:class:`TurnReceipt` of an event applied as it arrives, before it is stored.

    ``admit`` lets the turn go on only when the delivery is new and its conversation has
    no open row; ``claim`` checks that again and stores the event ``applied``, leased to
    this worker, in the turn's transaction (:func:`storage.accept_applied_inbox_event`).
    """

    def __init__(self, inbox: Inbox, envelope: Envelope) -> None:
        super().__init__(0, inbox.owner, inbox.lease)
        inbound = envelope.inbound
        self.values: dict[str, Any] = {  # the row's key: channel, tenant, conversation, delivery
            "channel": inbound.channel,
            "tenant": inbound.tenant,
            "conversation": envelope.conversation or inbound.conversation,
            "delivery_id": _delivery_id(envelope),
        }
        self._payload = _payload(envelope.inbound, envelope.delivery)
        self._received_at = inbound.received_at

    def admit(self, session: Session) -> bool:
        if storage.inbox_lane_clear(session=session, **self.values):
            return True
        self.claimed = False
        return False

    def claim(self, session: Session) -> bool:
        stored = storage.accept_applied_inbox_event(
            session=session, **self.values, payload=self._payload, owner=self._owner,
            lease=self._lease, now=self._received_at,
        )
        self.claimed = stored is not None
        if stored is not None:
            self._event_id = stored
            sa_event.listen(session, "after_commit", self._on_commit, once=True)
        return self.claimed

    @property
    def event_id(self) -> int | None:
        """The row the turn's transaction stored (None until a claim stored one)."""
        return self._event_id if self.claimed else None


def _delivery_id(envelope: Envelope) -> str:
    """What tells a redelivery of ``envelope`` (its ``delivery_id``, else the inbound's id)."""
    inbound = envelope.inbound
    return envelope.delivery_id or inbound.inbound_id or f"local:{uuid.uuid4()}"


def _payload(inbound: Inbound, delivery: dict[str, Any]) -> dict[str, Any]:
    return {"inbound": inbound_to_json(inbound), "delivery": delivery}


class InboxTurn:
    """One claimed event, as the courier sees it.

    Attributes:
        inbound: the stored inbound message.
        delivery: the channel's stored delivery context (updated by :meth:`remember`).
        attempt: 1 the first time; more when it is taken over after a crash.
    """

    def __init__(self, inbox: Inbox, row: InboxEvent, inbound: Inbound,
                 delivery: dict[str, Any], *, applied: list[Part] | None = None) -> None:
        assert row.id is not None
        self._inbox = inbox
        self.event_id: int = row.id
        self.inbound = inbound
        self.delivery = delivery
        self.attempt = row.attempts
        self._stored_reply = row.reply if row.status == InboxStatus.APPLIED else None
        self._applied = applied
        """The parts of a turn applied as it arrived (``apply`` hands them out)."""
        self.outcome: Outcome | None = None

    @property
    def applied_on_arrival(self) -> bool:
        """Whether the turn was applied as it arrived (its parts are at hand): a failure
        before :meth:`apply` is a failure after the core applied it."""
        return self._applied is not None

    @property
    def recovered(self) -> bool:
        """Whether an earlier worker had it (and may have shown or posted part of it)."""
        return self.attempt > 1

    async def apply(self, inbound: Inbound | None = None) -> list[Part]:
        """Apply the turn once (``inbound``: the stored one completed by the channel).

        Returns:
            What to show: the core's parts; the stored reply when an earlier worker
            applied it already; ``[]`` when another worker holds the row now.

        Raises:
            Exception: whatever the core raised (nothing was applied).
        """
        if self.outcome is not None:
            raise RuntimeError("a turn is applied once")
        if self._applied is not None:  # applied as it arrived, before the ack
            self.outcome = Outcome.APPLIED
            return self._applied
        if self._stored_reply is not None:
            self.outcome = Outcome.REPLAYED
            return parts_from_json(self._stored_reply)
        inbox = self._inbox
        receipt = _Receipt(self.event_id, inbox.owner, inbox.lease)
        try:
            parts = await asyncio.to_thread(
                partial(inbox.core.handle, inbound or self.inbound, receipt=receipt)
            )
        except BaseException:
            self.outcome = Outcome.REFUSED
            raise
        self.outcome = receipt.outcome
        return [] if self.outcome is Outcome.LOST else parts

    def skip(self) -> None:
        """Nothing in this event is for the core (it is closed as done, unanswered)."""
        if self.outcome is None:
            self.outcome = Outcome.SKIPPED

    async def remember(self, **updates: Any) -> None:
        """Store what the channel learnt on the way (e.g. the thread its placeholder
        opened), so that a worker taking the event over continues from there."""
        self.delivery = {**self.delivery, **updates}
        payload = _payload(self.inbound, self.delivery)
        inbox = self._inbox
        kept = await asyncio.to_thread(inbox.update_payload, self.event_id, payload)
        if not kept:
            log.info("inbox event %s: taken over by another worker", self.event_id)


class Inbox:
    """The durable inbox of one channel in this process, and its worker.

    Args:
        database: where ``inbox_event`` lives (shared by every replica).
        core: applies turns (the :class:`~bot.core.assistant.Assistant`).
        channel: the channel whose events this worker takes (``slack``, ``teams``).
        courier: answers in the channel (the adapter's turn runner).
        lease_seconds: how long a claim holds without a heartbeat; a row of a crashed
            worker is taken over after this.
        poll_seconds: how often stored events are looked for besides :meth:`kick`.
        max_in_flight: turns processed at once by this worker.
        max_attempts: claims of one event before it is given up as failed.
        owner: this worker's name in ``lease_owner`` (default: host, pid, random).
        inline: apply a turn as it arrives (``accept(..., ready=...)``), before the
            channel is acknowledged; only for a fast core (``Settings.inline_turns_enabled``:
            no LLM endpoint), since the channel waits for that ack (Slack: 3 s).
    """

    def __init__(
        self,
        *,
        database: Database,
        core: TurnCore,
        channel: ChannelName,
        courier: Courier,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        poll_seconds: float = DEFAULT_POLL_SECONDS,
        max_in_flight: int = 8,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        owner: str | None = None,
        inline: bool = False,
    ) -> None:
        if lease_seconds <= 0 or poll_seconds <= 0:
            raise ValueError("lease_seconds and poll_seconds must be positive")
        self.database = database
        self.core = core
        self.channel = channel
        self.courier = courier
        self.lease = timedelta(seconds=lease_seconds)
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._tick = min(poll_seconds, lease_seconds / 3)
        self._max_in_flight = max_in_flight
        self._max_attempts = max_attempts
        self.inline = inline
        self._in_flight: dict[int, asyncio.Task[None]] = {}
        self._loop_task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._claiming = asyncio.Lock()  # one claim pass at a time, its tasks registered
        self._reclaimed: set[int] = set()
        self._leased_at: dict[int, float] = {}
        """Per row in flight, when (``time.monotonic``, taken before the claim or renewal
        began) its lease was last set: the heartbeat renews only leases older than a tick."""
        self._stopping = False
        self._since_prune = 0.0

    # --- the channel's side ------------------------------------------------------------------

    async def accept(self, envelope: Envelope, *, ready: Inbound | None = None) -> bool:
        """Store ``envelope`` (committed when this returns) and wake the worker.

        Await it before acknowledging the request. Raises when the database cannot be
        written: then do not acknowledge (the channel retries).

        ``ready``: the inbound as the core applies it, when the channel needs to ask
        nothing before the turn (the thread is known, no file to download). With
        :attr:`inline` on, the turn is then applied now, in the transaction that stores
        the event (applied, its reply kept), and its courier runs at once; when that
        does not commit (its conversation has an event waiting, a redelivery, any
        error), the event is stored for the worker as without ``ready``.

        Returns:
            True for a new event, False for a redelivery of a stored one.
        """
        if ready is not None and await self._apply_on_arrival(envelope, ready):
            return True
        new = await asyncio.to_thread(self.store, envelope)
        if new:
            self.kick()
        return new

    def store(self, envelope: Envelope) -> bool:
        """:meth:`accept` without waking the worker (synchronous; not on the event loop)."""
        inbound = envelope.inbound
        with self.database.session() as session:
            return storage.accept_inbox_event(
                session=session,
                channel=inbound.channel,
                tenant=inbound.tenant,
                conversation=envelope.conversation or inbound.conversation,
                delivery_id=_delivery_id(envelope),
                payload=_payload(inbound, envelope.delivery),
                now=inbound.received_at,
            )

    async def _apply_on_arrival(self, envelope: Envelope, ready: Inbound) -> bool:
        """Apply ``ready`` and store ``envelope`` applied, in the turn's one transaction;
        then hand the turn to the courier. False (nothing committed) when the turn is
        not applied this way: the caller stores the event for the worker."""
        if (
            not self.inline
            or self._stopping
            or ready.attachment is not None  # a download and a review: not fast
            or len(self._in_flight) >= self._max_in_flight
        ):
            return False
        arrival = _Arrival(self, envelope)
        leased_at = time.monotonic()
        try:
            parts = await asyncio.to_thread(partial(self.core.handle, ready, receipt=arrival))
        except Exception as exc:  # nothing committed: the worker applies it
            log.warning("inbox (%s): a turn applied on arrival failed (%s); stored instead",
                        self.channel, type(exc).__name__)
            return False
        if arrival.outcome is not Outcome.APPLIED or arrival.event_id is None:
            return False
        row = InboxEvent(id=arrival.event_id, **arrival.values, attempts=1,
                         status=InboxStatus.APPLIED)
        turn = InboxTurn(self, row, envelope.inbound, dict(envelope.delivery), applied=parts)
        self._leased_at[arrival.event_id] = leased_at
        self._track(arrival.event_id, self._deliver(turn))
        if not self._stopping:
            self._ensure_running()  # the heartbeat renews the lease of a slow delivery
        return True

    # --- the worker ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Start the worker; it first takes over what is stored and unclaimed."""
        self._stopping = False
        self._ensure_running()

    def kick(self) -> None:
        """Look for claimable events now (starts the worker if it is not running)."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop: the poll will find it
        if self._stopping:
            return
        self._ensure_running()
        self._wake.set()

    def _ensure_running(self) -> None:
        if self._loop_task is None or self._loop_task.done():
            self._loop_task = asyncio.get_running_loop().create_task(self._run())

    async def drain(self) -> None:
        """Process every event this worker can claim, until none is left or in flight.

        When the database cannot be read, only the turns in flight are waited for.
        """
        while True:
            try:
                await self._claim_and_start()
            except Exception as exc:
                log.error("inbox drain could not claim (%s): %s", self.channel,
                          type(exc).__name__)
                while self._in_flight:
                    await asyncio.gather(*list(self._in_flight.values()), return_exceptions=True)
                return
            if not self._in_flight:
                return
            await asyncio.gather(*list(self._in_flight.values()), return_exceptions=True)

    async def stop(self) -> None:
        """Stop looking for events, finish the turns in flight (shutdown).

        What is still stored is left for the next worker (after a restart, or another
        replica); a claim in progress completes first, so nothing stays leased in vain.
        """
        self._stopping = True
        self._wake.set()
        task, self._loop_task = self._loop_task, None
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)
        while self._in_flight:
            await asyncio.gather(*list(self._in_flight.values()), return_exceptions=True)

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                await self._claim_and_start()
                await self._heartbeat()
            except Exception as exc:  # the database may be down; the next tick retries
                log.error("inbox worker tick failed (%s): %s", self.channel, type(exc).__name__)
            if self._stopping:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._tick)

    async def _claim_and_start(self) -> None:
        async with self._claiming:
            room = self._max_in_flight - len(self._in_flight)
            if room <= 0:
                return
            leased_at = time.monotonic()
            claimed = await asyncio.to_thread(self._claim, room)
            for row in claimed:
                assert row.id is not None
                self._leased_at[row.id] = leased_at
                self._start_processing(row)

    def _start_processing(self, row: InboxEvent) -> None:
        assert row.id is not None
        if row.id in self._in_flight:
            # Claimed again while its task is still here: the task released it a moment
            # ago (or its lease ran out). Never run one event twice at once: look again
            # when that task is over.
            self._reclaimed.add(row.id)
            return
        self._track(row.id, self._process(row))

    def _track(self, event_id: int, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._in_flight[event_id] = task
        task.add_done_callback(partial(self._done, event_id))

    def _done(self, event_id: int, _: asyncio.Task[None]) -> None:
        self._in_flight.pop(event_id, None)
        if event_id in self._reclaimed:
            self._reclaimed.discard(event_id)
            self._track(event_id, self._resume(event_id))
        else:
            self._leased_at.pop(event_id, None)
        self.kick()  # the conversation's next event may be claimable now

    async def _resume(self, event_id: int) -> None:
        """Process an event claimed while its previous task was ending, if still ours."""
        row = await asyncio.to_thread(self.get, event_id)
        if row is not None and row.lease_owner == self.owner and (
            row.status in (InboxStatus.PROCESSING, InboxStatus.APPLIED)
        ):
            await self._process(row)

    def _claim(self, limit: int) -> list[InboxEvent]:
        with self.database.session() as session:
            return storage.claim_inbox_events(
                session=session, owner=self.owner, lease=self.lease, channels=[self.channel],
                limit=limit, max_attempts=self._max_attempts,
            )

    async def _heartbeat(self) -> None:
        # A lease set less than a tick ago (a row just claimed) is not renewed yet: the
        # next heartbeat comes within a tick, before two ticks (<= 2/3 of a lease) passed.
        renewing = time.monotonic()
        ids = [
            event_id for event_id in self._in_flight
            if renewing - self._leased_at.get(event_id, 0.0) >= self._tick
        ]
        if ids:
            await asyncio.to_thread(self._renew, ids)
            for event_id in ids:
                self._leased_at[event_id] = renewing
        self._since_prune += self._tick
        if self._since_prune >= _PRUNE_EVERY_SECONDS:
            self._since_prune = 0.0
            await asyncio.to_thread(self._prune)

    def _renew(self, ids: list[int]) -> None:
        with self.database.session() as session:
            storage.renew_inbox_leases(
                session=session, event_ids=ids, owner=self.owner, lease=self.lease
            )

    def _prune(self) -> None:
        with self.database.session() as session:
            storage.forget_inbox_events(session=session, older_than=storage.utc_now() - RETENTION)

    async def _process(self, row: InboxEvent) -> None:
        assert row.id is not None
        if row.attempts > 1:
            log.info("inbox event %s (%s): taken over, attempt %d", row.id, self.channel,
                     row.attempts)
        try:
            payload = row.payload or {}
            turn = InboxTurn(self, row, inbound_from_json(payload.get("inbound")),
                             dict(payload.get("delivery") or {}))
        except (CodecError, TypeError, ValueError) as exc:
            log.error("inbox event %s (%s): unreadable payload (%s); given up",
                      row.id, self.channel, type(exc).__name__)
            await asyncio.to_thread(self._finish, row.id, InboxStatus.FAILED)
            return
        await self._deliver(turn)

    async def _deliver(self, turn: InboxTurn) -> None:
        """Run the courier on ``turn``, then finish, release or leave its row."""
        row_id = turn.event_id
        try:
            await self.courier.run(turn)
        except Exception as exc:
            # Type and frames only: an exception's message may quote the user's text.
            log.error("inbox event %s (%s): the channel failed: %s\n%s", row_id, self.channel,
                      type(exc).__name__, "".join(traceback.format_tb(exc.__traceback__)))
            if turn.outcome in (Outcome.APPLIED, Outcome.REPLAYED) or turn.applied_on_arrival:
                await asyncio.to_thread(self._finish, row_id, InboxStatus.DONE)
            elif turn.outcome is None:
                await asyncio.to_thread(self._release, row_id)  # not applied: try again
            elif turn.outcome is not Outcome.LOST:
                await asyncio.to_thread(self._finish, row_id, InboxStatus.FAILED)
            return
        if turn.outcome is Outcome.LOST:
            return
        status = (
            InboxStatus.DONE
            if turn.outcome in (Outcome.APPLIED, Outcome.REPLAYED, Outcome.SKIPPED)
            or turn.applied_on_arrival
            else InboxStatus.FAILED
        )
        await asyncio.to_thread(self._finish, row_id, status)

    def _finish(self, event_id: int, status: InboxStatus) -> None:
        with self.database.session() as session:
            storage.finish_inbox_event(
                session=session, event_id=event_id, owner=self.owner, status=status
            )

    def _release(self, event_id: int) -> None:
        with self.database.session() as session:
            storage.release_inbox_event(session=session, event_id=event_id, owner=self.owner)

    # --- small reads and writes for InboxTurn (worker threads) -----------------------------------

    def get(self, event_id: int) -> InboxEvent | None:
        with self.database.session() as session:
            return storage.get_inbox_event(session=session, event_id=event_id)

    def update_payload(self, event_id: int, payload: dict[str, Any]) -> bool:
        with self.database.session() as session:
            return storage.update_inbox_payload(
                session=session, event_id=event_id, owner=self.owner, payload=payload
            )

