"""The later-stage flows run in the chat core like the first ones (the real Assistant on a
real database, a fake knowledge side): buttons, re-asks in Japanese, decisions with their
clauses, the 所管課概要案 draft at the end."""

from __future__ import annotations

import pytest

import storage
from bot.core.assistant import Assistant
from bot.core.messages import Action
from bot.settings import Settings
from flows import load_flows
from storage import Database
from tests.core.conversation import Conversation
from tests.teams.fakes import GuidelineExcerpts


@pytest.fixture
def assistant(database: Database) -> Assistant:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    return Assistant(database=database, knowledge=GuidelineExcerpts(),
                     flows=load_flows(settings.flows_dir), titles={})


def start(talk: Conversation, flow_id: str) -> None:
    talk.send(talk.inbound(action=Action("flow.start", flow_id)))
    if "所属" in talk.text:  # first consultation of an unregistered user
        talk.say("子育て支援課")


def test_outline_in_chat_validates_and_drafts_the_outline(assistant: Assistant, database: Database) -> None:
    talk = Conversation(assistant)
    start(talk, "outline")
    assert "ICT を活用して行う業務の内容" in talk.text
    talk.say("保育所入所申請の受付を電子申請にする")
    talk.say("受付 年間1,200件")
    talk.say("そのうち")  # not a date: asked again with examples
    assert "時期として読み取れませんでした" in talk.text and "令和9年度" in talk.text
    talk.say("2027年7月")
    talk.say("令和10年度")
    talk.say("未定")  # a budget must be an amount
    assert talk.text.startswith("⚠️") and "ICT 活用に係る予算額" in talk.text
    talk.say("450万円")
    talk.say("ライセンス 月5万円×12か月、初期設定120万円")
    talk.click("はい")  # reference quotes
    talk.say("1社")
    talk.click("はい")  # basis shown
    talk.click("いいえ")  # not a proposal
    talk.click("いいえ")  # no personal information
    talk.say("特にない")
    confirm = talk.text
    assert "参考見積が 1 社分だけです" in confirm
    assert "【Ⅱ. 予算】" in confirm  # the note carries its clause
    talk.click("この内容で確定する")
    text = talk.text
    assert "所管課概要案（案）を作成しました" in text
    for heading in ("1. 想定している業務内容", "2. スケジュール", "3. 予算額（積算根拠）",
                    "4. その他（個人情報保護など）"):
        assert heading in text
    assert "ICT 活用の開始時期: 令和10年度" in text
    with database.session() as session:
        sheet = next(s for s in storage.list_sheets(session=session) if s.flow_id == "outline")
    assert sheet.status == storage.SheetStatus.SUBMITTED


def test_katsushika_flow_in_chat_decides_with_its_own_guideline(assistant: Assistant) -> None:
    talk = Conversation(assistant, tenant="T-katsushika")
    start(talk, "katsushika_operations")
    talk.say("電子申請サービス")
    talk.click("いいえ")
    talk.click("ASP・SaaS など外部サービスの利用")
    text = talk.text
    assert "葛飾区情報システムガイドライン【運用保守編】を適用します" in text
    assert "パターン C" in text
    assert "4 運用保守ガイドライン適用可否判断" in text


# --- flows offered per tenant (SOUDAN_TENANT_FLOWS) ---------------------------------------------


@pytest.fixture
def per_tenant(database: Database) -> Assistant:
    settings = Settings(_env_file=None,  # type: ignore[call-arg]
                        tenant_flows="T-katsushika=katsushika_operations;*=ict_adoption,outline")
    return Assistant(database=database, knowledge=GuidelineExcerpts(),
                     flows=load_flows(settings.flows_dir), titles={},
                     offered_flows=settings.flows_offered_to)


def test_a_tenant_offered_one_flow_starts_it(per_tenant: Assistant) -> None:
    talk = Conversation(per_tenant, tenant="T-katsushika")
    talk.say("相談を始める")
    if "所属" in talk.text:
        talk.say("情報政策課")
    assert "運用保守を調達するシステム" in talk.text


def test_a_tenant_offered_several_flows_chooses_among_them(per_tenant: Assistant) -> None:
    talk = Conversation(per_tenant, tenant="T-kisarazu")
    talk.say("相談を始める")
    assert "どの相談を始めますか" in talk.text
    assert talk.button("所管課概要案の作成") and talk.button("ICT 活用の検討（DX推進本部協議・RFI の要否）")
    with pytest.raises(AssertionError):
        talk.button("運用保守ガイドラインの適用可否（葛飾区）")
    talk.click("所管課概要案の作成")
    if "所属" in talk.text:
        talk.say("子育て支援課")
    assert "ICT を活用して行う業務の内容" in talk.text


def test_a_flow_not_offered_to_the_tenant_is_refused(per_tenant: Assistant) -> None:
    talk = Conversation(per_tenant, tenant="T-katsushika")
    talk.send(talk.inbound(action=Action("flow.start", "ict_adoption")))
    assert "ご利用の組織では提供されていません" in talk.text
