"""Exports opened and checked: Excel with openpyxl, CSV with its BOM, JSON parsed."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

import openpyxl
import pytest

from storage import (
    ConsultationSheet,
    Database,
    SheetStatus,
    create_sheet,
    list_sheets,
    transition_sheet,
)
from storage.export import (
    LEADING_HEADERS,
    TRAILING_HEADERS,
    export_sheets,
    sheets_to_csv,
    sheets_to_json,
    sheets_to_xlsx,
)
from storage.spreadsheet import Table, write_xlsx
from tests.storage.factories import section, sheet_in

CREATED = datetime(2026, 11, 20, 1, 30, tzinfo=UTC)  # 10:30 in Japan
# The fixed columns, then one per decision and one per answer found on the sheets.
HEADERS = (
    *LEADING_HEADERS, "DX推進本部会議での協議", "情報提供招請（RFI）",
    "対象業務（ICT 活用の検討（DX推進本部協議・RFI の要否））", "現状の課題",
    "イニシャルコスト（設計額）", "法令・条例・他団体からの依頼等による導入", *TRAILING_HEADERS,
)
HEADER_INDEX = {header: i for i, header in enumerate(HEADERS)}


@pytest.fixture
def sheets(database: Database) -> list[ConsultationSheet]:
    with database.session() as session:
        first = create_sheet(session=session, sheet_in=sheet_in(), now=CREATED)
        transition_sheet(session=session, sheet_id=first.id, to_status=SheetStatus.SUBMITTED,
                         now=CREATED)
        create_sheet(
            session=session,
            sheet_in=sheet_in(
                department="財政課",
                business="=HYPERLINK(\"http://evil.example\",\"click\")",
                initial_cost=None,
                outcomes={"rfi_recommended": False, "needs_privacy_review": True},
                sections=[section(decisions=[{
                    "name": "rfi_recommended", "label": "情報提供招請（RFI）",
                    "kind": "decision", "value": False, "value_label": "不要",
                    "statement": "RFI を行わずに概要案を作成できます。", "cites": [],
                }, {
                    "name": "needs_privacy_review", "label": "個人情報保護", "kind": "note",
                    "value": True, "value_label": "該当",
                    "statement": "個人情報保護の観点で留意してください。", "cites": [],
                }])],
                questions=["クラウドの基準は？", {"text": "保守年数は？", "answered": False}],
            ),
            now=CREATED,
        )
    with database.session() as session:
        return sorted(list_sheets(session=session), key=lambda s: s.reference)


def test_xlsx_opens_with_japanese_headers_widths_and_frozen_bold_header(
    sheets: list[ConsultationSheet],
) -> None:
    workbook = openpyxl.load_workbook(io.BytesIO(sheets_to_xlsx(sheets)))

    assert workbook.sheetnames == ["相談シート"]
    sheet = workbook["相談シート"]
    header = [cell.value for cell in sheet[1]]
    assert header == list(HEADERS)
    assert all(cell.font.bold for cell in sheet[1])
    assert sheet.freeze_panes == "A2"
    assert sheet.max_row == 3

    first = [cell.value for cell in sheet[2]]
    assert first[HEADER_INDEX["整理番号"]] == "2026-0001"
    assert first[HEADER_INDEX["状態"]] == "提出済み"
    assert first[HEADER_INDEX["イニシャルコスト（円）"]] == 4_500_000
    assert sheet[2][HEADER_INDEX["イニシャルコスト（円）"]].number_format == "#,##0"
    assert first[HEADER_INDEX["DX推進本部会議での協議"]] == "必要"
    assert first[HEADER_INDEX["情報提供招請（RFI）"]] == "推奨"
    assert first[HEADER_INDEX["現状の課題"]] == "電話予約が集中し待ち時間が長い"
    assert first[HEADER_INDEX["イニシャルコスト（設計額）"]] == 4_500_000
    assert first[HEADER_INDEX["法令・条例・他団体からの依頼等による導入"]] == "いいえ"
    assert first[HEADER_INDEX["相談の種類"]] == "ICT 活用の検討（DX推進本部協議・RFI の要否）"
    grounds = first[HEADER_INDEX["判断と根拠"]]
    assert "根拠: 木更津市 ICT活用ガイドライン（案） > 【Ⅰ. 検討】" in grounds
    assert "kisarazu-ict-guideline.md" not in grounds
    assert first[HEADER_INDEX["作成日時"]] == datetime(2026, 11, 20, 10, 30)  # Japan time
    assert first[HEADER_INDEX["提出日時"]] == datetime(2026, 11, 20, 10, 30)

    second = [cell.value for cell in sheet[3]]
    assert second[HEADER_INDEX["イニシャルコスト（円）"]] is None
    assert second[HEADER_INDEX["DX推進本部会議での協議"]] is None  # not decided
    assert second[HEADER_INDEX["情報提供招請（RFI）"]] == "不要"
    assert "個人情報保護 — 個人情報保護の観点で留意してください。" in second[
        HEADER_INDEX["判断と根拠"]
    ]
    assert second[HEADER_INDEX["相談中の質問"]] == "クラウドの基準は？\n保守年数は？（回答なし）"
    business = sheet[3][HEADER_INDEX["対象業務"]]
    assert business.data_type == "s"  # typed text never becomes a formula
    assert business.value.startswith("=HYPERLINK")

    widths = {header: sheet.column_dimensions[openpyxl.utils.get_column_letter(i + 1)].width
              for header, i in HEADER_INDEX.items()}
    assert widths["整理番号"] >= 10
    assert widths["対象業務"] > widths["整理番号"]
    assert max(widths.values()) <= 60


def test_csv_is_utf8_with_bom_and_japanese_headers(sheets: list[ConsultationSheet]) -> None:
    data = sheets_to_csv(sheets)

    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[0] == list(HEADERS)
    assert len(rows) == 3
    assert rows[1][HEADER_INDEX["所管課"]] == "市民課"
    assert rows[1][HEADER_INDEX["イニシャルコスト（円）"]] == "4500000"
    assert rows[1][HEADER_INDEX["作成日時"]] == "2026-11-20 10:30"
    assert rows[2][HEADER_INDEX["対象業務"]].startswith("'=HYPERLINK")  # neutralised
    assert "保守年数は？（回答なし）" in rows[2][HEADER_INDEX["相談中の質問"]]


def test_json_has_every_field_and_status_label(sheets: list[ConsultationSheet]) -> None:
    documents = json.loads(sheets_to_json(sheets))

    assert [d["reference"] for d in documents] == ["2026-0001", "2026-0002"]
    first = documents[0]
    assert (first["status"], first["status_label"]) == ("submitted", "提出済み")
    assert first["sections"][0]["decisions"][0]["cites"][0]["doc"] == "kisarazu-ict-guideline.md"
    assert first["sections"][0]["answers"][1]["label"] == "現状の課題"
    assert datetime.fromisoformat(first["created_at"]) == CREATED
    assert "市民課" in sheets_to_json(sheets)  # not \u-escaped


@pytest.mark.parametrize("export_format", ["json", "csv", "xlsx"])
def test_export_sheets_dispatches(sheets: list[ConsultationSheet], export_format: str) -> None:
    data = export_sheets(sheets, export_format)  # type: ignore[arg-type]
    assert data
    with pytest.raises(ValueError):
        export_sheets(sheets, "pdf")  # type: ignore[arg-type]


def test_workbook_with_several_sections_and_awkward_titles(tmp_path) -> None:
    out = tmp_path / "digest.xlsx"
    write_xlsx(
        [
            Table("新規", ["整理番号", "金額"], [["2026-0001", 3_000_000]], {"金額": "#,##0"}),
            Table("新規", ["整理番号"], []),
            Table("区分/帯:300万円以上", ["件数"], [[2]]),
        ],
        out,
    )
    workbook = openpyxl.load_workbook(out)
    assert workbook.sheetnames == ["新規", "新規(2)", "区分＿帯＿300万円以上"]
    assert workbook["新規"]["B2"].value == 3_000_000
    assert workbook["新規(2)"].max_row == 1
    assert workbook["新規(2)"].freeze_panes == "A2"


def test_exported_questions_have_personal_data_masked(database: Database) -> None:
    with database.session() as session:
        create_sheet(
            session=session,
            sheet_in=sheet_in(questions=[
                "電話 090-1234-5678 でよい？",
                {"text": "yamada@example.jp と 123456789012 は？", "answered": False},
            ]),
            now=CREATED,
        )
    with database.session() as session:
        sheets = list_sheets(session=session)
    for fmt in ("json", "csv"):
        text = export_sheets(sheets, fmt).decode("utf-8-sig")
        assert "090-1234-5678" not in text and "yamada@example.jp" not in text
        assert "123456789012" not in text
        assert "[電話番号]" in text and "[メールアドレス]" in text and "[個人番号]" in text
    workbook = openpyxl.load_workbook(io.BytesIO(export_sheets(sheets, "xlsx")))
    cells = [str(c) for row in workbook.active.iter_rows(values_only=True) for c in row if c]
    assert any("[電話番号]" in cell for cell in cells)
    assert not any("090-1234-5678" in cell for cell in cells)


def test_comments_and_the_return_reason_are_in_every_export(database: Database) -> None:
    from storage import comments_by_sheet

    with database.session() as session:
        sheet = create_sheet(session=session, sheet_in=sheet_in(), now=CREATED)
        for status in (SheetStatus.SUBMITTED, SheetStatus.IN_REVIEW):
            transition_sheet(session=session, sheet_id=sheet.id, to_status=status, now=CREATED)
        transition_sheet(session=session, sheet_id=sheet.id, to_status=SheetStatus.RETURNED,
                         actor_name="補佐 一郎", comment="積算根拠を追記してください",
                         now=CREATED)
    with database.session() as session:
        sheets = list_sheets(session=session)
        comments = comments_by_sheet(session=session, sheet_ids=[s.id for s in sheets])

    rows = list(csv.reader(io.StringIO(
        export_sheets(sheets, "csv", comments).decode("utf-8-sig"), newline="")))
    record = dict(zip(rows[0], rows[1], strict=True))
    assert record["コメント・差し戻し理由"] == (
        "2026-11-20 10:30 差し戻し理由（補佐 一郎）: 積算根拠を追記してください"
    )
    [document] = json.loads(export_sheets(sheets, "json", comments))
    assert document["comments"][0]["kind_label"] == "差し戻し理由"
    assert document["comments"][0]["text"] == "積算根拠を追記してください"
    workbook = openpyxl.load_workbook(io.BytesIO(export_sheets(sheets, "xlsx", comments)))
    cells = [str(c) for row in workbook.active.iter_rows(values_only=True) for c in row if c]
    assert any("積算根拠を追記してください" in cell for cell in cells)
