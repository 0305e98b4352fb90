"""所管課概要案 is offered on the same 相談シート after ict_adoption with RFI not needed, and
after the RFI flow (issue 14: the outline flow is the follow-up of both)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

import storage
from bot.wiring import Services
from tests.core.conversation import Conversation
from tests.core.test_rfi_and_documents import answer_rfi, submit_consultation_recommending_rfi

OUTLINE_LABEL = "所管課概要案を作成する"


@pytest.fixture
def services(make_services: Callable[..., Services]) -> Services:
    return make_services()


def submit_consultation_without_rfi(talk: Conversation) -> None:
    talk.say("相談を始める")
    talk.say("子育て支援課")
    talk.say("保育所入所申請の受付・審査")
    talk.say("書類の確認に時間がかかる")
    talk.click("はい")
    talk.say("電子申請とAI-OCR")
    talk.say("200万円")
    talk.say("年30万円")
    talk.click("はい")  # ict_track_record
    talk.click("はい")  # info_sufficient -> RFI not needed
    talk.click("いいえ")  # has_concerns
    talk.click("はい")  # personal information
    talk.click("この内容で確定する")
    assert "CIO補佐に提出しました" in talk.text


def finish_outline(talk: Conversation) -> None:
    talk.say("受付 年間1,200件")
    talk.say("2027年7月")
    talk.say("令和10年度")
    talk.say("450万円")
    talk.say("ライセンス 月5万円×12か月、初期設定120万円")
    talk.click("はい")
    talk.say("3社")
    talk.click("はい")
    talk.click("いいえ")
    talk.click("いいえ")
    talk.say("特にない")
    talk.click("この内容で確定する")


def test_without_rfi_the_outline_is_offered_and_continues_the_sheet(services: Services) -> None:
    talk = Conversation(services.assistant)
    submit_consultation_without_rfi(talk)
    assert OUTLINE_LABEL in talk.text
    assert "RFI で確認する事項を整理する" not in talk.text
    talk.click(OUTLINE_LABEL)
    assert "の続きとして「所管課概要案の作成」を始めます" in talk.text
    finish_outline(talk)
    assert "所管課概要案（案）を作成しました" in talk.text
    with services.database.session() as session:
        [sheet] = storage.list_sheets(session=session)
    assert [s["flow"] for s in sheet.sections] == ["ict_adoption", "outline"]


def test_with_rfi_recommended_the_rfi_comes_first_then_the_outline(services: Services) -> None:
    talk = Conversation(services.assistant)
    submit_consultation_recommending_rfi(talk)
    assert "RFI で確認する事項を整理する" in talk.text
    assert OUTLINE_LABEL not in talk.text  # RFI needed: the outline follows the RFI
    answer_rfi(talk)
    assert "情報提供依頼書（案）を作成しました" in talk.text
    assert OUTLINE_LABEL in talk.text and "新しい相談を始める" in talk.text
    talk.click(OUTLINE_LABEL)
    assert "の続きとして「所管課概要案の作成」を始めます" in talk.text
    finish_outline(talk)
    with services.database.session() as session:
        [sheet] = storage.list_sheets(session=session)
    assert [s["flow"] for s in sheet.sections] == ["ict_adoption", "rfi", "outline"]
