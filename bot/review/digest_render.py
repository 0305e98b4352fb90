"""The weekly digest as Markdown (Japanese), JSON, CSV (UTF-8 with BOM) and xlsx.

CSV and xlsx share one tabular view, :func:`digest_tables`: titled tables with
Japanese headers, written by :mod:`storage.spreadsheet` (column widths from the
content, bold frozen header, user text never turned into a formula). The xlsx has
one worksheet per table; the CSV has the tables one below the other, each under a
``【title】`` row, so Excel opens it as-is.
"""

from __future__ import annotations

import io
import json
from datetime import timedelta
from typing import Any

from bot.core.messages import Part, Text
from bot.review.digest import Digest, DigestSheet
from flows.answer_reading import short_yen as yen
from storage.spreadsheet import CellValue, Table, csv_bytes, write_xlsx

FORMATS = ("md", "json", "csv", "xlsx")

SHEET_HEADERS = (
    "整理番号", "部署", "対象業務", "イニシャルコスト（円）", "状態", "詳細（CLI）", "リンク",
)
_YEN = "#,##0"

_SHEET_SECTIONS = (
    ("new", "新規"),
    ("submitted", "提出"),
    ("returned", "差し戻し"),
    ("accepted", "受理"),
    ("still_open", "未完了（確認待ち）"),
)


def sheet_sections(digest: Digest) -> list[tuple[str, tuple[DigestSheet, ...]]]:
    """(title, sheets) of every sheet section: by status, then the flows' outcome groups."""
    sections = [(title, getattr(digest, name)) for name, title in _SHEET_SECTIONS]
    sections.extend((group.title, group.sheets) for group in digest.groups)
    return sections


def _sheet_row(sheet: DigestSheet) -> list[CellValue]:
    return [
        sheet.reference,
        sheet.department,
        sheet.business,
        sheet.initial_cost,
        sheet.status,
        sheet.link.cli,
        sheet.link.url or "",
    ]


def digest_tables(digest: Digest) -> list[Table]:
    """Every section of ``digest`` as a table with Japanese headers."""
    summary: list[list[CellValue]] = [
        ["対象週", str(digest.week)],
        ["期間（開始）", digest.start.strftime("%Y-%m-%d %H:%M %Z")],
        ["期間（終了）", digest.end.strftime("%Y-%m-%d %H:%M %Z")],
        ["新規", len(digest.new)],
        ["提出", len(digest.submitted)],
        ["差し戻し", len(digest.returned)],
        ["受理", len(digest.accepted)],
        ["未完了", len(digest.still_open)],
        ["7日超の確認待ち", len(digest.waiting)],
        ["回答できなかった質問", digest.unanswered_count],
        ["質問総数", digest.question_count],
        ["イニシャルコスト合計（円）", digest.cost_total],
    ]
    tables = [Table("概要", ("項目", "値"), summary)]
    for title, sheets in sheet_sections(digest):
        tables.append(
            Table(title, SHEET_HEADERS, [_sheet_row(s) for s in sheets],
                  {"イニシャルコスト（円）": _YEN})
        )
    tables.append(
        Table(
            "部署別件数",
            ("部署", "件数", "内訳"),
            [
                [d.department, d.total, "、".join(f"{label} {n}" for label, n in d.by_status)]
                for d in digest.by_department
            ],
        )
    )
    tables.append(
        Table("状態別件数", ("状態", "件数"), [[label, n] for label, n in digest.by_status])
    )
    bands: list[list[CellValue]] = [[b.label, b.count, b.total] for b in digest.cost_bands]
    bands.append(["合計", sum(b.count for b in digest.cost_bands), digest.cost_total])
    tables.append(Table("イニシャルコスト帯", ("金額帯", "件数", "合計（円）"), bands,
                        {"合計（円）": _YEN}))
    tables.append(
        Table(
            "7日超の確認待ち",
            ("待ち日数", *SHEET_HEADERS),
            [[w.waiting_days, *_sheet_row(w.sheet)] for w in digest.waiting],
            {"イニシャルコスト（円）": _YEN},
        )
    )
    gaps: list[list[CellValue]] = [[gap.text, gap.count] for gap in digest.unanswered]
    gaps.append(["合計", digest.unanswered_count])
    tables.append(Table("回答できなかった質問", ("質問", "件数"), gaps))
    return tables


# --- Markdown ---------------------------------------------------------------------------


def _md_sheet(sheet: DigestSheet, *, bare_links: bool = False) -> str:
    link = ""
    if sheet.link.url:
        link = f"{sheet.link.url} / " if bare_links else f"[開く]({sheet.link.url}) / "
    return (
        f"- **{sheet.reference}** {sheet.department}「{sheet.business or '（業務名未記入）'}」"
        f" イニシャルコスト {yen(sheet.initial_cost)}（{sheet.status}）"
        f" — {link}`{sheet.link.cli}`"
    )


def render_markdown(
    digest: Digest, *, limit: int | None = None, bare_links: bool = False
) -> str:
    """The digest as Japanese Markdown (``--format md``; chat: see :func:`render_chat`).

    Args:
        digest: the digest.
        limit: at most this many sheets or questions per section (the rest counted).
        bare_links: plain URLs instead of ``[開く](url)`` (chat clients link them).
    """

    def capped(lines: list[str]) -> list[str]:
        if limit is None or len(lines) <= limit:
            return lines
        return [*lines[:limit], f"- ほか {len(lines) - limit} 件"
                f"（全件: `soudan digest --week {digest.week} --format xlsx --out …`）"]

    out = [
        f"# 週次相談ダイジェスト {digest.week}",
        f"期間: {digest.start:%Y-%m-%d}（月）〜 {digest.end - timedelta(days=1):%Y-%m-%d}（日）"
        f" {digest.start.tzinfo}",
        "",
    ]
    for title, sheets in sheet_sections(digest):
        out.append(f"## {title}（{len(sheets)}件）")
        out.extend(capped([_md_sheet(s, bare_links=bare_links) for s in sheets]))
        if not sheets:
            out.append("- なし")
        out.append("")
    out.append("## 部署別件数")
    out.extend(
        f"- {d.department}: {d.total}件（"
        + "、".join(f"{label} {n}" for label, n in d.by_status) + "）"
        for d in digest.by_department
    )
    if not digest.by_department:
        out.append("- なし")
    out.append("")
    out.append("## 状態別件数")
    out.extend(f"- {label}: {n}件" for label, n in digest.by_status)
    if not digest.by_status:
        out.append("- なし")
    out.append("")
    out.append("## イニシャルコスト帯")
    out.extend(f"- {b.label}: {b.count}件 計 {yen(b.total)}" for b in digest.cost_bands)
    out.append(f"- 合計: {yen(digest.cost_total)}")
    out.append("")
    out.append(f"## 7日を超えて確認待ち（{len(digest.waiting)}件）")
    out.extend(capped([
        f"{_md_sheet(w.sheet, bare_links=bare_links)} — {w.waiting_days}日経過"
        for w in digest.waiting
    ]))
    if not digest.waiting:
        out.append("- なし")
    out.append("")
    out.append(
        f"## ガイドラインで回答できなかった質問（{digest.unanswered_count}件 / "
        f"質問 {digest.question_count}件）"
    )
    out.extend(capped([f"- {gap.text}（{gap.count}件）" for gap in digest.unanswered]))
    if not digest.unanswered:
        out.append("- なし")
    return "\n".join(out) + "\n"


CHAT_SECTION_LIMIT = 10


def render_chat(digest: Digest) -> list[Part]:
    """The digest for a chat post: at most 10 lines a section, plain links, one part."""
    return [Text(render_markdown(digest, limit=CHAT_SECTION_LIMIT, bare_links=True))]


# --- JSON, CSV, xlsx ---------------------------------------------------------------------


def digest_as_dict(digest: Digest) -> dict[str, Any]:
    """A JSON-ready dict (ISO timestamps, links as objects)."""

    def sheet(s: DigestSheet) -> dict[str, Any]:
        return {
            "sheet_id": s.sheet_id,
            "reference": s.reference,
            "department": s.department,
            "business": s.business,
            "initial_cost": s.initial_cost,
            "status": s.status,
            "cli": s.link.cli,
            "url": s.link.url,
        }

    data: dict[str, Any] = {
        "week": str(digest.week),
        "tenant": digest.tenant,
        "start": digest.start.isoformat(),
        "end": digest.end.isoformat(),
        "as_of": digest.as_of.isoformat(),
    }
    for field_name, _ in _SHEET_SECTIONS:
        data[field_name] = [sheet(s) for s in getattr(digest, field_name)]
    data["groups"] = [
        {"title": group.title, "sheets": [sheet(s) for s in group.sheets]}
        for group in digest.groups
    ]
    data["by_department"] = [
        {"department": d.department, "total": d.total, "by_status": dict(d.by_status)}
        for d in digest.by_department
    ]
    data["by_status"] = dict(digest.by_status)
    data["cost_bands"] = [
        {"band": b.label, "count": b.count, "total": b.total} for b in digest.cost_bands
    ]
    data["cost_total"] = digest.cost_total
    data["waiting"] = [
        {
            **sheet(w.sheet),
            "waiting_days": w.waiting_days,
            "submitted_at": w.submitted_at.isoformat(),
        }
        for w in digest.waiting
    ]
    data["unanswered_questions"] = [{"text": g.text, "count": g.count} for g in digest.unanswered]
    data["unanswered_count"] = digest.unanswered_count
    data["question_count"] = digest.question_count
    return data


def render_json(digest: Digest) -> str:
    return json.dumps(digest_as_dict(digest), ensure_ascii=False, indent=2) + "\n"


def tables_csv(tables: list[Table]) -> bytes:
    """Tables one below the other, each under a ``【title】`` row.

    UTF-8 with one BOM and CRLF line ends, so Excel opens it with the Japanese intact.
    """
    blocks = [
        f"【{table.title}】\r\n" + csv_bytes(table).decode("utf-8-sig") for table in tables
    ]
    return "\r\n".join(blocks).encode("utf-8-sig")


def tables_xlsx(tables: list[Table]) -> bytes:
    """One worksheet per table (see :func:`storage.spreadsheet.write_xlsx`)."""
    buffer = io.BytesIO()
    write_xlsx(tables, buffer)
    return buffer.getvalue()


def render_csv(digest: Digest) -> bytes:
    """The digest's tables as one CSV (UTF-8 with BOM)."""
    return tables_csv(digest_tables(digest))


def render_xlsx(digest: Digest) -> bytes:
    """One worksheet per section of the digest."""
    return tables_xlsx(digest_tables(digest))


def render(digest: Digest, fmt: str) -> bytes:
    """The digest in ``fmt`` (``md``, ``json``, ``csv`` or ``xlsx``) as bytes."""
    if fmt == "md":
        return render_markdown(digest).encode("utf-8")
    if fmt == "json":
        return render_json(digest).encode("utf-8")
    if fmt == "csv":
        return render_csv(digest)
    if fmt == "xlsx":
        return render_xlsx(digest)
    raise ValueError(f"形式は {', '.join(FORMATS)} のいずれかを指定してください: {fmt}")
