"""The inbox worker's heartbeat: a lease just set by the claim is not renewed at once,
and a turn that runs for many leases is still never taken over by another worker."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import event

from bot.core.inbox import Envelope, Inbox, InboxTurn, Outcome
from bot.core.messages import Inbound, Part, Text
from storage import Database, InboxStatus, list_inbox_events
from tests.core.test_inbox import EchoCore


class SlowCourier:
    """Shows the turn only after ``seconds`` (a slow channel), then applies it."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.shown: list[tuple[int, Outcome | None, list[Part]]] = []

    async def run(self, turn: InboxTurn) -> None:
        await asyncio.sleep(self.seconds)
        parts = await turn.apply()
        self.shown.append((turn.attempt, turn.outcome, parts))


def _held_by(database: Database, owner: str) -> bool:
    with database.session() as session:
        return [e.lease_owner for e in list_inbox_events(session=session)] == [owner]


def _inbox(database: Database, core: EchoCore, courier: Any, owner: str) -> Inbox:
    return Inbox(database=database, core=core, channel="slack", courier=courier,
                 lease_seconds=0.3, poll_seconds=0.1, owner=owner)


async def test_a_turn_longer_than_many_leases_keeps_its_lease_and_is_applied_once(
    database: Database,
) -> None:
    core = EchoCore(database)
    slow, other = SlowCourier(1.2), SlowCourier(0.0)
    holder, rival = _inbox(database, core, slow, "holder"), _inbox(database, core, other, "rival")
    renewals: list[str] = []

    def on_begin(*_: Any) -> None:
        import sys

        frame = sys._getframe(1)
        while frame is not None and frame.f_code.co_name != "_renew":
            frame = frame.f_back  # type: ignore[assignment]
        if frame is not None:
            renewals.append(frame.f_locals["self"].owner)

    event.listen(database.engine, "begin", on_begin)
    try:
        await holder.accept(Envelope(Inbound(channel="slack", tenant="T1", conversation="D1:1",
                                             user_id="U1", text="ゆっくり", inbound_id="Ev1")))
        while not _held_by(database, "holder"):
            await asyncio.sleep(0.01)
        await rival.start()
        for _ in range(100):
            if slow.shown:
                break
            await asyncio.sleep(0.05)
        await holder.stop()
        await rival.stop()
    finally:
        event.remove(database.engine, "begin", on_begin)

    assert slow.shown == [(1, Outcome.APPLIED, [Text("受け付けました: ゆっくり")])]
    assert other.shown == []  # the rival never took it over
    assert core.applied == [("D1:1", "ゆっくり")]
    # Renewed while it ran (1.2 s of 0.3 s leases), at most once per 0.1 s tick.
    assert 3 <= renewals.count("holder") <= 12
    with database.session() as session:
        assert [e.status for e in list_inbox_events(session=session)] == [InboxStatus.DONE]
