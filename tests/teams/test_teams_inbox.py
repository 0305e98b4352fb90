"""The Teams endpoint over the durable inbox: stored before 200, or 500 so it comes again."""

from __future__ import annotations

import sqlalchemy as sa

import storage
from bot.wiring import Services
from storage import Database, InboxStatus
from tests.teams.activities import PERSONAL_CONVERSATION, message
from tests.teams.connector import MockConnector
from tests.teams.fakes import GatedAssistant, RecordingAssistant
from tests.teams.running_bot import StartBot
from tests.teams.teams_user import shown_text


def _events(database: Database) -> list[storage.InboxEvent]:
    with database.session() as session:
        return storage.list_inbox_events(session=session, channel="teams")


async def test_an_activity_is_stored_before_the_200_and_redeliveries_are_not(
    start_bot: StartBot, connector: MockConnector, services: Services
) -> None:
    gate = GatedAssistant(services.assistant)
    running = await start_bot(gate, services=services)
    activity = message(connector.service_url, "RFI とは？", activity_id="1700000000042")

    assert await running.post(activity) == 200
    [stored] = _events(services.database)  # the answer has not started yet (gate closed)
    assert await running.post(activity) == 200  # the connector's retry
    gate.open()
    await running.bot.drain()

    assert stored.delivery_id == f"{PERSONAL_CONVERSATION}|1700000000042"
    assert stored.conversation == PERSONAL_CONVERSATION
    [event] = _events(services.database)
    assert (event.status, event.payload, event.reply) == (InboxStatus.DONE, None, None)
    [reply] = connector.messages()
    assert "RFI（情報提供招請）は" in shown_text([reply])


async def test_an_activity_that_cannot_be_stored_gets_500_and_no_answer(
    start_bot: StartBot, connector: MockConnector, sqlite_database: Database
) -> None:
    assistant = RecordingAssistant()
    running = await start_bot(assistant)
    with sqlite_database.engine.begin() as connection:
        connection.execute(sa.text("ALTER TABLE inbox_event RENAME TO inbox_event_away"))

    assert await running.post(message(connector.service_url, "RFI とは？")) == 500
    await running.bot.drain()

    assert assistant.inbounds == []
    assert connector.messages() == []
