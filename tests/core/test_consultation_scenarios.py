"""Guided consultations through ``Assistant.handle``, read like conversations.

Real SQLite, the real flows, the real knowledge base (for questions asked mid-flow).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlmodel import select

import storage
from bot.core.messages import CitationList, SheetSummary
from bot.wiring import Services
from tests.core.conversation import Conversation


@pytest.fixture
def services(make_services: Callable[..., Services]) -> Services:
    return make_services()


@pytest.fixture
def talk(services: Services) -> Conversation:
    return Conversation(services.assistant)


def only_sheet(services: Services) -> storage.ConsultationSheet:
    with services.database.session() as session:
        sheets = storage.list_sheets(session=session)
    assert len(sheets) == 1
    return sheets[0]


def answer_up_to_cost(talk: Conversation) -> None:
    talk.say("相談を始める")
    assert "所属課" in talk.text
    talk.say("市民課")
    assert "所属課を「市民課」として登録しました" in talk.text
    assert "Q1. ICT の活用を検討している業務" in talk.text
    talk.say("住民票の窓口交付")
    talk.say("窓口の待ち時間が長い")
    assert "アナログの改革" in talk.text
    talk.click("はい")
    talk.say("AIチャットボットと電子申請")
    assert "イニシャルコスト" in talk.text


def answer_up_to_confirm(talk: Conversation) -> None:
    """450万円, no running cost, then the six yes/no steps: the confirm step."""
    answer_up_to_cost(talk)
    talk.say("450万円")
    talk.say("なし")
    for label in ("いいえ", "いいえ", "はい", "はい", "いいえ", "いいえ"):
        talk.click(label)


def test_whole_consultation_by_buttons_ends_in_a_submitted_sheet(
    talk: Conversation, services: Services
) -> None:
    answer_up_to_cost(talk)
    talk.say("450万円くらい")
    talk.say("年間50万円")
    assert "国の法令等・県の条例等" in talk.text
    talk.click("いいえ")  # mandated_by_law
    assert "基幹系情報システム" in talk.text
    talk.click("いいえ")  # existing_system_change
    talk.click("いいえ")  # ict_track_record
    talk.click("はい")  # info_sufficient
    talk.click("いいえ")  # has_concerns
    assert "個人情報" in talk.text
    talk.click("はい")  # personal_information

    assert "相談シートの内容と判断結果を確認してください" in talk.text
    summary = next(p for p in talk.last if isinstance(p, SheetSummary))
    assert ("イニシャルコスト（設計額）", "4,500,000円（450万円）") in summary.rows
    assert "DX推進本部会議で ICT 活用に関する協議が必要です" in talk.text
    # Every decision cites its clause: document title + section path.
    citations = [c for p in talk.last if isinstance(p, CitationList) for c in p.citations]
    assert any(
        c.title == "木更津市 ICT活用ガイドライン（案）"
        and c.section == "【Ⅰ. 検討】 > 3. ICT 活用に関する協議"
        for c in citations
    )

    talk.click("この内容で確定する")
    assert "CIO補佐に提出しました" in talk.text
    sheet = only_sheet(services)
    assert sheet.status == storage.SheetStatus.SUBMITTED
    assert sheet.reference in talk.text
    assert sheet.department == "市民課"
    assert sheet.requester_name == "山田 花子"
    assert sheet.business == "住民票の窓口交付"
    assert sheet.initial_cost == 4_500_000 and sheet.slots["running_cost"] == 500_000
    assert sheet.outcomes["dx_council_required"] is True
    assert sheet.outcomes["rfi_recommended"] is True
    [section] = sheet.sections
    decision = next(d for d in section["decisions"] if d["name"] == "dx_council_required")
    assert decision["cites"][0]["section"] == "【Ⅰ. 検討】 > 3. ICT 活用に関する協議"
    assert (decision["label"], decision["value_label"]) == ("DX推進本部会議での協議", "必要")
    answers = {a["label"]: a["text"] for a in section["answers"]}
    assert answers["ランニングコスト（年額）"] == "500,000円（50万円）"
    assert answers["個人情報の取扱い"] == "はい"
    with services.database.session() as session:
        flagged = storage.list_sheets(session=session, outcome=("dx_council_required", True))
        unflagged = storage.list_sheets(session=session, outcome=("dx_council_required", False))
    assert [s.id for s in flagged] == [sheet.id] and unflagged == []


def test_question_mid_flow_is_answered_then_the_pending_step_is_asked_again(
    talk: Conversation, services: Services
) -> None:
    answer_up_to_cost(talk)
    talk.say("RFIとは何ですか？")
    text = talk.text
    assert "RFI" in text
    assert "出典:" in text  # the answer cites the guidelines
    assert text.rindex("イニシャルコスト") > text.index("相談の続きです")
    # The question did not count as an answer: a valid amount still moves on.
    talk.say("300万円")
    assert "ランニングコスト" in talk.text
    sheet = only_sheet(services)
    assert sheet.questions == [{"text": "RFIとは何ですか？", "answered": True}]


def test_unreadable_amount_is_asked_again_with_an_example(talk: Conversation) -> None:
    answer_up_to_cost(talk)
    talk.say("たくさん")
    assert "⚠️" in talk.text
    assert "450万円" in talk.text  # the example of what to type
    assert "イニシャルコスト" in talk.text


def test_back_reasks_the_previous_question_with_its_answer(talk: Conversation) -> None:
    answer_up_to_cost(talk)
    talk.say("戻る")
    assert "どのような ICT の活用を想定していますか" in talk.text
    assert "AIチャットボットと電子申請" in talk.text  # 前回の回答
    talk.say("RPA")
    assert "イニシャルコスト" in talk.text


def test_resume_after_restart_in_another_conversation(
    make_services: Callable[..., Services], services: Services
) -> None:
    first = Conversation(services.assistant, conversation="thread-monday")
    answer_up_to_cost(first)
    services.database.dispose()

    # A new process on the same database: nothing lived in memory.
    restarted = make_services()
    later = Conversation(restarted.assistant, conversation="thread-thursday")
    later.say("続きから")
    assert "前回の続きから再開します" in later.text
    assert "イニシャルコスト" in later.text
    later.say("250万円")
    assert "ランニングコスト" in later.text


def test_the_same_delivery_twice_is_applied_once(talk: Conversation, services: Services) -> None:
    answer_up_to_cost(talk)
    delivery = talk.inbound(text="450万円")
    first = talk.send(delivery)
    again = talk.send(delivery)
    assert first and again == []
    with services.database.session() as session:
        flow_session = session.exec(select(storage.FlowSession)).one()
    assert flow_session.state["flow"]["current"] == "running_cost"


def test_old_button_from_a_cancelled_consultation_is_refused(talk: Conversation) -> None:
    answer_up_to_cost(talk)
    talk.say("450万円")
    talk.say("0円")
    old_no = talk.button("いいえ")
    talk.say("やめる")
    assert "相談をやめました" in talk.text
    talk.send(talk.inbound(action=old_no))
    assert "すでに終了" in talk.text


def test_confirm_form_edit_changes_the_outcome_before_submitting(
    talk: Conversation, services: Services
) -> None:
    answer_up_to_confirm(talk)
    assert "協議が必要です" in talk.text

    talk.submit_form(initial_cost="280万円")
    # The edit flips the decision: shown, not submitted, and asked again (issue 11).
    assert "判断結果が変わったため、まだ提出していません" in talk.text
    assert "DX推進本部会議での協議は原則として不要です" in talk.text
    assert "CIO補佐に提出しました" not in talk.text
    assert only_sheet(services).status == storage.SheetStatus.DRAFT
    talk.click("この内容で確定する")
    assert "CIO補佐に提出しました" in talk.text
    sheet = only_sheet(services)
    assert sheet.initial_cost == 2_800_000
    assert sheet.outcomes["dx_council_required"] is False
    assert sheet.status == storage.SheetStatus.SUBMITTED


def test_business_from_a_message_shortcut_skips_the_first_question(
    talk: Conversation, services: Services
) -> None:
    with services.database.session() as session:
        storage.upsert_user_profile(
            session=session, channel="terminal", tenant=talk.tenant, user_id=talk.user_id,
            department="子育て支援課",
        )
    talk.send(talk.inbound(action=talk_action("flow.start", "ict_adoption"),
                           text="保育所入所申請の受付"))
    assert "Q2." in talk.text
    assert only_sheet(services).business == "保育所入所申請の受付"


def talk_action(kind: str, value: str) -> object:
    from bot.core.messages import Action

    return Action(kind, value)


def test_another_member_of_the_thread_cannot_drive_the_consultation(
    talk: Conversation, services: Services
) -> None:
    answer_up_to_cost(talk)
    pending_cancel = talk.button("相談をやめる")
    colleague = Conversation(
        services.assistant, conversation=talk.conversation, user_id="U-sato", user_name="佐藤"
    )
    colleague.send(colleague.inbound(action=pending_cancel))
    assert "別の方の相談が進行中" in colleague.text
    colleague.say("やめる")
    assert "別の方の相談が進行中" in colleague.text
    # A colleague's typed amount is not an answer to someone else's question.
    colleague.say("100万円")
    with services.database.session() as session:
        flow_session = session.exec(select(storage.FlowSession)).one()
    assert flow_session.status == storage.FlowStatus.ACTIVE
    assert flow_session.state["flow"]["current"] == "initial_cost"
    talk.say("450万円")
    assert "ランニングコスト" in talk.text


def test_department_answer_must_be_a_department(talk: Conversation, services: Services) -> None:
    talk.say("相談を始める")
    for not_a_department in ("戻る", "はい", "どうすればいいですか？"):
        talk.say(not_a_department)
        assert "⚠️" in talk.text and "所属課" in talk.text
    talk.say("情報政策課")
    assert "「情報政策課」として登録しました" in talk.text
    with services.database.session() as session:
        audits = storage.list_audit(session=session, action="user.set_department")
    assert len(audits) == 1


def test_a_typed_answer_that_mentions_how_is_still_an_answer(talk: Conversation) -> None:
    talk.say("相談を始める")
    talk.say("市民課")
    talk.say("窓口業務")
    talk.say("窓口が混雑していて、どうすればいいか困っている")
    assert "アナログの改革" in talk.text  # the flow moved on to Q3


def test_confirm_form_with_an_unreadable_amount_keeps_the_other_edits(
    talk: Conversation, services: Services
) -> None:
    answer_up_to_confirm(talk)
    talk.submit_form(business="住民票のコンビニ交付", initial_cost="たぶん高い")
    assert "⚠️" in talk.text
    assert any(p for p in talk.last if type(p).__name__ == "Form")  # the form comes back
    sheet = only_sheet(services)
    assert sheet.status == storage.SheetStatus.DRAFT
    assert sheet.business == "住民票のコンビニ交付"
    assert sheet.initial_cost == 4_500_000


def test_has_active_flow_tells_whose_consultation_runs_in_a_thread(
    talk: Conversation, services: Services
) -> None:
    where = {"channel": "terminal", "tenant": talk.tenant, "conversation": talk.conversation}
    assert not services.assistant.has_active_flow(**where)
    talk.say("相談を始める")
    assert services.assistant.has_active_flow(**where)
    assert services.assistant.has_active_flow(**where, user_id=talk.user_id)
    assert not services.assistant.has_active_flow(**where, user_id="U-bystander")


@pytest.mark.usefixtures("pinned_clock")
def test_an_answer_typed_outside_the_consultation_thread_points_back_to_it(
    talk: Conversation, services: Services
) -> None:
    answer_up_to_cost(talk)
    top_level = Conversation(services.assistant, conversation="dm-top-level")
    top_level.say("450万円")
    assert "進行中の相談" in top_level.text and "2026-0001" in top_level.text
    with services.database.session() as session:
        questions = session.exec(
            select(storage.Message).where(storage.Message.question == True)  # noqa: E712
        ).all()
    assert questions == []  # not counted as an unanswered guideline question
    top_level.click("ここで続ける")
    assert "イニシャルコスト" in top_level.text
    top_level.say("450万円")
    assert "ランニングコスト" in top_level.text


def test_a_hedge_is_reasked_with_help_and_a_question_without_a_mark_is_answered(
    talk: Conversation, services: Services
) -> None:
    talk.say("相談を始める")
    talk.say("市民課")
    talk.say("住民票の窓口交付")
    talk.say("窓口の待ち時間が長い")
    assert "アナログの改革" in talk.text  # the yes/no step
    talk.say("まだちゃんとは")
    assert "今の時点でより近いほう" in talk.text
    assert "相談の続きです" not in talk.text  # not taken for a guideline question
    assert "アナログの改革" in talk.text  # the same step, with its help
    talk.click("いいえ")
    talk.say("特にない")
    talk.say("電子申請")
    assert "イニシャルコスト" in talk.text
    talk.say("検討中")
    assert "今の時点の見込み額（概算）" in talk.text
    talk.say("相場はどれくらい")  # a question at the amount step, without 「？」
    assert "相談の続きです" in talk.text
    assert "金額として読み取れません" not in talk.text
    talk.say("450万円")
    assert "ランニングコスト" in talk.text
    sheet = only_sheet(services)
    assert [q["text"] for q in sheet.questions] == ["相場はどれくらい"]


def test_picking_one_field_at_the_confirm_step_gives_a_form_of_that_field_only(
    talk: Conversation, services: Services
) -> None:
    from bot.core.messages import Action, Form

    answer_up_to_confirm(talk)
    [chooser] = [p for p in talk.last if isinstance(p, Form)]
    assert chooser.pick is not None and len(chooser.fields) > 5

    [form] = talk.send(talk.inbound(action=chooser.picked("initial_cost")))
    assert isinstance(form, Form) and form.pick is None
    assert [(f.name, f.value) for f in form.fields] == [("initial_cost", "4,500,000円（450万円）")]
    assert form.submit == chooser.submit

    talk.say("ヘルプ")  # the chooser of an earlier view, or a field the flow does not have
    talk.send(talk.inbound(action=chooser.picked("no_such_field")))
    assert "修正する項目を選んでください" in talk.text
    stale = Action("flow.edit_field", "initial_cost", "another-session:confirm")
    talk.send(talk.inbound(action=stale))
    assert "相談シートの内容と判断結果を確認してください" in talk.text or "⚠️" in talk.text

    talk.send(talk.inbound(action=form.submit, form={"initial_cost": "280万円"}))
    assert "判断結果が変わったため、まだ提出していません" in talk.text
    assert only_sheet(services).status == storage.SheetStatus.DRAFT
