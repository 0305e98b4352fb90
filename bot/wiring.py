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
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from bot.core.assistant import Assistant
from bot.core.flow_catalog import FlowCatalog, FlowFiles
from bot.core.messages import Notifier
from bot.core.outbox import Outbox
from bot.digest_schedule import DigestScheduler, digest_targets
from bot.knowledge_setup import knowledge_config
from bot.retention import MessageRetention
from bot.review import ReviewChat, ReviewDesk, ReviewStore
from bot.settings import Settings
from bot.spec_drafts import draft_desk
from bot.web.signin import SignInLinks, console_key
from flows import FlowDefinition
from flows.offering import check_tenant_flows
from knowledge import QuestionAnswerer
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
    outbox: Outbox | None = None
    flow_catalog: FlowCatalog | None = None
    digest_scheduler: DigestScheduler | None = None
    retention: MessageRetention | None = None
    console: SignInLinks | None = None
    """Sign-in links of the web console (``None`` when ``SOUDAN_CONSOLE_ENABLED=false``)."""

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

    def deliver_outbox(self) -> None:
        """Post the notices that are due (review results), on every replica; the rows
        are claimed with a lease, so each is posted by one of them."""
        if self.outbox is not None:
            self.outbox.deliver_due()

    def run_due_retention(self) -> None:
        """Delete transcript messages past ``SOUDAN_MESSAGE_RETENTION_DAYS`` when due."""
        if self.retention is not None and self.retention.run_due() is not None and (
            self.outbox is not None
        ):
            self.outbox.prune()  # sent notices (their text already erased) after 7 days


def build_services(
    settings: Settings, *, knowledge: QuestionAnswerer | None = None,
    publish_flows: bool = False,
) -> Services:
    """Wire the whole system from ``settings``.

    Args:
        settings: The one settings object.
        knowledge: The Q&A side to use instead of a new ``KnowledgeBase`` over the settings
            (``soudan start`` passes the one it just ingested into; tests share one).
        publish_flows: store this process's flow files as the ones every replica runs
            (``soudan serve`` / ``start`` / ``chat``); otherwise the stored ones are run
            when another process published different ones.
    """
    database = open_database(settings)
    if knowledge is None:
        from knowledge import KnowledgeBase  # LangChain, Chroma: only for commands that answer

        knowledge = KnowledgeBase(knowledge_config(settings))
    flow_catalog = FlowCatalog(database, FlowFiles.read(settings.flows_dir))
    if publish_flows:
        flow_catalog.publish(by=f"{socket.gethostname()}:{os.getpid()}")
    flows = flow_catalog.current()
    check_tenant_flows(flows, settings.tenant_flows)
    titles = load_titles(settings.effective_corpus_catalog)
    # Channels register their notifiers here when they are mounted; the review desk and
    # the digest scheduler keep this very dict, so they see channels mounted later.
    notifiers: dict[str, Notifier] = {}
    store = ReviewStore(database)
    admitted = [*settings.slack_allowed_teams, *settings.teams_allowed_tenants]
    outbox = Outbox(
        database, notifiers, retry_seconds=settings.outbox_retry_seconds,
        max_attempts=settings.outbox_max_attempts,
    )
    zone = ZoneInfo(settings.timezone)
    review = ReviewChat(
        ReviewDesk(store, notifiers, admitted=admitted, outbox=outbox, zone=zone)
    )
    console = None
    if settings.console_enabled:
        console = SignInLinks(
            key=lambda: console_key(settings), base_url=settings.console_url,
            minutes=settings.console_link_minutes, desk=review.desk,
        )
    assistant = Assistant(
        database=database,
        knowledge=knowledge,
        flows=flows,
        titles=titles,
        review=review,
        timezone=settings.timezone,
        repeat_reply_seconds=settings.repeat_reply_seconds,
        message_max_chars=settings.message_max_chars,
        console=console,
        flow_source=flow_catalog.current,
        offered_flows=settings.flows_offered_to,
        municipality=settings.municipality,
        drafts=draft_desk(settings, knowledge),
    )
    scheduler = DigestScheduler(
        store, notifiers, digest_targets(settings, store), cron=settings.digest_cron, zone=zone
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
        outbox=outbox,
        flow_catalog=flow_catalog,
        digest_scheduler=scheduler,
        retention=MessageRetention(
            database, settings.message_retention_days,
            receipt_hours=settings.receipt_retention_hours,
        ),
        console=console,
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
