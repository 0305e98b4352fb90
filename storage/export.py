"""相談シート export: JSON (machine-readable), CSV and Excel (Japanese headers).

Example:
    >>> with db.session() as session:                               # doctest: +SKIP
    ...     sheets = list_sheets(session=session, tenant="T1")
    >>> Path("sheets.xlsx").write_bytes(export_sheets(sheets, "xlsx"))  # doctest: +SKIP
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from storage.lifecycle import status_label
from storage.masking import mask_personal_data
from storage.models import ConsultationSheet
from storage.spreadsheet import CellValue, Table, csv_bytes, write_xlsx

ExportFormat = Literal["json", "csv", "xlsx"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = ("json", "csv", "xlsx")
DISPLAY_TIMEZONE = ZoneInfo("Asia/Tokyo")

SHEET_TABLE_TITLE = "相談シート"
YEN_FORMAT = "#,##0"

# Outcomes every consultation has, shown as their own columns: name -> (header, yes, no).
OUTCOME_COLUMNS: dict[str, tuple[str, str, str]] = {
    "dx_council_required": ("DX推進本部協議", "必要", "不要"),
    "rfi_recommended": ("RFI", "推奨", "不要"),
}

SHEET_HEADERS: tuple[str, ...] = (
    "整理番号",
    "状態",
    "所管課",
    "相談者",
    "対象業務",
    "現状の課題",
    "想定しているICT",
    "イニシャルコスト（円）",
    "ランニングコスト（年額・円）",
    *(header for header, _, _ in OUTCOME_COLUMNS.values()),
    "その他の判定",
    "判断と根拠",
    "懸念事項",
    "個人情報の取扱い",
    "相談中の質問",
    "フロー",
    "作成日時",
    "更新日時",
    "提出日時",
    "確認日時",
    "完了日時",
    "チャネル",
    "ID",
)


def _local(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.astimezone(DISPLAY_TIMEZONE)


def _outcome(sheet: ConsultationSheet, name: str) -> str | None:
    _, yes, no = OUTCOME_COLUMNS[name]
    if name not in sheet.outcomes:
        return None
    return yes if sheet.outcomes[name] else no


def _other_outcomes(sheet: ConsultationSheet) -> str:
    return "\n".join(
        f"{name}: {'はい' if value else 'いいえ'}"
        for name, value in sheet.outcomes.items()
        if name not in OUTCOME_COLUMNS
    )


def _decisions(sheet: ConsultationSheet) -> str:
    lines = []
    for decision in sheet.decisions:
        statement = str(decision.get("statement") or decision.get("name") or "")
        cites = [
            " ".join(str(part) for part in (cite.get("doc"), cite.get("section")) if part)
            for cite in decision.get("cites") or []
            if isinstance(cite, dict)
        ]
        lines.append(f"{statement}（根拠: {'; '.join(cites)}）" if cites else statement)
    return "\n".join(lines)


def _questions(sheet: ConsultationSheet) -> str:
    """The questions asked during the consultation, personal data masked."""
    lines = []
    for question in sheet.questions:
        if isinstance(question, dict):
            text = mask_personal_data(str(question.get("text", "")))
            if question.get("answered") is False:
                text += "（回答なし）"
            lines.append(text)
        else:
            lines.append(mask_personal_data(str(question)))
    return "\n".join(lines)


def sheet_row(sheet: ConsultationSheet) -> list[CellValue]:
    """One sheet as a row under :data:`SHEET_HEADERS` (times in Japan time)."""
    return [
        sheet.reference,
        status_label(sheet.status),
        sheet.department,
        sheet.requester_name or sheet.requester_id,
        sheet.business,
        sheet.current_problem,
        sheet.envisaged_ict,
        sheet.initial_cost,
        sheet.running_cost,
        *(_outcome(sheet, name) for name in OUTCOME_COLUMNS),
        _other_outcomes(sheet),
        _decisions(sheet),
        sheet.concerns,
        sheet.personal_info,
        _questions(sheet),
        sheet.flow_id,
        _local(sheet.created_at),
        _local(sheet.updated_at),
        _local(sheet.submitted_at),
        _local(sheet.reviewed_at),
        _local(sheet.closed_at),
        sheet.channel,
        sheet.id,
    ]


def sheets_table(sheets: Sequence[ConsultationSheet], title: str = SHEET_TABLE_TITLE) -> Table:
    """Sheets as a :class:`Table` (for a workbook that has other sections too)."""
    return Table(
        title=title,
        headers=SHEET_HEADERS,
        rows=[sheet_row(sheet) for sheet in sheets],
        number_formats={
            "イニシャルコスト（円）": YEN_FORMAT,
            "ランニングコスト（年額・円）": YEN_FORMAT,
        },
    )


def sheet_document(sheet: ConsultationSheet) -> dict[str, Any]:
    """One sheet as a JSON-ready dict: every field, ISO 8601 UTC times, plus ``status_label``.

    The questions asked during the consultation have personal data masked.
    """
    document = sheet.model_dump(mode="json")
    document["status"] = str(sheet.status)
    document["status_label"] = status_label(sheet.status)
    document["questions"] = [
        {**question, "text": mask_personal_data(str(question.get("text", "")))}
        if isinstance(question, dict)
        else mask_personal_data(str(question))
        for question in document.get("questions") or []
    ]
    return document


def sheets_to_json(sheets: Sequence[ConsultationSheet]) -> str:
    """Sheets as a JSON array (UTF-8 text, Japanese kept as is)."""
    return json.dumps(
        [sheet_document(sheet) for sheet in sheets], ensure_ascii=False, indent=2
    ) + "\n"


def sheets_to_csv(sheets: Sequence[ConsultationSheet]) -> bytes:
    """Sheets as CSV in UTF-8 with BOM and Japanese headers."""
    return csv_bytes(sheets_table(sheets))


def sheets_to_xlsx(sheets: Sequence[ConsultationSheet]) -> bytes:
    """Sheets as an Excel workbook: Japanese headers, widths set, header bold and frozen."""
    buffer = io.BytesIO()
    write_xlsx([sheets_table(sheets)], buffer)
    return buffer.getvalue()


def export_sheets(sheets: Sequence[ConsultationSheet], export_format: ExportFormat) -> bytes:
    """Sheets in ``export_format`` (``json`` / ``csv`` / ``xlsx``) as bytes to write to a file."""
    if export_format == "json":
        return sheets_to_json(sheets).encode("utf-8")
    if export_format == "csv":
        return sheets_to_csv(sheets)
    if export_format == "xlsx":
        return sheets_to_xlsx(sheets)
    raise ValueError(f"unknown export format: {export_format!r}")
