"""Message retention: transcript messages older than ``SOUDAN_MESSAGE_RETENTION_DAYS`` go.

The server's background loop (the one that posts the weekly digest) calls
:meth:`MessageRetention.run_due` every minute; it prunes at its first call (start-up)
and then every ``every`` (six hours). Deleting is idempotent, so every replica may run
it. 相談シート and the audit log are kept: only the ``message`` table (questions,
answers, inputs typed during a consultation) and the 👍/👎 on those answers.

The same run forgets delivery receipts (``inbound_receipt``, which make a redelivered
event a no-op) older than ``SOUDAN_RECEIPT_RETENTION_HOURS``: far longer than Slack's and
the Bot Connector's retry windows (minutes), so a late retry is still recognised.

Example:
    >>> MessageRetention(database, days=365).prune(now=datetime.now(UTC))  # doctest: +SKIP
    0
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import storage
from storage import Database

log = logging.getLogger(__name__)

DEFAULT_EVERY = timedelta(hours=6)
DEFAULT_RECEIPT_HOURS = 72


class MessageRetention:
    """Deletes transcript messages older than ``days`` (``0``: keep everything).

    Args:
        database: the database.
        days: the retention in days.
        receipt_hours: how long delivery receipts are kept (``0``: forever).
        every: how often :meth:`run_due` prunes.
        now: clock (UTC); inject a fake one in tests.
    """

    def __init__(
        self,
        database: Database,
        days: int,
        *,
        receipt_hours: int = DEFAULT_RECEIPT_HOURS,
        every: timedelta = DEFAULT_EVERY,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.database = database
        self.days = days
        self.receipt_hours = receipt_hours
        self.every = every
        self.now = now or (lambda: datetime.now(UTC))
        self._last: datetime | None = None

    def cutoff(self, now: datetime) -> datetime | None:
        """Messages created before this are deleted; None when retention is off."""
        return now - timedelta(days=self.days) if self.days > 0 else None

    def prune(self, now: datetime) -> int:
        """Delete what is older than the retention at ``now``; the number of messages
        deleted (receipts are counted in the log only)."""
        if self.receipt_hours > 0:
            with self.database.session() as session:
                receipts = storage.forget_inbound_receipts(
                    session=session, older_than=now - timedelta(hours=self.receipt_hours)
                )
            if receipts:
                log.info("receipt retention: forgot %d delivery receipts older than %d h",
                         receipts, self.receipt_hours)
        cutoff = self.cutoff(now)
        if cutoff is None:
            return 0
        with self.database.session() as session:
            deleted = storage.delete_messages_before(session=session, before=cutoff)
        if deleted:
            log.info("message retention: deleted %d messages older than %d days",
                     deleted, self.days)
        return deleted

    def run_due(self) -> int | None:
        """Prune when the last run is ``every`` ago (or never ran); None when not due."""
        now = self.now()
        if self._last is not None and now - self._last < self.every:
            return None
        self._last = now
        return self.prune(now)
