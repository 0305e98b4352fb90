"""The RFI flow after an ICT-adoption consultation, and its draft 情報提供依頼書."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from docx import Document
from typer.testing import CliRunner

import storage
from bot.cli.main import app
from bot.wiring import Services
from tests.core.conversation import Conversation


@pytest.fixture
def services(make_services: Callable[..., Services]) -> Services:
    return make_services()


def submit_consultation_recommending_rfi(talk: Conversation) -> None:
    talk.say("相談を始める")
    talk.say("子育て支援課")
    talk.say("保育所入所申請の受付・審査")
    talk.say("書類の確認に時間がかかる")
    talk.click("はい")
    talk.say("電子申請とAI-OCR")
    talk.say("200万円")
    talk.say("年30万円")
    talk.click("いいえ")  # ict_track_record -> RFI recommended
    talk.click("いいえ")  # info_sufficient
    talk.click("いいえ")  # has_concerns
    talk.click("はい")  # personal information
    talk.click("この内容で確定する")
    assert "CIO補佐に提出しました" in talk.text


def test_rfi_flow_continues_the_sheet_and_drafts_the_request(services: Services) -> None:
    talk = Conversation(services.assistant)
    submit_consultation_recommending_rfi(talk)
    talk.click("RFI で確認する事項を整理する")
    # The business comes from the consultation: the first question is the purpose.
    assert "RFI で事業者から情報を集める目的" in talk.text
    talk.say("製品と費用の目安を把握するため")
    for answer in ("クラウド利用料を月額で", "審査の自動化の方法", "サポート体制",
                   "庁内の準備事項", "個人情報の扱い"):
        talk.say(answer)
    talk.say("3社")
    talk.say("2027年1月末")
    talk.say("子育て支援課 内線1234")
    talk.click("この内容で確定する")
    text = talk.text
    assert "情報提供依頼書（案）を作成しました" in text
    assert "保育所入所申請の受付・審査" in text
    for item in ("見積書", "提案のコンセプト及び実施方法", "業務実施体制", "事前準備", "留意が必要となる事項"):
        assert item in text

    with services.database.session() as session:
        rfi_sheet = next(s for s in storage.list_sheets(session=session) if s.flow_id == "rfi")
    assert rfi_sheet.business == "保育所入所申請の受付・審査"
    assert rfi_sheet.status == storage.SheetStatus.SUBMITTED


def test_flow_run_prints_outcomes_and_saves_a_draft_sheet(
    tmp_path: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"  # type: ignore[operator]
    monkeypatch.setenv("SOUDAN_DATA_DIR", str(data))
    answers = tmp_path / "answers.yaml"  # type: ignore[operator]
    answers.write_text(
        "business: 住民票の窓口交付\ncurrent_problem: 待ち時間\nreview_considered: はい\n"
        "envisaged_ict: 電子申請\ninitial_cost: 450万円くらい\nrunning_cost: 年50万円\n"
        "mandated_by_law: いいえ\nexisting_system_change: いいえ\nict_track_record: ある\n"
        "info_sufficient: はい\nhas_concerns: 特にない\npersonal_information: はい\n"
        "unused_slot: 無視される\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["flow", "run", "ict_adoption", "--answers", str(answers),
                                      "--json"])
    assert result.exit_code == 0, result.output
    import json

    payload = json.loads(result.output)
    assert payload["flow"] == "ict_adoption"
    assert payload["slots"]["initial_cost"] == 4_500_000
    assert payload["outcomes"]["dx_council_required"] is True
    assert payload["outcomes"]["rfi_recommended"] is False
    assert "unused_slot" not in payload["slots"]
    assert any(c["section"] == "【Ⅰ. 検討】 > 3. ICT 活用に関する協議" for c in payload["citations"])
    db = storage.Database(f"sqlite:///{data}/soudan.db")
    with db.session() as session:
        sheet = storage.get_sheet(session=session, sheet_id=payload["sheet_id"])
    assert sheet is not None and sheet.initial_cost == 4_500_000


def test_flow_run_names_the_slot_it_cannot_read(
    tmp_path: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOUDAN_DATA_DIR", str(tmp_path / "data"))  # type: ignore[operator]
    answers = tmp_path / "answers.json"  # type: ignore[operator]
    answers.write_text('{"business": "窓口", "current_problem": "遅い", '
                       '"review_considered": "はい", "envisaged_ict": "RPA", '
                       '"initial_cost": "たくさん"}', encoding="utf-8")
    result = CliRunner().invoke(app, ["flow", "run", "ict_adoption", "--answers", str(answers)])
    assert result.exit_code == 2
    assert "initial_cost" in result.output and "たくさん" in result.output


def test_rfi_request_as_word_document(
    services: Services, tmp_path: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    talk = Conversation(services.assistant)
    submit_consultation_recommending_rfi(talk)
    talk.click("RFI で確認する事項を整理する")
    for answer in ("費用の目安を把握するため", "見積の内訳", "実施方法", "体制", "準備", "留意点",
                   "2社", "2027年2月", "内線1"):
        talk.say(answer)
    talk.click("この内容で確定する")
    with services.database.session() as session:
        rfi_sheet = next(s for s in storage.list_sheets(session=session) if s.flow_id == "rfi")

    monkeypatch.setenv("SOUDAN_DATA_DIR", str(services.settings.data_dir))
    out = tmp_path / "rfi.docx"  # type: ignore[operator]
    result = CliRunner().invoke(app, ["flow", "document", rfi_sheet.reference, "--out", str(out)])
    assert result.exit_code == 0, result.output
    paragraphs = "\n".join(p.text for p in Document(str(out)).paragraphs)
    assert "情報提供依頼書" in paragraphs
    assert "保育所入所申請の受付・審査" in paragraphs
    assert "見積の内訳" in paragraphs
