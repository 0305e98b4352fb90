"""Conversations with the real core over the real endpoint, as a Teams user has them.

The core, the flows and the storage are real (``build_services`` over a tmp SQLite
data directory); only the knowledge side is reduced to two guideline passages.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlmodel import select

from bot.wiring import Services
from storage import ConsultationSheet, SheetStatus, get_feedback, get_sheet_by_reference
from tests.teams.activities import CHANNEL_THREAD, message
from tests.teams.connector import MockConnector
from tests.teams.fakes import GatedAssistant
from tests.teams.running_bot import StartBot
from tests.teams.teams_user import TeamsUser, shown_text

USER = "aad-object-hanako"


async def test_a_question_gets_a_cited_answer_and_feedback_is_stored(
    start_bot: StartBot, connector: MockConnector, services: Services
) -> None:
    hanako = TeamsUser(await start_bot(services=services), connector)

    shown = await hanako.says("RFI とは？")

    assert "RFI（情報提供招請）は" in shown
    assert (
        "[1] 木更津市 ICT活用ガイドライン（案） > 【Ⅱ. 予算】 > 1. 所管課概要案の作成 > "
        "（1）情報提供招請（RFI）を行う場合" in shown
    )
    assert "[2] 木更津市 ICT活用ガイドライン（案）" in shown
    [answer_card] = hanako.cards()
    answer_id = next(
        button["data"]["soudan"]["ref"]
        for row in answer_card["body"]
        if row["type"] == "ActionSet"
        for button in row["actions"]
    )

    await hanako.presses("👎 役に立たなかった")

    with services.database.session() as session:
        feedback = get_feedback(session=session, answer_id=answer_id, user_id=USER)
    assert feedback is not None
    assert feedback.value == "down"


@pytest.mark.usefixtures("pinned_clock")
async def test_a_whole_consultation_through_card_buttons_and_typed_answers(
    start_bot: StartBot, connector: MockConnector, services: Services
) -> None:
    hanako = TeamsUser(await start_bot(services=services), connector)

    started = await hanako.says("相談を始める")
    assert "相談シート 2026-0001" in started
    assert "所属課" in started
    assert "対象業務" in await hanako.says("市民課")
    assert "現状の課題" in await hanako.says("住民票の窓口交付")
    assert "業務の見直し" in await hanako.says("窓口の待ち時間が長い")
    assert "想定していますか" in await hanako.presses("はい")
    assert "イニシャルコスト" in await hanako.says("電子申請とRPA")
    assert "ランニングコスト" in await hanako.says("450万円くらい")
    assert "国の法令等" in await hanako.says("年間60万円")
    assert "基幹系情報システム" in await hanako.presses("いいえ")
    assert "実績はありますか" in await hanako.presses("いいえ")
    assert "基礎情報" in await hanako.presses("いいえ")
    assert "懸念事項" in await hanako.presses("いいえ")
    assert "懸念事項を具体的に" in await hanako.presses("はい")
    assert "個人情報" in await hanako.says("費用が妥当かわからない")

    confirm = await hanako.presses("はい")
    assert "相談シート 2026-0001" in confirm
    assert "イニシャルコスト（設計額）: 4,500,000円（450万円）" in confirm
    assert "DX推進本部会議" in confirm
    # Confirm means confirm: the user picks the one field to change, then edits only that.
    [chooser] = [
        c for c in hanako.cards() if any(e["type"] == "Input.ChoiceSet" for e in c["body"])
    ]
    [choices] = [e["choices"] for e in chooser["body"] if e["type"] == "Input.ChoiceSet"]
    assert {"title": "対象業務: 住民票の窓口交付", "value": "business"} in choices
    await hanako.presses("この項目を修正する", on=chooser, soudan_field="business")
    [form] = [c for c in hanako.cards() if any(e["type"] == "Input.Text" for e in c["body"])]
    assert [e["id"] for e in form["body"] if e["type"] == "Input.Text"] == ["business"]

    submit_label = next(
        a["title"] for row in form["body"] if row["type"] == "ActionSet" for a in row["actions"]
    )
    edited = {e["id"]: e["value"] for e in form["body"] if e["type"] == "Input.Text"} | {
        "business": "住民票の窓口交付（電子申請化）"
    }
    done = await hanako.presses(submit_label, on=form, **edited)

    assert "CIO補佐に提出しました" in done
    with services.database.session() as session:
        sheet = get_sheet_by_reference(session=session, reference="2026-0001")
    assert sheet is not None
    assert sheet.status == SheetStatus.SUBMITTED
    assert sheet.business == "住民票の窓口交付（電子申請化）"
    assert sheet.initial_cost == 4_500_000
    assert (sheet.channel, sheet.requester_id) == ("teams", USER)


async def test_a_question_in_the_middle_of_a_flow_is_answered_then_the_step_is_asked_again(
    start_bot: StartBot, connector: MockConnector, services: Services
) -> None:
    hanako = TeamsUser(await start_bot(services=services), connector)
    await hanako.says("相談を始める")
    await hanako.says("市民課")
    await hanako.says("住民票の窓口交付")
    asked = await hanako.says("窓口の待ち時間が長い")
    assert "業務の見直し" in asked

    shown = await hanako.says("RFI とは？")

    assert "RFI（情報提供招請）は" in shown
    assert "相談の続きです" in shown
    assert shown.rindex("業務の見直し") > shown.index("RFI（情報提供招請）は")
    assert "想定していますか" in await hanako.presses("はい")


@pytest.mark.usefixtures("pinned_clock")
async def test_a_consultation_in_a_channel_thread_stays_in_that_thread(
    start_bot: StartBot, connector: MockConnector, services: Services
) -> None:
    team = TeamsUser(
        await start_bot(services=services), connector, conversation=CHANNEL_THREAD, mention_bot=True
    )

    assert "相談シート 2026-0001" in await team.says("相談を始める")
    assert "対象業務" in await team.says("市民課")

    assert {call.conversation for call in connector.messages()} == {CHANNEL_THREAD}
    with services.database.session() as session:
        [sheet] = session.exec(select(ConsultationSheet)).all()
    assert (sheet.conversation, sheet.department) == (CHANNEL_THREAD, "市民課")


async def test_the_same_activity_delivered_twice_is_applied_and_answered_once(
    start_bot: StartBot, connector: MockConnector, services: Services
) -> None:
    running = await start_bot(services=services)
    activity = message(connector.service_url, "相談を始める")

    await running.turn(activity)
    answered_once = len(connector.messages())
    await running.turn(activity)  # the Bot Connector retries the same activity id

    assert answered_once >= 1
    assert len(connector.messages()) == answered_once
    with services.database.session() as session:
        assert len(session.exec(select(ConsultationSheet)).all()) == 1


async def test_a_slow_answer_from_the_real_core_arrives_after_the_http_response(
    start_bot: StartBot, connector: MockConnector, services: Services
) -> None:
    slow = GatedAssistant(services.assistant)
    running = await start_bot(slow, services=services)
    activity = message(connector.service_url, "RFI とは？")

    assert await running.post(activity) == 200
    assert await asyncio.to_thread(slow.entered.wait, 20)
    assert [call.type for call in connector.calls] == ["typing"]

    slow.open()
    [reply] = await connector.replies(1)
    assert reply.reply_to == activity["id"]
    assert "RFI（情報提供招請）は" in shown_text([reply])


@pytest.mark.usefixtures("pinned_clock")
async def test_one_field_edited_on_its_card_flips_a_decision_and_is_confirmed_again(
    start_bot: StartBot, connector: MockConnector, services: Services
) -> None:
    hanako = TeamsUser(await start_bot(services=services), connector)
    await hanako.says("相談を始める")
    for typed in (
        "市民課",
        "住民票の窓口交付",
        "窓口の待ち時間が長い",
        "はい",
        "電子申請とRPA",
        "500万円",
        "なし",
        "いいえ",
        "いいえ",
        "いいえ",
        "いいえ",
        "いいえ",
    ):
        await hanako.says(typed)
    confirm = await hanako.says("いいえ")
    assert "原則として DX推進本部会議で ICT 活用に関する協議が必要です" in confirm
    [chooser] = [
        c for c in hanako.cards() if any(e["type"] == "Input.ChoiceSet" for e in c["body"])
    ]

    await hanako.presses("この項目を修正する", on=chooser, soudan_field="initial_cost")
    [form] = hanako.cards()
    assert [(e["id"], e["value"]) for e in form["body"] if e["type"] == "Input.Text"] == [
        ("initial_cost", "5,000,000円（500万円）")
    ]
    again = await hanako.presses("修正して確定する", on=form, initial_cost="280万円")

    assert "判断結果が変わったため、まだ提出していません" in again
    assert "DX推進本部会議での協議は原則として不要です" in again
    assert "イニシャルコスト（設計額）: 2,800,000円（280万円）" in again
    assert "CIO補佐に提出しました" not in again
    with services.database.session() as session:
        sheet = get_sheet_by_reference(session=session, reference="2026-0001")
    assert sheet is not None
    assert (sheet.status, sheet.initial_cost) == (SheetStatus.DRAFT, 2_800_000)

    done = await hanako.presses("この内容で確定する")

    assert "CIO補佐に提出しました" in done
    with services.database.session() as session:
        sheet = get_sheet_by_reference(session=session, reference="2026-0001")
    assert sheet is not None
    assert (sheet.status, sheet.initial_cost) == (SheetStatus.SUBMITTED, 2_800_000)
