"""Test doubles and seeding for the review tests (a collecting notifier, a fake clock)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import select

from bot.core.messages import Address, ChannelName, DeliveryError, Notifier, Part
from storage import Database
from storage.lifecycle import SheetStatus
from storage.models import ConsultationSheetCreate, ConversationRef, MessageDirection
from storage.sheets import create_sheet, transition_sheet
from storage.transcript import record_message


def outcome_sections(outcomes: dict[str, bool] | None) -> list[dict[str, Any]]:
    """Sections carrying ``outcomes`` as the shipped flows label them (one per flow)."""
    from flows import load_flows
    from flows.sheet_section import cite_record

    sections: list[dict[str, Any]] = []
    for flow in load_flows().values():
        decisions = []
        for name, value in (outcomes or {}).items():
            outcome = flow.outcome(name)
            if outcome is None:
                continue
            decisions.append({
                "name": name, "label": outcome.label, "kind": outcome.kind, "value": value,
                "value_label": outcome.value_label(value),
                "statement": outcome.when_true if value else outcome.when_false,
                "digest": name in flow.sheet.digest,
                "cites": [cite_record(c) for c in outcome.cites],
            })
        if decisions:
            sections.append({"flow": flow.id, "title": flow.title, "answers": [],
                             "decisions": decisions, "outcomes": outcomes})
    return sections


class CollectingNotifier(Notifier):
    """Test double for a channel: keeps what it was asked to deliver.

    With ``failing=True`` every delivery raises :class:`DeliveryError`, like a channel
    that is down.
    """

    def __init__(self, channel: ChannelName, *, failing: bool = False) -> None:
        self.channel = channel
        self.failing = failing
        self.delivered: list[tuple[Address, list[Part]]] = []

    def deliver(self, address: Address, parts: list[Part]) -> None:
        if self.failing:
            raise DeliveryError(f"{self.channel} is down")
        self.delivered.append((address, list(parts)))


@dataclass
class FakeClock:
    """A clock that only moves when told to."""

    at: datetime

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


@dataclass
class SeededSheet:
    sheet_id: str
    reference: str


@dataclass
class Seeder:
    """Creates sheets and questions with chosen timestamps through the storage API."""

    database: Database
    made: list[SeededSheet] = field(default_factory=list)

    def sheet(
        self,
        *,
        created_at: datetime,
        department: str | None = "市民課",
        tenant: str = "T1",
        business: str = "窓口予約受付",
        initial_cost: int | None = 4_500_000,
        outcomes: dict[str, bool] | None = None,
        channel: str = "slack",
        conversation: str = "C1:1700000000.000100",
        requester_id: str = "U1",
        moves: Sequence[tuple[str, datetime]] = (),
    ) -> SeededSheet:
        values: dict[str, Any] = {
            "channel": channel,
            "tenant": tenant,
            "conversation": conversation,
            "requester_id": requester_id,
            "department": department,
            "business": business,
            "initial_cost": initial_cost,
            "outcomes": outcomes or {},
            "sections": outcome_sections(outcomes),
        }
        with self.database.session() as session:
            row = create_sheet(
                session=session, sheet_in=ConsultationSheetCreate(**values), now=created_at
            )
            for status, at in moves:
                transition_sheet(
                    session=session, sheet_id=row.id, to_status=SheetStatus(status),
                    actor_id="seed", now=at,
                )
            seeded = SeededSheet(row.id, row.reference)
        self.made.append(seeded)
        return seeded

    def question(
        self, text: str, *, at: datetime, answered: bool, tenant: str = "T1"
    ) -> None:
        with self.database.session() as session:
            record_message(
                session=session, channel="slack", tenant=tenant, conversation="C9:1.0",
                direction=MessageDirection.INBOUND, text=text, user_id="U7",
                question=True, answered=answered, now=at,
            )


class BackgroundThreads:
    """The desk's ``background`` runner for tests: real threads, joined on demand."""

    def __init__(self) -> None:
        self.threads: list[threading.Thread] = []

    def __call__(self, task: Callable[[], object]) -> None:
        thread = threading.Thread(target=task)
        self.threads.append(thread)
        thread.start()

    def join(self) -> None:
        for thread in self.threads:
            thread.join()


class DatabaseReadingNotifier(CollectingNotifier):
    """Like the Teams notifier: opens its own database session to deliver."""

    def __init__(self, channel: ChannelName, database: Database) -> None:
        super().__init__(channel)
        self.database = database

    def deliver(self, address: Address, parts: list[Part]) -> None:
        with self.database.session() as session:
            session.exec(select(ConversationRef)).all()
        super().deliver(address, parts)
