"""Builds the running system from the one settings object.

Everything the channels and the CLI need is made here, once, and passed in: the
database, the knowledge base, the validated flows, the conversation core, and the
notifiers each channel registers when it is mounted.

Example:
    >>> services = build_services(Settings())          # doctest: +SKIP
    >>> services.assistant.handle(inbound)             # doctest: +SKIP
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

import sqlalchemy as sa

from bot.core.assistant import Assistant
from bot.core.messages import Notifier
from bot.knowledge_setup import knowledge_config
from bot.retention import MessageRetention
from bot.review import DigestScheduler, ReviewChat, ReviewDesk, ReviewStore, digest_targets
from bot.settings import Settings
from flows import FlowDefinition, load_flows
from flows.offering import check_tenant_flows
from knowledge import KnowledgeBase, QuestionAnswerer
from knowledge.catalog import load_titles
from storage import Database

log = logging.getLogger(__name__)


def open_database(settings: Settings, *, upgrade: bool = True) -> Database:
    """The configured database, migrated to the newest schema unless ``upgrade=False``."""
    database = Database(settings.effective_database_url)
    if upgrade:
        database.upgrade()
    return database


@dataclass
class Services:
    """The running system."""

    settings: Settings
    database: Database
    knowledge: QuestionAnswerer
    flows: Mapping[str, FlowDefinition]
    titles: Mapping[str, str]
    assistant: Assistant
    notifiers: dict[str, Notifier] = field(default_factory=dict)
    review: ReviewChat | None = None
    digest_scheduler: DigestScheduler | None = None
    retention: MessageRetention | None = None

    def database_ping(self) -> None:
        """Raise when the database is unreachable (``/healthz``)."""
        with self.database.engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))

    def run_due_digests(self) -> None:
        """Post the weekly digest when due (safe on every replica: claims are in the DB)."""
        if self.digest_scheduler is not None:
            self.digest_scheduler.run_due()

    def run_due_jobs(self) -> None:
        """The background jobs of ``soudan serve``, every minute: the weekly digest when
        due, and message retention (at start-up, then every six hours). One failing job
        does not stop the other; errors are logged without message text."""
        for job in (self.run_due_digests, self.run_due_retention):
            try:
                job()
            except Exception:
                log.exception("background job %s failed", job.__name__)

    def run_due_retention(self) -> None:
        """Delete transcript messages past ``SOUDAN_MESSAGE_RETENTION_DAYS`` when due."""
        if self.retention is not None:
            self.retention.run_due()


def build_services(
    settings: Settings, *, knowledge: QuestionAnswerer | None = None
) -> Services:
    """Wire the whole system from ``settings``.

    Args:
        settings: The one settings object.
        knowledge: The Q&A side to use instead of a new ``KnowledgeBase`` over the settings
            (``soudan start`` passes the one it just ingested into; tests share one).
    """
    database = open_database(settings)
    knowledge = knowledge or KnowledgeBase(knowledge_config(settings))
    flows = load_flows(settings.flows_dir)
    check_tenant_flows(flows, settings.tenant_flows)
    titles = load_titles(settings.effective_corpus_catalog)
    # Channels register their notifiers here when they are mounted; the review desk and
    # the digest scheduler keep this very dict, so they see channels mounted later.
    notifiers: dict[str, Notifier] = {}
    store = ReviewStore(database)
    admitted = [*settings.slack_allowed_teams, *settings.teams_tenants]
    review = ReviewChat(ReviewDesk(store, notifiers, admitted=admitted))
    assistant = Assistant(
        database=database,
        knowledge=knowledge,
        flows=flows,
        titles=titles,
        review=review,
        timezone=settings.timezone,
        repeat_reply_seconds=settings.repeat_reply_seconds,
        message_max_chars=settings.message_max_chars,
        offered_flows=settings.flows_offered_to,
    )
    scheduler = DigestScheduler(
        store, notifiers, digest_targets(settings, store), cron=settings.digest_cron
    )
    return Services(
        settings=settings,
        database=database,
        knowledge=knowledge,
        flows=flows,
        titles=titles,
        assistant=assistant,
        notifiers=notifiers,
        review=review,
        digest_scheduler=scheduler,
        retention=MessageRetention(database, settings.message_retention_days),
    )


def build_notifiers(services: Services) -> dict[str, Notifier]:
    """Notifiers for posting without the server running (CLI review results, digest).

    ``soudan serve`` registers its own when it mounts the channels; this is for the
    commands that post from a shell: only the channels whose credentials are set.
    """
    settings = services.settings
    notifiers: dict[str, Notifier] = {}
    if settings.slack_bot_token is not None:
        from bot.slack import SlackNotifier

        notifiers["slack"] = SlackNotifier(settings)
    if settings.teams_configured:
        from bot.teams import build_teams_notifier

        notifiers["teams"] = build_teams_notifier(settings, services)
    return notifiers
