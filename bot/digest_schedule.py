"""Posting the weekly digest on schedule, exactly once per week across replicas.

The server's background loop calls :meth:`DigestScheduler.run_due` every minute.
Each call looks at the latest scheduled time (``settings.digest_cron``, default
``0 9 * * 1`` = Monday 09:00 Asia/Tokyo) at or before now; the digest posted then
covers the last complete ISO week before it. For each target the replica first
*claims* (week, target) with a unique row in the database (``digest_run``); only the
replica whose claim succeeds builds and posts. A replica that was down at the
scheduled time sees the unclaimed week on its next call and posts it late: catch-up
of the latest due week. Older missed weeks are not posted (the newest supersedes them).

Example:
    >>> targets = targets_from_settings(settings)                       # doctest: +SKIP
    >>> scheduler = DigestScheduler(store, notifiers, targets)          # doctest: +SKIP
    >>> scheduler.run_due()     # in the server loop, once a minute     # doctest: +SKIP
    []
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from croniter import croniter

from bot.core.messages import Address, DeliveryError, Notifier
from bot.core.policy import AccessGate
from bot.review.desk import compile_digest
from bot.review.digest_render import render_chat
from bot.review.records import Actor
from bot.review.store import ReviewStore
from bot.review.weeks import TOKYO, IsoWeek
from bot.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_CRON = "0 9 * * 1"


class ScheduleError(ValueError):
    """The digest schedule (cron expression) cannot be used."""


@dataclass(frozen=True)
class DigestTarget:
    """Where the scheduled digest goes.

    ``destination`` is the unique key of the claim (e.g. ``slack:C0123``);
    ``tenant`` limits the digest to one tenant (``None``: every tenant, for a
    single-municipality deployment).
    """

    destination: str
    address: Address
    tenant: str | None = None


@dataclass(frozen=True)
class PostedDigest:
    week: IsoWeek
    destination: str
    delivered: bool


REVIEWERS = "reviewers"
"""Setting value meaning "a direct message to every registered reviewer of that channel"."""


def targets_from_settings(settings: Settings) -> list[DigestTarget]:
    """Fixed targets from ``digest_slack_channel`` and ``digest_teams_conversation``.

    ``digest_slack_channel`` is a channel id (``C0123``) or ``<team id>/<channel id>``
    to limit the digest to that workspace. ``digest_teams_conversation`` is a Teams
    conversation id; the digest covers ``microsoft_app_tenant_id`` when set. The
    value ``reviewers`` means reviewers' DMs instead (see :func:`reviewer_dm_targets`)
    and gives no fixed target.
    """
    targets: list[DigestTarget] = []
    slack = settings.digest_slack_channel
    if slack and slack != REVIEWERS:
        team, _, channel = slack.rpartition("/")
        targets.append(
            DigestTarget(f"slack:{channel}", Address("slack", team, channel), team or None)
        )
    conversation = settings.digest_teams_conversation
    if conversation and conversation != REVIEWERS:
        tenant = settings.microsoft_app_tenant_id
        targets.append(
            DigestTarget(
                f"teams:{conversation}"[:100], Address("teams", tenant, conversation),
                tenant or None,
            )
        )
    return targets


def reviewer_dm_targets(store: ReviewStore, channels: Sequence[str]) -> list[DigestTarget]:
    """A DM to every registered reviewer of ``channels``, each with their tenant's digest."""
    return [
        DigestTarget(
            f"dm:{actor.key}"[:100],
            Address(actor.channel, actor.tenant, "", user_id=actor.user_id),
            actor.tenant,
        )
        for actor in store.users()
        if actor.role == "reviewer" and actor.channel in channels
    ]


def digest_targets(settings: Settings, store: ReviewStore) -> Callable[[], list[DigestTarget]]:
    """Where the digest goes, worked out at each run (reviewers may change).

    Example:
        >>> DigestScheduler(store, notifiers, digest_targets(settings, store))  # doctest: +SKIP
    """
    fixed = targets_from_settings(settings)
    dm_channels = [
        channel for channel, value in (
            ("slack", settings.digest_slack_channel),
            ("teams", settings.digest_teams_conversation),
        )
        if value == REVIEWERS
    ]

    def targets() -> list[DigestTarget]:
        return fixed + (reviewer_dm_targets(store, dm_channels) if dm_channels else [])

    return targets


def default_replica_name() -> str:
    """``host:pid``: tells replicas apart in ``digest_run.claimed_by``."""
    return f"{socket.gethostname()}:{os.getpid()}"[:200]


class DigestScheduler:
    """Posts the digest when due, once per week and target across all replicas.

    Args:
        store: the database (claims, sheets, questions, audit).
        notifiers: channel name -> :class:`Notifier` (kept, not copied: channels
            mounted later may still register theirs).
        targets: where to post: a list, or a function giving the list at each run
            (:func:`digest_targets`).
        cron: five-field cron expression, read in ``zone``.
        zone: the schedule's time zone (Asia/Tokyo).
        now: clock; inject a fake one in tests.
        replica: this process's name in the claim rows.

    Raises:
        ScheduleError: ``cron`` is not a valid expression.
    """

    def __init__(
        self,
        store: ReviewStore,
        notifiers: Mapping[str, Notifier],
        targets: Sequence[DigestTarget] | Callable[[], Sequence[DigestTarget]],
        *,
        cron: str = DEFAULT_CRON,
        zone: ZoneInfo = TOKYO,
        now: Callable[[], datetime] | None = None,
        replica: str | None = None,
    ) -> None:
        if not croniter.is_valid(cron):
            raise ScheduleError(
                f"SOUDAN_DIGEST_CRON が不正です: {cron!r}（例: 0 9 * * 1 = 毎週月曜 9:00）"
            )
        self.store = store
        self.notifiers = notifiers
        self._targets = targets
        self.cron = cron
        self.zone = zone
        self.now = now or (lambda: datetime.now(UTC))
        self.replica = replica or default_replica_name()
        self._gate = AccessGate(store, self.now)
        self._done: set[tuple[str, str]] = set()  # a cache only; the database decides
        self._actor = Actor("cli", "system", f"digest-scheduler:{self.replica}"[:200],
                            via="scheduler")

    def targets(self) -> list[DigestTarget]:
        """The targets of this run."""
        return list(self._targets() if callable(self._targets) else self._targets)

    def latest_due(self) -> tuple[datetime, IsoWeek]:
        """The latest scheduled time at or before now, and the week its digest covers."""
        local_now = self.now().astimezone(self.zone)
        fired: datetime = croniter(self.cron, local_now + timedelta(seconds=1)).get_prev(datetime)
        return fired, IsoWeek.containing(fired, self.zone).previous()

    def next_due(self) -> datetime:
        """The next scheduled time after now (for logs and ``soudan digest schedule``)."""
        local_now = self.now().astimezone(self.zone)
        next_time: datetime = croniter(self.cron, local_now).get_next(datetime)
        return next_time

    def run_due(self) -> list[PostedDigest]:
        """Post every due, unclaimed digest; returns what this replica posted.

        Safe to call as often as you like from any number of replicas.
        """
        _, week = self.latest_due()
        posted: list[PostedDigest] = []
        for target in self.targets():
            key = (str(week), target.destination)
            if key in self._done:
                continue
            if self.notifiers.get(target.address.channel) is None:
                # The channel is not mounted (yet): claiming now would only delay the post.
                log.warning("digest target %s has no notifier yet", target.destination)
                continue
            if not self.store.claim_digest(str(week), target.destination, self.replica,
                                           self.now()):
                # Claimed elsewhere. Remember it only once posted: a claim whose
                # replica died may be taken over after its lease.
                if self.store.digest_posted(*key):
                    self._done.add(key)
                continue
            delivered = self._post(week, target)
            if delivered:
                self._done.add(key)
            posted.append(PostedDigest(week, target.destination, delivered))
        return posted

    def _post(self, week: IsoWeek, target: DigestTarget) -> bool:
        notifier = self.notifiers[target.address.channel]
        detail = {"destination": target.destination, "scheduled": "true"}
        digest = compile_digest(self.store, week, target.tenant, self.now())
        try:
            notifier.deliver(target.address, render_chat(digest))
        except DeliveryError:
            # The claim stays unposted; after its lease another call retries.
            log.warning("digest %s to %s failed", week, target.destination, exc_info=True)
            self._gate.record(self._actor, "digest", f"digest:{week}", "failed",
                              {**detail, "reason": "delivery_failed"})
            return False
        self.store.mark_digest_posted(str(week), target.destination, self.now())
        self._gate.record(self._actor, "digest", f"digest:{week}", "allowed", detail)
        log.info("digest %s posted to %s", week, target.destination)
        return True


def run_every_minute(
    scheduler: DigestScheduler, stop: threading.Event, interval: float = 60.0
) -> None:
    """Call :meth:`DigestScheduler.run_due` until ``stop`` is set (a thread's target).

    Errors are logged, not raised: the next minute tries again.
    """
    while not stop.is_set():
        try:
            scheduler.run_due()
        except Exception:
            log.exception("digest scheduler run failed")
        stop.wait(interval)
