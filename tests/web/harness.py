"""The web console on a real database, with the real core issuing sign-in links.

:class:`ConsoleHarness` wires what ``soudan serve`` wires for the console (review
store and desk, sign-in links, the conversation core) on one database, with a clock
that only moves when told to. People get links the way users do: by sending
「管理画面」 to the core.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.core.assistant import Assistant
from bot.core.messages import Inbound, Notifier, Text
from bot.review import ReviewChat, ReviewDesk, ReviewStore
from bot.server import healthz
from bot.settings import Settings
from bot.web.app import Console, mount_console
from bot.web.signin import SignInLinks
from flows import load_flows
from knowledge.types import Answer
from storage import Database, UserRole, upsert_user_profile
from storage.lifecycle import SheetStatus
from storage.models import ConsultationSheetCreate, SheetComment
from storage.sheets import create_sheet, transition_sheet

LINK = re.compile(r"https?://\S+/console/sign-in\?t=\S+")
TENANT = "T1"


class NoKnowledge:
    """The console never asks guideline questions; any call is a test failure."""

    def answer(self, question: str, *, history: Sequence[str] = ()) -> Answer:
        raise AssertionError("the console tests ask no guideline question")

    def search(self, question: str, *, top_k: int = 5) -> list[Any]:
        raise AssertionError("the console tests search nothing")


@dataclass
class Clock:
    at: datetime

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


@dataclass
class Person:
    user_id: str
    name: str
    role: UserRole | None
    department: str | None = None
    channel: str = "slack"
    tenant: str = TENANT

    @property
    def key(self) -> str:
        return f"{self.channel}:{self.tenant}:{self.user_id}"


@dataclass
class ConsoleHarness:
    database: Database
    clock: Clock
    settings: Settings
    store: ReviewStore = field(init=False)
    desk: ReviewDesk = field(init=False)
    links: SignInLinks = field(init=False)
    drafts: Any = None
    """A draft 仕様書 reviewer for the console's upload (``bot.spec_drafts.DraftDesk``)."""
    assistant: Assistant = field(init=False)
    console: Console = field(init=False)

    def __post_init__(self) -> None:
        self.store = ReviewStore(self.database)
        self.notifiers: dict[str, Notifier] = {}
        self.desk = ReviewDesk(
            self.store, self.notifiers, now=self.clock, background=lambda task: None
        )
        self.links = SignInLinks(
            key=b"test-key-" * 4, base_url=self.settings.console_url, minutes=10,
            desk=self.desk, now=self.clock,
        )
        self.assistant = Assistant(
            database=self.database, knowledge=NoKnowledge(),
            flows=load_flows(self.settings.flows_dir), titles={},
            review=ReviewChat(self.desk), console=self.links,
        )
        self.console = Console(
            settings=self.settings, database=self.database, desk=self.desk, links=self.links,
            titles={}, flows=load_flows(self.settings.flows_dir), drafts=self.drafts,
        )

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/healthz", healthz)
        mount_console(app, self.console)
        return app

    # --- people and sheets -----------------------------------------------------------

    def register(self, person: Person) -> Person:
        with self.database.session() as session:
            upsert_user_profile(
                session=session, channel=person.channel, tenant=person.tenant,
                user_id=person.user_id, display_name=person.name,
                role=person.role if person.role is not None else UserRole.STAFF,
            )
        if person.department is not None:
            self.store.save_user(
                person.channel, person.tenant, person.user_id,  # type: ignore[arg-type]
                department=person.department, confirmed_by="cli:local:operator",
            )
        return person

    def chat_link(self, person: Person) -> str:
        """What the person reads after sending 「管理画面」 in chat: the link's URL."""
        parts = self.assistant.handle(Inbound(
            channel=person.channel, tenant=person.tenant,  # type: ignore[arg-type]
            conversation=f"D-{person.user_id}", user_id=person.user_id, user_name=person.name,
            text="管理画面",
        ))
        text = " ".join(p.text for p in parts if isinstance(p, Text))
        found = LINK.search(text)
        assert found, f"no sign-in link in the reply: {text}"
        return found.group(0)

    def sheet(
        self,
        *,
        department: str = "市民課",
        business: str = "窓口予約受付",
        requester: Person | None = None,
        initial_cost: int | None = 4_500_000,
        flow_id: str = "ict_adoption",
        status: str = "submitted",
        created: timedelta = timedelta(days=3),
        decisions: list[dict[str, Any]] | None = None,
    ) -> str:
        """A sheet created ``created`` ago and moved to ``status``; its 整理番号."""
        created_at = self.clock() - created
        who = requester or Person("U-req", "依頼者", UserRole.STAFF, department)
        path = {
            "draft": [], "submitted": ["submitted"], "in_review": ["submitted", "in_review"],
            "returned": ["submitted", "in_review", "returned"],
            "accepted": ["submitted", "in_review", "accepted"],
            "closed": ["submitted", "in_review", "accepted", "closed"],
        }[status]
        with self.database.session() as session:
            row = create_sheet(session=session, sheet_in=ConsultationSheetCreate(
                channel=who.channel, tenant=who.tenant, conversation=f"C-{who.user_id}:1.0",
                requester_id=who.user_id, requester_name=who.name, department=department,
                business=business, initial_cost=initial_cost, flow_id=flow_id,
                outcomes={"dx_council_required": (initial_cost or 0) >= 3_000_000},
                sections=[{
                    "flow": flow_id, "title": "ICT 活用の検討（DX推進本部協議・RFI の要否）",
                    "answers": [{"slot": "business", "label": "対象業務", "kind": "text",
                                 "value": business, "text": business}],
                    "decisions": decisions or [],
                }],
            ), now=created_at)
            for step, to_status in enumerate(path, start=1):
                transition_sheet(
                    session=session, sheet_id=row.id, to_status=SheetStatus(to_status),
                    actor_id=who.key if to_status == "submitted" else f"slack:{who.tenant}:U-cio",
                    now=created_at + timedelta(minutes=step),
                    comment="積算根拠を追記してください" if to_status == "returned" else None,
                )
            return row.reference

    def comments(self, reference: str) -> list[SheetComment]:
        from sqlmodel import select

        sheet = self.store.sheet(reference)
        assert sheet is not None
        with self.database.session() as session:
            return list(session.exec(
                select(SheetComment).where(SheetComment.sheet_id == sheet.id)
            ).all())


def settings_for(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"data_dir": tmp_path / "data", "host": "127.0.0.1", "port": 3000}
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]
