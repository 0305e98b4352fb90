"""仕様書（案）レビューメモ: a review rendered as Markdown or Word for the CIO補佐 to edit and send.

Example:
    >>> markdown = render_markdown(review, reviewed_on=date(2026, 12, 2))  # doctest: +SKIP
    >>> Path("memo.docx").write_bytes(render_docx(review, reviewed_on=date(2026, 12, 2)))  # doctest: +SKIP
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

from knowledge.spec_review import SpecReview
from knowledge.spec_review_checklist import ClauseCite
from storage.word import EAST_ASIAN_FONT, set_japanese_styles

STATUS_LABELS = {"present": "記載あり", "weak": "記載が不十分", "missing": "記載なし"}
STATUS_MARKS = {"present": "○", "weak": "△", "missing": "×"}
METHOD_LABELS = {
    "proposal": "公募型プロポーザル",
    "bid": "競争入札",
    "unknown": "仕様書（案）からは読み取れません",
}
FONT = EAST_ASIAN_FONT
"""East Asian font of the Word memo (:data:`storage.word.EAST_ASIAN_FONT`)."""


@dataclass(frozen=True)
class MemoSection:
    heading: str
    paragraphs: tuple[str, ...] = ()
    bullets: tuple[str, ...] = ()
    table: tuple[tuple[str, ...], ...] = ()


def cite_text(cite: ClauseCite) -> str:
    """``木更津市 ICT活用ガイドライン（案） 【Ⅲ.調達】 > 1.仕様書・契約書などの作成「…」``."""
    return f"{cite.title or cite.doc} {cite.section}「{cite.quote}」"


def summary_line(review: SpecReview) -> str:
    """How many items are present / weak / missing, and how many findings, in one line."""
    counts = {s: sum(1 for j in review.items if j.status == s) for s in STATUS_LABELS}
    return (
        f"ガイドラインが示す仕様書の主な内容 {len(review.items)} 項目のうち、"
        f"記載あり {counts['present']}・記載が不十分 {counts['weak']}・記載なし {counts['missing']}。"
        f"指摘事項 {len(review.findings)} 件。"
    )


def memo_sections(review: SpecReview) -> tuple[str, tuple[MemoSection, ...]]:
    """The memo's title and sections, independent of the output format."""
    summary = summary_line(review)
    overview = MemoSection(
        "1. 概要",
        paragraphs=(summary,),
        bullets=(
            f"対象: {review.name}" + (f"（{review.title}）" if review.title else ""),
            f"調達方法: {METHOD_LABELS[review.method]}",
        ),
    )
    rows: list[tuple[str, ...]] = [("No.", "項目", "判定", "仕様書（案）の該当箇所", "根拠")]
    for judgement in review.items:
        where = judgement.section or "—"
        if judgement.excerpt:
            where += f"：{judgement.excerpt}"
        if judgement.reason:
            where += f"（{judgement.reason}）"
        rows.append((
            str(judgement.item.number),
            judgement.item.label,
            f"{STATUS_MARKS[judgement.status]} {STATUS_LABELS[judgement.status]}",
            where,
            " / ".join(cite_text(c) for c in judgement.item.cites),
        ))
    checklist = MemoSection(
        "2. 仕様書の主な内容の確認",
        paragraphs=("木更津市 ICT活用ガイドライン（案）【Ⅲ.調達】1 が示す仕様書の主な内容ごとの判定です。",),
        table=tuple(rows),
    )
    findings: list[str] = []
    for number, finding in enumerate(review.findings, start=1):
        text = f"（{number}）{finding.label}: {finding.message}"
        if finding.evidence:
            text += " 該当箇所: " + " / ".join(f"「{e}」" for e in finding.evidence)
        text += " 根拠: " + " / ".join(cite_text(c) for c in finding.cites)
        findings.append(text)
    findings_section = MemoSection(
        "3. 指摘事項",
        paragraphs=() if findings else ("特に指摘する事項はありません。",),
        bullets=tuple(findings),
    )
    to_fix = [
        f"{j.item.label}: {'追記してください' if j.status == 'missing' else '具体的に書いてください'}"
        for j in review.items if j.status != "present"
    ]
    requests = MemoSection(
        "4. 所管課への依頼（案）",
        bullets=tuple(to_fix) or ("特にありません。",),
    )
    note = MemoSection(
        "5. 留意事項",
        paragraphs=(
            "このメモは soudan が仕様書（案）をガイドラインの項目と照合して作成した下書きです。"
            "判定は機械的なものなので、CIO補佐が内容を確認・修正してから所管課へ送付してください。",
        ),
    )
    title = f"仕様書（案）レビューメモ　{review.title or review.name}"
    return title, (overview, checklist, findings_section, requests, note)


def render_markdown(review: SpecReview, *, reviewed_on: date) -> str:
    """The memo as Markdown."""
    title, sections = memo_sections(review)
    lines = [f"# {title}", "", f"{_date(reviewed_on)}　作成（下書き）", ""]
    for section in sections:
        lines += [f"## {section.heading}", ""]
        for paragraph in section.paragraphs:
            lines += [paragraph, ""]
        if section.table:
            header, *rows = section.table
            lines.append("| " + " | ".join(header) + " |")
            lines.append("|" + "---|" * len(header))
            lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
            lines.append("")
        if section.bullets:
            lines += [f"- {bullet}" for bullet in section.bullets]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def render_chat(review: SpecReview) -> str:
    """The memo for a chat message (simple Markdown, the table as one line per item).

    Slack and Teams show no Markdown tables; the title is the channel's heading.
    """
    _, sections = memo_sections(review)
    lines: list[str] = []
    for section in sections:
        lines += [f"**{section.heading}**"]
        lines += list(section.paragraphs)
        if section.table:
            _, *rows = section.table
            for number, label, judged, where, cites in rows:
                line = f"{number}. {label}: {judged}"
                if where != "—":
                    line += f"（{where}）"
                if not judged.startswith(STATUS_MARKS["present"]):
                    line += f" 根拠: {cites}"
                lines.append(f"- {line}")
        lines += [f"- {bullet}" for bullet in section.bullets]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def render_docx(review: SpecReview, *, reviewed_on: date) -> bytes:
    """The memo as Word (DOCX bytes): Japanese East Asian font and ja-JP proofing language."""
    from docx import Document
    from docx.shared import Pt

    title, sections = memo_sections(review)
    document = Document()
    set_japanese_styles(document)
    document.styles["Normal"].font.size = Pt(10.5)
    document.add_heading(title, level=0)
    document.add_paragraph(f"{_date(reviewed_on)}　作成（下書き）")
    for section in sections:
        document.add_heading(section.heading, level=1)
        for paragraph in section.paragraphs:
            document.add_paragraph(paragraph)
        if section.table:
            table = document.add_table(rows=len(section.table), cols=len(section.table[0]))
            table.style = "Table Grid"
            for r, row in enumerate(section.table):
                for c, value in enumerate(row):
                    table.cell(r, c).text = value
        for bullet in section.bullets:
            document.add_paragraph(bullet, style="List Bullet")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def _date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _cell(text: str) -> str:
    return text.replace("|", "｜").replace("\n", " ")
