"""The RFI flow after an ICT-adoption consultation, and its draft 情報提供依頼書."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import pytest
from docx import Document
from openpyxl import load_workbook
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


RFI_ANSWERS = {
    "RFI の目的": "製品と費用の目安を把握するため",
    "1. 見積書": "クラウド利用料を月額で",
    "2. 提案のコンセプト及び実施方法など": "審査の自動化の方法",
    "3. 業務実施体制": "サポート体制",
    "4. 事前準備など": "庁内の準備事項",
    "5. 留意が必要となる事項": "個人情報の扱い",
    "依頼する事業者数": "3",
    "回答期限": "2027年1月31日",
    "問い合わせ先": "子育て支援課 内線1234",
}


def answer_rfi(talk: Conversation) -> None:
    talk.click("RFI で確認する事項を整理する")
    # The business comes from the consultation: the first question is the purpose.
    assert "RFI で事業者から情報を集める目的" in talk.text
    assert "相談シート" in talk.text and "の続きとして" in talk.text
    talk.say("製品と費用の目安を把握するため")
    for answer in ("クラウド利用料を月額で", "審査の自動化の方法", "サポート体制",
                   "庁内の準備事項", "個人情報の扱い"):
        talk.say(answer)
    talk.say("3社")
    talk.say("2027年1月末")
    talk.say("子育て支援課 内線1234")
    talk.click("この内容で確定する")


def test_rfi_flow_continues_the_sheet_and_drafts_the_request(services: Services) -> None:
    talk = Conversation(services.assistant)
    submit_consultation_recommending_rfi(talk)
    answer_rfi(talk)
    text = talk.text
    assert "情報提供依頼書（案）を作成しました" in text
    assert "保育所入所申請の受付・審査" in text
    for item in ("見積書", "提案のコンセプト及び実施方法", "業務実施体制", "事前準備", "留意が必要となる事項"):
        assert item in text

    # One project, one sheet: the RFI answers are a second section of the same sheet.
    with services.database.session() as session:
        [sheet] = storage.list_sheets(session=session)
    assert [s["flow"] for s in sheet.sections] == ["ict_adoption", "rfi"]
    assert sheet.business == "保育所入所申請の受付・審査"
    assert sheet.status == storage.SheetStatus.SUBMITTED
    assert "に「RFI（情報提供招請）で事業者に確認したい事項」の内容を追記しました" in text


def test_rfi_answers_reach_the_reviewer_in_review_show_xlsx_and_csv(
    services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    talk = Conversation(services.assistant)
    submit_consultation_recommending_rfi(talk)
    answer_rfi(talk)
    with services.database.session() as session:
        storage.upsert_user_profile(
            session=session, channel="terminal", tenant=talk.tenant, user_id="U-cio",
            display_name="補佐 一郎", role=storage.UserRole.REVIEWER,
        )
        [sheet] = storage.list_sheets(session=session)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOUDAN_DATABASE_URL", services.settings.effective_database_url)
    reviewer = f"terminal:{talk.tenant}:U-cio"

    shown = CliRunner().invoke(app, ["review", "show", sheet.reference, "--as", reviewer])
    assert shown.exit_code == 0, shown.output
    for label, answer in RFI_ANSWERS.items():
        assert f"{label}: {answer}" in shown.output, label
    assert "現状の課題: 書類の確認に時間がかかる" in shown.output
    assert "情報提供招請（RFI）: 推奨" in shown.output
    for internal in ("ict_adoption", "rfi_recommended", "kisarazu-ict-guideline.md", "未判定"):
        assert internal not in shown.output

    for fmt in ("xlsx", "csv"):
        out = tmp_path / f"sheets.{fmt}"
        done = CliRunner().invoke(
            app, ["review", "export", "--as", reviewer, "--format", fmt, "--out", str(out)]
        )
        assert done.exit_code == 0, done.output
        if fmt == "xlsx":
            rows = [
                ["" if v is None else str(v) for v in row]
                for row in load_workbook(out).active.iter_rows(values_only=True)
            ]
        else:
            rows = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig"))))
        record = dict(zip(rows[0], rows[1], strict=True))
        for label, answer in RFI_ANSWERS.items():
            assert record[label] == answer, (fmt, label)
        assert record["情報提供招請（RFI）"] == "推奨"
        assert record["相談の種類"] == (
            "ICT 活用の検討（DX推進本部協議・RFI の要否）、RFI（情報提供招請）で事業者に確認したい事項"
        )


def test_flow_run_is_a_dry_run_unless_saved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv("SOUDAN_DATA_DIR", str(data))
    answers = tmp_path / "answers.yaml"
    answers.write_text("rfi_business: 窓口\nrfi_purpose: 費用の把握\nask_estimate: 特にない\n"
                       "ask_concept: 特にない\nask_structure: 特にない\nask_preparation: 特にない\n"
                       "ask_cautions: 特にない\nvendor_count: 2\nanswer_deadline: 2027年1月\n"
                       "contact: 内線1\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["flow", "run", "rfi", "--answers", str(answers)])
    assert result.exit_code == 0, result.output
    assert "相談シートは作成していません" in result.output
    db = storage.Database(f"sqlite:///{data}/soudan.db")
    db.upgrade()
    with db.session() as session:
        assert storage.list_sheets(session=session) == []
    db.dispose()


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
                                      "--json", "--save"])
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
        [rfi_sheet] = storage.list_sheets(session=session)
        storage.upsert_user_profile(
            session=session, channel="terminal", tenant=talk.tenant, user_id="U-cio",
            role=storage.UserRole.REVIEWER,
        )

    monkeypatch.setenv("SOUDAN_DATA_DIR", str(services.settings.data_dir))
    out = tmp_path / "rfi.docx"  # type: ignore[operator]
    result = CliRunner().invoke(app, ["flow", "document", rfi_sheet.reference, "--out", str(out),
                                      "--as", f"terminal:{talk.tenant}:U-cio"])
    assert result.exit_code == 0, result.output
    paragraphs = "\n".join(p.text for p in Document(str(out)).paragraphs)
    assert "情報提供依頼書" in paragraphs
    assert "保育所入所申請の受付・審査" in paragraphs
    assert "見積の内訳" in paragraphs
