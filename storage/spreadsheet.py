"""Tables as Excel workbooks and CSV files that open cleanly in Japanese Excel.

Used by the 相談シート export and by the weekly digest: one :class:`Table` per
worksheet, Japanese headers, column widths set, the header row bold and frozen;
CSV in UTF-8 with a BOM (without it Excel reads Japanese as mojibake).

Cells that start like a formula (``=``, ``+``, ``-``, ``@``) are written as text,
never as formulas: sheet content is typed by users.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import BinaryIO

CellValue = str | int | float | bool | datetime | date | None

MIN_WIDTH = 6
MAX_WIDTH = 60
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_INVALID_SHEET_TITLE_CHARS = str.maketrans({c: "＿" for c in "[]:*?/\\"})


@dataclass(frozen=True)
class Table:
    """One worksheet / CSV file: a title, Japanese headers and rows of cells.

    ``number_formats`` maps a header to an Excel number format (e.g. ``"#,##0"``).
    """

    title: str
    headers: Sequence[str]
    rows: Sequence[Sequence[CellValue]]
    number_formats: dict[str, str] = field(default_factory=dict)


def display_width(text: str) -> int:
    """Width in Excel columns: full-width (Japanese) characters count double."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _text(value: CellValue) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "はい" if value else "いいえ"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _column_width(header: str, values: list[CellValue]) -> int:
    longest = display_width(header)
    for value in values:
        for line in _text(value).splitlines() or [""]:
            longest = max(longest, display_width(line))
    return max(MIN_WIDTH, min(MAX_WIDTH, longest + 2))


def write_xlsx(tables: Sequence[Table], out: Path | BinaryIO) -> None:
    """Write ``tables`` as one workbook, one worksheet per table.

    Example:
        >>> write_xlsx([Table("相談シート", ["整理番号"], [["2026-0001"]])], Path("a.xlsx"))  # doctest: +SKIP
    """
    # openpyxl (and numpy under it) only for a workbook: other commands start faster.
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    workbook.remove(workbook.active)
    used_titles: set[str] = set()
    for table in tables:
        sheet = workbook.create_sheet(_sheet_title(table.title, used_titles))
        sheet.append(list(table.headers))
        for cell in sheet[1]:
            cell.font = Font(bold=True)
            cell.alignment = Alignment(vertical="center", wrap_text=True)
        for row in table.rows:
            sheet.append([_excel_value(value) for value in row])
        for column_index, header in enumerate(table.headers, start=1):
            values = [row[column_index - 1] for row in table.rows]
            letter = get_column_letter(column_index)
            sheet.column_dimensions[letter].width = _column_width(header, values)
            number_format = table.number_formats.get(header)
            for row_index in range(2, len(table.rows) + 2):
                cell = sheet.cell(row=row_index, column=column_index)
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # never a formula
                    if "\n" in cell.value:
                        cell.alignment = Alignment(wrap_text=True, vertical="top")
                elif isinstance(cell.value, datetime):
                    cell.number_format = "yyyy-mm-dd hh:mm"
                elif number_format and isinstance(cell.value, int | float):
                    cell.number_format = number_format
        sheet.freeze_panes = "A2"
        if table.rows:
            sheet.auto_filter.ref = sheet.dimensions
    if not tables:
        workbook.create_sheet("データなし")
    workbook.save(out)


def _excel_value(value: CellValue) -> CellValue:
    if isinstance(value, datetime) and value.tzinfo is not None:
        # Excel has no time zones; the caller converts to local time first.
        return value.replace(tzinfo=None)
    return value


def _sheet_title(title: str, used: set[str]) -> str:
    base = title.translate(_INVALID_SHEET_TITLE_CHARS)[:31] or "Sheet"
    candidate, number = base, 2
    while candidate in used:
        suffix = f"({number})"
        candidate, number = base[: 31 - len(suffix)] + suffix, number + 1
    used.add(candidate)
    return candidate


def _csv_cell(value: CellValue) -> str:
    text = _text(value)
    if isinstance(value, str) and text.startswith(_FORMULA_PREFIXES):
        return "'" + text
    return text


def csv_bytes(table: Table) -> bytes:
    """The table as CSV: UTF-8 with BOM, CRLF line ends, a header row first."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(table.headers)
    for row in table.rows:
        writer.writerow([_csv_cell(value) for value in row])
    return buffer.getvalue().encode("utf-8-sig")
