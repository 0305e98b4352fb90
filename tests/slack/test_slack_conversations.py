"""Conversations in Slack with the real core: signed requests in, the mock Web API out.

The core is the real ``Assistant`` from ``build_services`` over its own SQLite file and
the real knowledge base (bundled e5 model, Kisarazu guideline).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.settings import Settings
from bot.slack.action_values import decode_action
from bot.wiring import Services
from storage import (
    FeedbackValue,
    SheetStatus,
    count_feedback,
    get_feedback,
    list_messages,
    list_sheets,
    upsert_user_profile,
)
from tests.slack.harness import SlackHarness, SlackUser, StartApp, shown_messages, slack_settings
from tests.slack.mock_web_api import TEAM_ID, MockSlackApi
from tests.slack.slack_requests import (
    channel_message,
    dm,
    event_envelope,
    home_opened,
    message_shortcut,
    slash_command,
)

pytestmark = pytest.mark.slow

BuildServices = Callable[[Settings], Services]
GUIDELINE_TITLE = "木更津市 ICT活用ガイドライン（案）"


@pytest.fixture
def services(tmp_path: Path, mock_api: MockSlackApi,
             build_real_services: BuildServices) -> Services:
    return build_real_services(slack_settings(tmp_path, mock_api))


@pytest.fixture
async def slack(start_app: StartApp, services: Services) -> SlackHarness:
    return await start_app(services.settings, services)


@pytest.fixture
def staff(slack: SlackHarness, mock_api: MockSlackApi) -> SlackUser:
    return SlackUser(slack, mock_api)


def _answer_id(message_blocks: list[dict[str, object]]) -> str:
    for block in message_blocks:
        for element in block.get("elements", []):  # type: ignore[attr-defined]
            if '"k":"feedback"' in element.get("value", ""):
                ref = decode_action(element["value"]).ref
                assert ref is not None
                return ref
    raise AssertionError("no feedback buttons")


async def test_dm_question_gets_a_threaded_answer_with_citations_and_feedback_is_stored(
    staff: SlackUser, services: Services
) -> None:
    [answer] = await staff.say("RFI とは何ですか？")

    assert (answer.channel, answer.thread_ts) == ("D100", staff.root)
    assert "新たに ICT 活用を検討する業務" in answer.body()
    assert f"[1] {GUIDELINE_TITLE} &gt; 【Ⅱ. 予算】" in answer.body()
    assert answer.button_labels() == ["👍 役に立った", "👎 役に立たなかった"]
    answer_id = _answer_id(answer.blocks)

    [thanks] = await staff.click("👎 役に立たなかった")
    await staff.click("👍 役に立った")  # the latest click wins

    assert "フィードバックありがとうございます" in thanks.text
    with services.database.session() as session:
        feedback = get_feedback(session=session, answer_id=answer_id, user_id="U100")
        counts = count_feedback(session=session, answer_id=answer_id)
    assert feedback is not None and feedback.value == FeedbackValue.UP
    assert counts == {FeedbackValue.UP: 1, FeedbackValue.DOWN: 0}


async def test_a_whole_consultation_through_buttons_typed_answers_and_the_modal(
    staff: SlackUser, mock_api: MockSlackApi, services: Services
) -> None:
    [first] = await staff.say("相談を始める")
    assert "の相談を始めます" in first.body()
    # The mock's Slack profile title says 情報政策課; the core asks all the same.
    assert "所属課" in first.body() and "Q1." not in first.body()
    [registered] = await staff.say("市民課")
    assert "Q1." in registered.body()

    await staff.say("窓口予約")
    await staff.say("電話での予約受付に時間がかかる")
    [q4] = await staff.click("はい")
    assert "Q4." in q4.body()
    await staff.say("オンライン予約システム")

    # A question in the middle of the flow: answered, then the pending step again.
    [aside] = await staff.say("RFI とは何ですか？")
    assert "新たに ICT 活用を検討する業務" in aside.body()
    assert "相談の続きです" in aside.body()
    assert "Q5." in aside.body()

    await staff.say("500万円")
    await staff.say("年間60万円")
    for _ in ("mandated_by_law", "existing_system_change", "ict_track_record",
              "info_sufficient", "has_concerns"):
        await staff.click("いいえ")
    opened_before = len(mock_api.of("views.open"))
    [confirm] = await staff.click("はい")  # personal information: the last question

    assert "相談シートの内容と判断結果を確認してください" in confirm.body()
    assert "DX推進本部会議" in confirm.body()
    # Confirm means confirm: the fields are offered one by one, no modal opens by itself.
    assert mock_api.of("views.open")[opened_before:] == []
    assert "対象業務: 窓口予約" in confirm.select_options()
    await staff.pick("対象業務")
    [opened] = mock_api.of("views.open")[opened_before:]
    view = opened.args["view"]
    assert view["callback_id"] == "soudan.form"
    fields = {b["block_id"]: b["element"].get("initial_value") for b in view["blocks"]}
    assert fields == {"business": "窓口予約"}

    [submitted] = await staff.submit(view, {"business": "窓口予約（オンライン化）"})

    assert "CIO補佐に提出しました" in submitted.body()
    assert submitted.thread_ts == staff.root
    with services.database.session() as session:
        [sheet] = list_sheets(session=session, tenant=TEAM_ID, requester_id="U100")
    assert sheet.status == SheetStatus.SUBMITTED
    assert (sheet.business, sheet.department) == ("窓口予約（オンライン化）", "市民課")
    assert sheet.requester_name == "職員U100"
    assert sheet.reference in submitted.body()


async def test_app_home_lists_the_users_own_sheets(
    staff: SlackUser, mock_api: MockSlackApi, slack: SlackHarness
) -> None:
    await staff.say("相談を始める")
    await staff.say("窓口予約")

    status, _ = await slack.sender.event(event_envelope(home_opened("U100")))
    await slack.app.drain()
    status_other, _ = await slack.sender.event(event_envelope(home_opened("U999")))
    await slack.app.drain()

    assert (status, status_other) == (200, 200)
    mine, other = mock_api.of("views.publish")
    assert mine.args["user_id"] == "U100"
    mine_text = json.dumps(mine.args["view"], ensure_ascii=False)
    assert "下書き" in mine_text and "窓口予約" in mine_text
    assert "窓口予約" not in json.dumps(other.args["view"], ensure_ascii=False)


async def test_slash_command_starts_a_consultation_in_a_new_thread(
    slack: SlackHarness, mock_api: MockSlackApi
) -> None:
    status, _ = await slack.sender.command(slash_command("相談", channel="C100"))
    await slack.app.drain()

    assert status == 200
    [root] = shown_messages(mock_api)
    assert (root.channel, root.thread_ts) == ("C100", None)
    assert "の相談を始めます" in root.body()


async def test_one_event_delivered_four_times_is_answered_once(
    slack: SlackHarness, mock_api: MockSlackApi, services: Services
) -> None:
    envelope = event_envelope(dm("RFI とは何ですか？"), event_id="Ev-four-times")

    for retry in (None, 1, 2, 3):
        status, _ = await slack.sender.event(envelope, retry_num=retry)
        assert status == 200
    await slack.app.drain()

    assert len(mock_api.posts()) == 1
    with services.database.session() as session:
        messages = list_messages(session=session, channel="slack", tenant=TEAM_ID,
                                 conversation=f"D100:{envelope['event']['ts']}")
    assert len(messages) == 2  # one question, one answer


async def test_two_processes_sharing_one_database_reply_once(
    start_app: StartApp, tmp_path: Path, mock_api: MockSlackApi,
    build_real_services: BuildServices,
) -> None:
    shared = tmp_path / "shared.db"
    apps = [
        await start_app(settings, build_real_services(settings))
        for settings in (
            slack_settings(tmp_path / name, mock_api, database_url=f"sqlite:///{shared}")
            for name in ("replica-a", "replica-b")
        )
    ]
    envelope = event_envelope(dm("RFI とは何ですか？"), event_id="Ev-two-processes")

    for harness, retry in zip(apps * 2, (None, 1, 2, 3), strict=True):
        status, _ = await harness.sender.event(envelope, retry_num=retry)
        assert status == 200
    for harness in apps:
        await harness.app.drain()

    assert len(mock_api.posts()) == 1


async def test_a_429_still_delivers_the_answer_once(
    staff: SlackUser, mock_api: MockSlackApi
) -> None:
    mock_api.fail_next("chat.postMessage", status=429, retry_after=1)

    [answer] = await staff.say("RFI とは何ですか？")

    assert [c.args["_status"] for c in mock_api.of("chat.postMessage")] == [429, 200]
    assert "新たに ICT 活用を検討する業務" in answer.body()


async def test_typed_last_answer_offers_the_field_chooser_whose_pick_opens_the_modal(
    staff: SlackUser, mock_api: MockSlackApi
) -> None:
    await staff.say("相談を始める")
    for typed in ("市民課", "窓口予約", "電話対応に時間がかかる", "はい", "オンライン予約", "100万円", "なし",
                  "いいえ", "いいえ", "いいえ"):
        await staff.say(typed)
    [confirm] = await staff.say("いいえ")  # typed: Slack gives no trigger for a modal

    assert mock_api.of("views.open") == []
    assert "相談シートの内容と判断結果を確認してください" in confirm.body()
    assert "イニシャルコスト（設計額）: 1,000,000円（100万円）" in confirm.select_options()

    await staff.pick("イニシャルコスト")  # a pick brings a trigger: the modal opens

    [opened] = mock_api.of("views.open")
    assert opened.args["view"]["callback_id"] == "soudan.form"
    assert [b["block_id"] for b in opened.args["view"]["blocks"]] == ["initial_cost"]


async def test_questions_from_several_users_at_once_are_all_answered(
    slack: SlackHarness, mock_api: MockSlackApi
) -> None:
    # Turns run in worker threads side by side: the core must be safe to call concurrently.
    events = [dm("RFI とは何ですか？", user=f"U{n}", channel=f"D{n}") for n in range(4)]

    statuses = await asyncio.gather(*(slack.sender.event(event_envelope(e)) for e in events))
    await slack.app.drain()

    assert [status for status, _ in statuses] == [200] * 4
    answers = {m.channel: m.body() for m in shown_messages(mock_api)}
    assert sorted(answers) == [f"D{n}" for n in range(4)]
    for body in answers.values():
        assert "新たに ICT 活用を検討する業務" in body, body


async def test_message_shortcut_starts_a_consultation_about_that_message(
    slack: SlackHarness, mock_api: MockSlackApi, services: Services
) -> None:
    with services.database.session() as session:  # assigned by an administrator
        upsert_user_profile(session=session, channel="slack", tenant=TEAM_ID, user_id="U100",
                            department="子育て支援課")
    status, _ = await slack.sender.interaction(
        message_shortcut("保育所入所申請の受付・審査", channel="C100", ts="1699990000.000100"))
    await slack.app.drain()

    assert status == 200
    [reply] = shown_messages(mock_api)
    assert (reply.channel, reply.thread_ts) == ("C100", "1699990000.000100")
    assert "の相談を始めます" in reply.body()
    assert "Q2." in reply.body()  # the message was taken as the business (Q1)
    with services.database.session() as session:
        [sheet] = list_sheets(session=session, tenant=TEAM_ID, requester_id="U100")
    assert sheet.business == "保育所入所申請の受付・審査"
    assert sheet.department == "子育て支援課"  # not the 情報政策課 of the Slack title


async def test_a_consultation_started_in_a_channel_thread_takes_typed_answers_there(
    slack: SlackHarness, mock_api: MockSlackApi, services: Services
) -> None:
    staff = SlackUser(slack, mock_api, channel="C100")

    [first] = await staff.say("相談を始める")  # @soudan 相談を始める
    assert (first.channel, first.thread_ts) == ("C100", staff.root)
    assert "所属課" in first.body()
    [q1] = await staff.say("市民課")  # typed in the thread, no @soudan
    assert "Q1." in q1.body()
    [q2] = await staff.say("窓口予約")
    assert "Q2." in q2.body()

    # Not addressed to the app: a top-level message, and a thread without a consultation.
    chatter = [channel_message("窓口予約の件、了解です", channel="C100"),
               channel_message("RFI とは何ですか？", channel="C100",
                               thread_ts="1699990000.123456")]
    for event in chatter:
        status, _ = await slack.sender.event(event_envelope(event))
        assert status == 200
    await slack.app.drain()

    assert [m.thread_ts for m in shown_messages(mock_api)] == [staff.root] * 3
    with services.database.session() as session:
        [sheet] = list_sheets(session=session, tenant=TEAM_ID, requester_id="U100")
        kept = list_messages(session=session, channel="slack", tenant=TEAM_ID,
                             conversation="C100:1699990000.123456")
    assert (sheet.conversation, sheet.business, sheet.department) == (
        f"C100:{staff.root}", "窓口予約", "市民課")
    assert kept == []


async def test_one_field_edited_in_its_modal_flips_a_decision_and_is_confirmed_again(
    staff: SlackUser, mock_api: MockSlackApi, services: Services
) -> None:
    await staff.say("相談を始める")
    for typed in ("市民課", "窓口予約", "電話対応に時間がかかる", "はい", "オンライン予約",
                  "500万円", "なし", "いいえ", "いいえ", "いいえ", "いいえ", "いいえ"):
        await staff.say(typed)
    [confirm] = await staff.say("いいえ")
    assert "原則として DX推進本部会議で ICT 活用に関する協議が必要です" in confirm.body()
    assert "イニシャルコスト（設計額）: 5,000,000円（500万円）" in confirm.select_options()

    await staff.pick("イニシャルコスト")

    [opened] = mock_api.of("views.open")
    view = opened.args["view"]
    assert [(b["block_id"], b["element"].get("initial_value")) for b in view["blocks"]] == [
        ("initial_cost", "5,000,000円（500万円）")]
    reply = await staff.submit(view, {"initial_cost": "280万円"})

    shown = "\n".join(m.body() for m in reply)
    assert "判断結果が変わったため、まだ提出していません" in shown
    assert "DX推進本部会議での協議は原則として不要です" in shown
    assert "CIO補佐に提出しました" not in shown
    assert any("イニシャルコスト（設計額）: 2,800,000円（280万円）" in m.select_options()
               for m in reply)
    with services.database.session() as session:
        [sheet] = list_sheets(session=session, tenant=TEAM_ID, requester_id="U100")
    assert (sheet.status, sheet.initial_cost) == (SheetStatus.DRAFT, 2_800_000)

    done = await staff.click("この内容で確定する")

    assert "CIO補佐に提出しました" in "\n".join(m.body() for m in done)
    with services.database.session() as session:
        [sheet] = list_sheets(session=session, tenant=TEAM_ID, requester_id="U100")
    assert (sheet.status, sheet.initial_cost) == (SheetStatus.SUBMITTED, 2_800_000)
