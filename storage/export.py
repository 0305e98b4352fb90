"""相談シート export: JSON (machine-readable), CSV and Excel (Japanese headers).

Example:
    >>> with db.session() as session:                               # doctest: +SKIP
    ...     sheets = list_sheets(session=session, tenant="T1")
    >>> Path("sheets.xlsx").write_bytes(export_sheets(sheets, "xlsx"))  # doctest: +SKIP
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any, Literal
from zoneinfo import ZoneInfo

from storage.lifecycle import status_label
from storage.masking import mask_personal_data
from storage.models import CommentKind, ConsultationSheet, SheetComment
from storage.sheet_view import (
    COMMENT_KIND_LABELS,
    SheetContent,
    decision_lines_text,
    sheet_content,
)
from storage.spec_memos import SpecReviewMemo
from storage.spreadsheet import CellValue, Table, csv_bytes, write_xlsx
from storage.transcript import is_unanswered

ExportFormat = Literal["json", "csv", "xlsx"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = ("json", "csv", "xlsx")
DISPLAY_TIMEZONE = ZoneInfo("Asia/Tokyo")
"""Default zone of the exported times (callers pass the ``timezone`` setting)."""

SHEET_TABLE_TITLE = "相談シート"
YEN_FORMAT = "#,##0"

LEADING_HEADERS: tuple[str, ...] = (
    "整理番号",
    "状態",
    "所管課",
    "相談者",
    "対象業務",
    "イニシャルコスト（円）",
)
TRAILING_HEADERS: tuple[str, ...] = (
    "判断と根拠",
    "相談中の質問",
    "コメント・差し戻し理由",
    "仕様書（案）レビュー",
    "相談の種類",
    "作成日時",
    "更新日時",
    "提出日時",
    "確認日時",
    "完了日時",
    "ID",
)
SHEET_HEADERS = (*LEADING_HEADERS, *TRAILING_HEADERS)
"""The fixed columns; each export adds one column per decision and per answer between them."""

Comments = Mapping[str, Sequence[SheetComment]]
"""Sheet id -> its comments, in order."""
Memos = Mapping[str, Sequence[SpecReviewMemo]]
"""Sheet id -> its 仕様書（案） review memos, oldest first."""


def _local(moment: datetime | None, zone: tzinfo = DISPLAY_TIMEZONE) -> datetime | None:
    return None if moment is None else moment.astimezone(zone)


def _questions(sheet: ConsultationSheet) -> str:
    """The questions asked during the consultation, personal data masked."""
    lines = []
    for question in sheet.questions:
        if isinstance(question, dict):
            text = mask_personal_data(str(question.get("text", "")))
            if is_unanswered(question.get("answered")):
                text += "（回答なし）"
            lines.append(text)
        else:
            lines.append(mask_personal_data(str(question)))
    return "\n".join(lines)


def comment_lines(comments: Sequence[SheetComment], zone: tzinfo = DISPLAY_TIMEZONE) -> str:
    """Comments as 「日時 種類（書いた人）: 本文」 lines (times in ``zone``)."""
    return "\n".join(
        f"{_local(c.created_at, zone):%Y-%m-%d %H:%M} {COMMENT_KIND_LABELS[CommentKind(c.kind).value]}"
        f"（{c.author_name or 'CIO補佐'}）: {c.text}"
        for c in comments
    )


def memo_lines(memos: Sequence[SpecReviewMemo]) -> str:
    """Review memos as 「日時 ファイル名: 判定の件数」 lines (Japan time)."""
    return "\n".join(f"{_local(m.created_at):%Y-%m-%d %H:%M} {m.file_name}: {m.summary}" for m in memos)


@dataclass(frozen=True)
class _Columns:
    """The per-export columns: one per headline decision, one per answer label."""

    decisions: tuple[str, ...]
    answers: tuple[tuple[str, str], ...]
    """(flow title, label); the header adds the flow title when labels collide."""

    def headers(self) -> tuple[str, ...]:
        labels = [label for _, label in self.answers]
        answer_headers = tuple(
            f"{label}（{flow}）" if labels.count(label) > 1 or label in LEADING_HEADERS else label
            for flow, label in self.answers
        )
        return (*LEADING_HEADERS, *self.decisions, *answer_headers, *TRAILING_HEADERS)


def _columns(contents: Sequence[SheetContent]) -> _Columns:
    decisions: list[str] = []
    answers: list[tuple[str, str]] = []
    for content in contents:
        for decision in content.headline:
            if decision.label not in decisions:
                decisions.append(decision.label)
        for answer in content.answers:
            key = (answer.flow_title, answer.label)
            if key not in answers:
                answers.append(key)
    return _Columns(tuple(decisions), tuple(answers))


def _row(
    sheet: ConsultationSheet,
    content: SheetContent,
    columns: _Columns,
    comments: Sequence[SheetComment],
    zone: tzinfo,
    memos: Sequence[SpecReviewMemo] = (),
) -> list[CellValue]:
    decided = {d.label: d.value_label for d in content.headline}
    answered: dict[tuple[str, str], CellValue] = {}
    for answer in content.answers:
        cell: CellValue = answer.text
        if answer.kind in ("money", "number") and isinstance(answer.value, int):
            cell = answer.value
        answered.setdefault((answer.flow_title, answer.label), cell)
    return [
        sheet.reference,
        status_label(sheet.status),
        sheet.department,
        sheet.requester_name or sheet.requester_id,
        sheet.business,
        sheet.initial_cost,
        *(decided.get(label) for label in columns.decisions),
        *(answered.get(key) for key in columns.answers),
        decision_lines_text(content),
        _questions(sheet),
        comment_lines(comments, zone),
        memo_lines(memos),
        "、".join(t for t in content.flow_titles if t),
        _local(sheet.created_at, zone),
        _local(sheet.updated_at, zone),
        _local(sheet.submitted_at, zone),
        _local(sheet.reviewed_at, zone),
        _local(sheet.closed_at, zone),
        sheet.id,
    ]


def sheets_table(
    sheets: Sequence[ConsultationSheet],
    title: str = SHEET_TABLE_TITLE,
    comments: Comments | None = None,
    zone: tzinfo = DISPLAY_TIMEZONE,
    memos: Memos | None = None,
) -> Table:
    """Sheets as a :class:`Table` (for a workbook that has other sections too).

    Columns: the fixed ones, then one per decision (its value word, e.g. 必要) and
    one per answer label found on the sheets, in the order the flows ask them.
    """
    contents = [sheet_content(sheet.sections) for sheet in sheets]
    columns = _columns(contents)
    headers = columns.headers()
    money = {"イニシャルコスト（円）": YEN_FORMAT}
    for (flow, label), header in zip(
        columns.answers, headers[len(LEADING_HEADERS) + len(columns.decisions):], strict=False
    ):
        if any(
            a.kind == "money" and (a.flow_title, a.label) == (flow, label)
            for content in contents for a in content.answers
        ):
            money[header] = YEN_FORMAT
    return Table(
        title=title,
        headers=headers,
        rows=[
            _row(sheet, content, columns, (comments or {}).get(sheet.id, ()), zone,
                 (memos or {}).get(sheet.id, ()))
            for sheet, content in zip(sheets, contents, strict=True)
        ],
        number_formats=money,
    )


def sheet_document(
    sheet: ConsultationSheet, comments: Sequence[SheetComment] = (),
    memos: Sequence[SpecReviewMemo] = (),
) -> dict[str, Any]:
    """One sheet as a JSON-ready dict: every field, ISO 8601 UTC times, plus ``status_label``.

    The questions asked during the consultation have personal data masked; the
    comments (return reasons included) are listed with their kind.
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
    document["comments"] = [
        {
            "kind": str(c.kind),
            "kind_label": COMMENT_KIND_LABELS[CommentKind(c.kind).value],
            "author": c.author_name,
            "text": c.text,
            "created_at": c.created_at.isoformat(),
        }
        for c in comments
    ]
    document["spec_memos"] = [
        {
            "file_name": m.file_name,
            "title": m.title,
            "summary": m.summary,
            "items": [list(item) for item in m.items],
            "markdown": m.markdown,
            "created_at": m.created_at.isoformat(),
        }
        for m in memos
    ]
    return document


def sheets_to_json(
    sheets: Sequence[ConsultationSheet], comments: Comments | None = None,
    memos: Memos | None = None,
) -> str:
    """Sheets as a JSON array (UTF-8 text, Japanese kept as is)."""
    return json.dumps(
        [sheet_document(sheet, (comments or {}).get(sheet.id, ()), (memos or {}).get(sheet.id, ()))
         for sheet in sheets],
        ensure_ascii=False,
        indent=2,
    ) + "\n"


def sheets_to_csv(
    sheets: Sequence[ConsultationSheet], comments: Comments | None = None,
    zone: tzinfo = DISPLAY_TIMEZONE,
    memos: Memos | None = None,
) -> bytes:
    """Sheets as CSV in UTF-8 with BOM and Japanese headers (times in ``zone``)."""
    return csv_bytes(sheets_table(sheets, comments=comments, zone=zone, memos=memos))


def sheets_to_xlsx(
    sheets: Sequence[ConsultationSheet], comments: Comments | None = None,
    zone: tzinfo = DISPLAY_TIMEZONE,
    memos: Memos | None = None,
) -> bytes:
    """Sheets as an Excel workbook: Japanese headers, widths set, header bold and frozen."""
    buffer = io.BytesIO()
    write_xlsx([sheets_table(sheets, comments=comments, zone=zone, memos=memos)], buffer)
    return buffer.getvalue()


def export_sheets(
    sheets: Sequence[ConsultationSheet],
    export_format: ExportFormat,
    comments: Comments | None = None,
    zone: tzinfo = DISPLAY_TIMEZONE,
    memos: Memos | None = None,
) -> bytes:
    """Sheets in ``export_format`` (``json`` / ``csv`` / ``xlsx``) as bytes to write to a file.

    ``comments``: sheet id -> its comments (:func:`storage.sheets.comments_by_sheet`),
    shown in every format. ``zone``: where the CSV / Excel times are read (the
    ``timezone`` setting); JSON keeps ISO 8601 UTC. ``memos``: sheet id -> its 仕様書（案）
    review memos (:func:`storage.spec_memos.memos_by_sheet`), the full memo in JSON, one
    line each in CSV and Excel.
    """
    if export_format == "json":
        return sheets_to_json(sheets, comments, memos).encode("utf-8")
    if export_format == "csv":
        return sheets_to_csv(sheets, comments, zone, memos)
    if export_format == "xlsx":
        return sheets_to_xlsx(sheets, comments, zone, memos)
    raise ValueError(f"unknown export format: {export_format!r}")
