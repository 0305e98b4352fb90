"""The endpoint's own behaviour: fast response, slow answers, errors, tenants, proactive posts."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlmodel import select

from bot.core.messages import Address, DeliveryError, Part, Text
from bot.teams import build_teams_notifier
from bot.teams.bot import ERROR_MESSAGE
from storage.database import Database
from storage.models import AuditLog, AuditResult, ConversationRef
from tests.teams.activities import (
    CHANNEL_THREAD,
    OTHER_TENANT,
    PERSONAL_CONVERSATION,
    TENANT,
    message,
)
from tests.teams.connector import MockConnector
from tests.teams.fakes import (
    BrokenAssistant,
    ConcurrencyProbe,
    GatedAssistant,
    RecordingAssistant,
    UnwritableRecords,
)
from tests.teams.running_bot import StartBot, teams_settings


async def test_the_http_response_returns_before_a_slow_answer_which_follows_proactively(
    start_bot: StartBot, connector: MockConnector
) -> None:
    slow = GatedAssistant(RecordingAssistant())
    running = await start_bot(slow)
    activity = message(connector.service_url, "RFI とは？")

    status = await running.post(activity)

    # The core is still working (the gate is closed) and the HTTP exchange is over.
    assert status == 200
    assert await asyncio.to_thread(slow.entered.wait, 20)
    assert connector.messages() == []
    assert [c.type for c in connector.calls] == ["typing"]
    assert connector.calls[0].reply_to == activity["id"]

    slow.open()
    [reply] = await connector.replies(1)
    assert reply.text == "受け付けました: RFI とは？"
    assert reply.conversation == PERSONAL_CONVERSATION
    assert reply.reply_to == activity["id"]


async def test_turns_of_one_conversation_run_one_at_a_time_in_arrival_order(
    start_bot: StartBot, connector: MockConnector
) -> None:
    gate = GatedAssistant(RecordingAssistant())
    probe = ConcurrencyProbe(gate)
    running = await start_bot(probe)

    assert await running.post(message(connector.service_url, "はい")) == 200
    assert await asyncio.to_thread(gate.entered.wait, 20)
    assert await running.post(message(connector.service_url, "RFI とは？")) == 200
    gate.open()

    replies = await connector.replies(2)
    await running.bot.drain()
    assert [r.text for r in replies] == ["受け付けました: はい", "受け付けました: RFI とは？"]
    assert probe.most_at_once == 1


async def test_a_failing_core_gives_the_user_a_japanese_message_and_logs_no_user_text(
    start_bot: StartBot, connector: MockConnector, caplog: pytest.LogCaptureFixture
) -> None:
    running = await start_bot(BrokenAssistant())

    assert await running.post(message(connector.service_url, "山田の予算は450万円")) == 200

    [reply] = await connector.replies(1)
    assert reply.text == ERROR_MESSAGE
    assert "RuntimeError" in caplog.text
    assert "450万円" not in caplog.text


async def test_a_turn_is_still_answered_when_its_reference_cannot_be_saved(
    start_bot: StartBot, connector: MockConnector
) -> None:
    running = await start_bot(RecordingAssistant(), records=UnwritableRecords())

    assert await running.post(message(connector.service_url, "RFI とは？")) == 200

    [reply] = await connector.replies(1)
    assert reply.text == "受け付けました: RFI とは？"


async def test_a_channel_mention_is_answered_in_its_reply_chain_without_the_mention(
    start_bot: StartBot, connector: MockConnector
) -> None:
    assistant = RecordingAssistant()
    running = await start_bot(assistant)
    activity = message(
        connector.service_url, "RFI とは？", conversation=CHANNEL_THREAD, mention_bot=True
    )

    assert await running.post(activity) == 200

    [reply] = await connector.replies(1)
    assert reply.conversation == CHANNEL_THREAD
    assert reply.reply_to == activity["id"]
    [inbound] = assistant.inbounds
    assert inbound.text == "RFI とは？"
    assert (inbound.channel, inbound.tenant, inbound.conversation) == (
        "teams",
        TENANT,
        CHANNEL_THREAD,
    )
    assert (inbound.user_id, inbound.user_name) == ("aad-object-hanako", "山田 花子")
    assert inbound.inbound_id == activity["id"]


async def test_an_activity_from_a_tenant_not_allowed_is_refused_audited_and_not_stored(
    start_bot: StartBot, connector: MockConnector, sqlite_database: Database, tmp_path: Path
) -> None:
    assistant = RecordingAssistant()
    settings = teams_settings(tmp_path, teams_tenants=TENANT)
    running = await start_bot(assistant, settings=settings)

    status = await running.post(message(connector.service_url, "RFI とは？", tenant=OTHER_TENANT))

    assert status == 403
    assert assistant.inbounds == []
    assert connector.calls == []
    with sqlite_database.session() as session:
        [audit] = session.exec(select(AuditLog)).all()
        assert session.exec(select(ConversationRef)).all() == []
    assert (audit.tenant, audit.result, audit.action) == (
        OTHER_TENANT,
        AuditResult.DENIED,
        "teams.activity",
    )

    # The allowed tenant still gets through.
    assert await running.post(message(connector.service_url, "RFI とは？")) == 200
    await connector.replies(1)


async def test_a_notification_reaches_a_stored_conversation_later(
    start_bot: StartBot, connector: MockConnector, sqlite_database: Database
) -> None:
    running = await start_bot(RecordingAssistant())
    first = message(connector.service_url, "相談を始める", conversation=CHANNEL_THREAD)
    assert await running.post(first) == 200
    await connector.replies(1)

    address = Address(channel="teams", tenant=TENANT, conversation=CHANNEL_THREAD)
    notice_text = "相談シート 2026-0001 が差し戻されました。コメントを確認してください。"
    parts: list[Part] = [Text(notice_text)]
    # The review workflow calls the sync port from a worker thread.
    await asyncio.to_thread(running.notifier.deliver, address, parts)

    notice = (await connector.replies(2))[-1]
    assert notice.text == notice_text
    assert notice.conversation == CHANNEL_THREAD

    # A person is reached through their latest conversation.
    person = Address("teams", TENANT, "a:no-longer-known", user_id="aad-object-hanako")
    await asyncio.to_thread(running.notifier.deliver, person, [Text("確認しました")])
    assert (await connector.replies(3))[-1].text == "確認しました"

    # The weekly digest knows only the conversation id (SOUDAN_DIGEST_TEAMS_CONVERSATION).
    digest = Address(channel="teams", tenant="", conversation=CHANNEL_THREAD)
    await asyncio.to_thread(running.notifier.deliver, digest, [Text("今週のダイジェスト")])
    assert (await connector.replies(4))[-1].text == "今週のダイジェスト"
    with sqlite_database.session() as session:
        [stored] = session.exec(select(ConversationRef)).all()
    assert (stored.tenant, stored.conversation, stored.user_id) == (
        TENANT,
        CHANNEL_THREAD,
        "aad-object-hanako",
    )


async def test_a_notification_that_cannot_arrive_raises_delivery_error(
    start_bot: StartBot, connector: MockConnector
) -> None:
    running = await start_bot(RecordingAssistant())
    assert await running.post(message(connector.service_url, "こんにちは")) == 200
    await connector.replies(1)
    known = Address(channel="teams", tenant=TENANT, conversation=PERSONAL_CONVERSATION)
    unknown = Address(channel="teams", tenant=TENANT, conversation="a:never-seen")

    with pytest.raises(DeliveryError, match="no conversation reference"):
        await asyncio.to_thread(running.notifier.deliver, unknown, [Text("お知らせ")])
    with pytest.raises(DeliveryError, match="not a Teams address"):
        await asyncio.to_thread(
            running.notifier.deliver, Address("slack", TENANT, "C1"), [Text("お知らせ")]
        )
    with pytest.raises(DeliveryError, match="worker thread"):
        running.notifier.deliver(known, [Text("お知らせ")])  # on the event loop: refused

    connector.fail_with_status = 403
    with pytest.raises(DeliveryError, match="failed"):
        await asyncio.to_thread(running.notifier.deliver, known, [Text("お知らせ")])


async def test_requests_that_are_not_activities_are_rejected(
    start_bot: StartBot, connector: MockConnector
) -> None:
    running = await start_bot(RecordingAssistant())
    async with running.http.post(running.url, data="hello") as response:
        assert response.status == 415
    async with running.http.post(
        running.url, data="{not json", headers={"Content-Type": "application/json"}
    ) as response:
        assert response.status == 400
    async with running.http.post(running.url, json={"text": "no type"}) as response:
        assert response.status == 400
    assert connector.calls == []


async def test_the_cli_can_notify_a_stored_conversation_without_the_server(
    start_bot: StartBot, connector: MockConnector, sqlite_database: Database, tmp_path: Path
) -> None:
    running = await start_bot(RecordingAssistant())
    assert await running.post(message(connector.service_url, "相談を始める")) == 200
    await connector.replies(1)
    settings = teams_settings(tmp_path)
    services = SimpleNamespace(settings=settings, database=sqlite_database)
    notifier = build_teams_notifier(settings, services)  # type: ignore[arg-type]
    address = Address("teams", TENANT, PERSONAL_CONVERSATION)

    # `soudan review return ...` runs in a plain thread with no event loop of its own.
    await asyncio.to_thread(notifier.deliver, address, [Text("相談シートが差し戻されました。")])

    assert (await connector.replies(2))[-1].text == "相談シートが差し戻されました。"
