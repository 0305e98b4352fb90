"""The durable outbox: a message to a user is written with the change it announces,
and posted after that change commits — once the channel takes it, whatever fails between.

Whoever changes something a user must hear about (the review desk returning or
accepting a 相談シート) calls :meth:`Outbox.enqueue` inside its own transaction: the
row commits or rolls back with the change. After the commit, :meth:`Outbox.deliver_due`
posts it through the channel's :class:`~bot.core.messages.Notifier`. A post that fails
(Slack or Teams down, no token in this process) stays in ``outbox_message`` and is
tried again with back-off by any process that has that channel — ``soudan serve``
looks every few seconds on every replica — until ``max_attempts``; then it is
``undeliverable`` and listed by ``soudan review outbox``. Rows are claimed with a
lease, so two replicas never post one row at once; a dispatcher that dies while
posting leaves a row that is posted again after its lease (at least once, never lost).

Example:
    >>> outbox = Outbox(database, notifiers)                                 # doctest: +SKIP
    >>> with database.session() as session:                                  # doctest: +SKIP
    ...     change_something(session)
    ...     message_id = outbox.enqueue(session=session, address=address,
    ...                                 parts=[Text("受理されました")], kind="review.accepted")
    >>> outbox.deliver_due(ids=[message_id]).sent                            # doctest: +SKIP
    [1]
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import cast

from sqlmodel import Session

from bot.core.codec import CodecError, parts_from_json, parts_to_json
from bot.core.messages import Address, ChannelName, Notifier, Part
from storage import Database
from storage import outbox as rows
from storage.outbox import OutboxMessage

log = logging.getLogger(__name__)

DEFAULT_LEASE_SECONDS = 120.0
"""Longer than any notifier's own timeout (Teams waits 30 s), so a slow post is not
taken over while it is still running."""
DEFAULT_RETRY_SECONDS = 15.0
"""Delay before the first retry; it doubles with each failed attempt."""
MAX_RETRY_DELAY = timedelta(minutes=30)
DEFAULT_MAX_ATTEMPTS = 10
"""With the defaults: retried for about two and a half hours, then undeliverable."""
SENT_RETENTION = timedelta(days=7)
"""Sent rows (their text already erased) are kept this long, then deleted."""


@dataclass
class DispatchReport:
    """What one :meth:`Outbox.deliver_due` call did, by row id."""

    sent: list[int] = field(default_factory=list)
    retrying: list[int] = field(default_factory=list)
    undeliverable: list[int] = field(default_factory=list)

    @property
    def attempted(self) -> int:
        return len(self.sent) + len(self.retrying) + len(self.undeliverable)


class Outbox:
    """Writes outbound messages in the caller's transaction and posts them after it.

    Args:
        database: where ``outbox_message`` lives (shared by every replica).
        notifiers: one notifier per channel this process can post to. The mapping is
            kept, not copied: channels mounted later are used too. Rows of other
            channels wait for a process that has them.
        lease_seconds: how long a claim holds while posting.
        retry_seconds: delay before the first retry (doubling, at most 30 minutes).
        max_attempts: attempts before a row is given up as undeliverable.
        now: clock (UTC); inject one in tests.
        owner: this dispatcher's name in ``lease_owner`` (default: host, pid, random).
    """

    def __init__(
        self,
        database: Database,
        notifiers: Mapping[str, Notifier],
        *,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        retry_seconds: float = DEFAULT_RETRY_SECONDS,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        now: Callable[[], datetime] | None = None,
        owner: str | None = None,
    ) -> None:
        if lease_seconds <= 0 or retry_seconds <= 0 or max_attempts <= 0:
            raise ValueError("lease_seconds, retry_seconds and max_attempts must be positive")
        self.database = database
        self.notifiers = notifiers
        self.lease = timedelta(seconds=lease_seconds)
        self.retry = timedelta(seconds=retry_seconds)
        self.max_attempts = max_attempts
        self.now = now or (lambda: datetime.now(UTC))
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    # --- writing (inside the caller's transaction) ------------------------------------------

    def enqueue(
        self,
        *,
        session: Session,
        address: Address,
        parts: list[Part],
        kind: str,
        subject: str | None = None,
    ) -> int:
        """Add a message for ``address``; it exists once ``session`` commits.

        Args:
            kind: what it is (``review.returned``); the listing labels it.
            subject: what it is about, for the listing (a 整理番号); never user text.

        Returns:
            The row id (for :meth:`deliver_due` ``ids=`` after the commit).
        """
        return rows.enqueue_outbox_message(
            session=session, channel=address.channel, tenant=address.tenant,
            conversation=address.conversation, user_id=address.user_id, kind=kind,
            subject=subject, parts=parts_to_json(parts), now=self.now(),
        )

    # --- posting ---------------------------------------------------------------------------

    def backoff(self, attempts: int) -> timedelta:
        """Delay before the next attempt after ``attempts`` failed ones."""
        return cast(timedelta, min(self.retry * (2 ** max(attempts - 1, 0)), MAX_RETRY_DELAY))

    def deliver_due(
        self,
        *,
        ids: Collection[int] | None = None,
        channels: Collection[str] | None = None,
        user: tuple[str, str] | None = None,
        batch: int = 20,
        max_batches: int = 50,
    ) -> DispatchReport:
        """Post the rows that are due, through the notifiers of this process.

        Synchronous: call it from a worker thread, never on an event loop (notifiers
        block). Safe on every replica at once.

        Args:
            ids: only these rows (e.g. the notice a turn just committed).
            channels: only these channels (default: every channel with a notifier).
            user: only the rows for this (tenant, user id).

        Returns:
            What was posted, what will be retried, what was given up.
        """
        report = DispatchReport()
        wanted = [c for c in (channels if channels is not None else list(self.notifiers))
                  if c in self.notifiers]
        if not wanted:
            return report
        for _ in range(max_batches):
            claimed = self._claim(wanted, ids, user, batch)
            for row in claimed:
                self._post(row, report)
            if len(claimed) < batch:
                break
        return report

    def _claim(self, channels: list[str], ids: Collection[int] | None,
               user: tuple[str, str] | None, batch: int) -> list[OutboxMessage]:
        with self.database.session() as session:
            return rows.claim_outbox_messages(
                session=session, owner=self.owner, lease=self.lease, channels=channels,
                ids=ids, user=user, limit=batch, now=self.now(),
            )

    def _post(self, row: OutboxMessage, report: DispatchReport) -> None:
        assert row.id is not None
        notifier = self.notifiers.get(row.channel)
        try:
            parts = parts_from_json(row.parts)
        except (CodecError, TypeError, ValueError) as exc:
            log.error("outbox message %s: unreadable parts (%s); undeliverable", row.id,
                      type(exc).__name__)
            self._failed(row, "unreadable", give_up=True, report=report)
            return
        address = Address(
            channel=cast(ChannelName, row.channel), tenant=row.tenant,
            conversation=row.conversation, user_id=row.user_id,
        )
        try:
            if notifier is None:
                raise LookupError("no notifier")  # the channel was unmounted meanwhile
            notifier.deliver(address, parts)
        except Exception as exc:
            # The type only: a message may quote the text or the address.
            log.warning("outbox message %s (%s, attempt %d) not delivered: %s", row.id,
                        row.channel, row.attempts, type(exc).__name__)
            self._failed(row, type(exc).__name__, give_up=row.attempts >= self.max_attempts,
                         report=report)
            return
        with self.database.session() as session:
            kept = rows.mark_outbox_sent(
                session=session, message_id=row.id, owner=self.owner, now=self.now()
            )
        if not kept:
            log.warning("outbox message %s was posted after its lease ran out", row.id)
        report.sent.append(row.id)

    def _failed(self, row: OutboxMessage, error: str, *, give_up: bool,
                report: DispatchReport) -> None:
        assert row.id is not None
        retry_at = None if give_up else self.now() + self.backoff(row.attempts)
        with self.database.session() as session:
            rows.mark_outbox_failed(
                session=session, message_id=row.id, owner=self.owner, error=error,
                retry_at=retry_at,
            )
        if give_up:
            log.error("outbox message %s (%s) undeliverable after %d attempts", row.id,
                      row.channel, row.attempts)
            report.undeliverable.append(row.id)
        else:
            report.retrying.append(row.id)

    def prune(self) -> int:
        """Delete rows sent more than :data:`SENT_RETENTION` ago; how many."""
        with self.database.session() as session:
            return rows.forget_sent_outbox_messages(
                session=session, older_than=self.now() - SENT_RETENTION
            )
