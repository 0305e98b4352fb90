"""情報提供依頼書（案） (a draft RFI request to vendors) from the RFI flow's answers.

The builder reads document parts (:data:`flows.document_parts.RFI_PARTS`), never slot
names: the flow file maps its slots to the parts (``sheet.parts``), and
:func:`flows.document_parts.part_values` picks them from a run's slots.

The five items are the ones 木更津市 ICT活用ガイドライン asks vendors to answer in an
RFI (【Ⅱ. 予算】 1.（1）): 見積書 / 提案のコンセプト及び実施方法など / 業務実施体制 /
事前準備など / 留意が必要となる事項. Each item gets a standard request sentence plus
what the department wants to ask specifically.

Example:
    >>> draft = build_rfi_draft(part_values(flows["rfi"], run.slots),  # doctest: +SKIP
    ...                         issued_on=date(2026, 11, 21), department="子育て支援課",
    ...                         context=part_values(flows["ict_adoption"], ict_run.slots))
    >>> markdown = render_markdown(draft)                                   # doctest: +SKIP
    >>> Path("rfi.docx").write_bytes(render_docx(draft))                    # doctest: +SKIP
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

from storage.word import DocumentMeta, japanese_document

RFI_ITEMS: tuple[tuple[str, str, str], ...] = (
    (
        "estimate",
        "見積書",
        "本業務の実施に要する費用の参考見積書を提出してください。イニシャルコストとランニングコストを"
        "分け、積算根拠（数量・単価など）を明示してください。",
    ),
    (
        "concept",
        "提案のコンセプト及び実施方法など",
        "本業務に対する提案のコンセプト、実施方法、活用する製品・サービスの概要を示してください。",
    ),
    (
        "structure",
        "業務実施体制",
        "導入時及び運用時の業務実施体制（役割分担、人数、サポート体制など）を示してください。",
    ),
    (
        "preparation",
        "事前準備など",
        "導入にあたり本市が事前に準備すべき事項（データ、機器・環境、庁内調整など）と、"
        "導入までの想定スケジュールを示してください。",
    ),
    (
        "cautions",
        "留意が必要となる事項",
        "導入及び運用にあたり留意が必要となる事項（個人情報保護、情報セキュリティ、制度改正への対応など）"
        "を示してください。",
    ),
)
"""(document part, item name, standard request sentence) for the five RFI items, in order."""

ADDRESSEE = "事業者 各位"
"""The RFI is sent to several vendors."""

STANDARD_NOTES = (
    "本依頼は情報収集を目的とするものであり、契約や調達の実施を約束するものではありません。",
    "回答の作成・提出に要する費用は、回答者の負担とします。",
    "回答内容は本市の検討以外の目的には使用しません。",
)


@dataclass(frozen=True)
class RfiSection:
    """One heading of the draft with its paragraphs and bullet points."""

    heading: str
    level: int = 2
    paragraphs: tuple[str, ...] = ()
    bullets: tuple[str, ...] = ()


@dataclass(frozen=True)
class RfiDraft:
    """情報提供依頼書（案）, independent of the output format."""

    title: str
    issued: str
    sender: str
    sections: tuple[RfiSection, ...]
    addressee: str = ""
    """Who the document is addressed to (e.g. 事業者 各位); empty prints nothing."""


def _text(slots: Mapping[str, Any], name: str) -> str:
    value = slots.get(name)
    return value.strip() if isinstance(value, str) else ""


def _deadline(value: object) -> str:
    if not isinstance(value, dict) or "end" not in value:
        return "別途お知らせします"
    end = date.fromisoformat(value["end"])
    return f"{end.year}年{end.month}月{end.day}日まで"


def build_rfi_draft(
    values: Mapping[str, Any],
    *,
    issued_on: date,
    context: Mapping[str, Any] | None = None,
    municipality: str = "",
    department: str = "",
) -> RfiDraft:
    """Assemble the draft from the RFI flow's answers, by document part.

    Args:
        values: Part name (:data:`flows.document_parts.RFI_PARTS`) → answer, from the
            RFI flow (:func:`flows.document_parts.part_values`).
        issued_on: Date printed on the draft.
        context: Parts of the consultation the RFI continues (``business``, ``problem``,
            ``ict``: :data:`flows.document_parts.CONTEXT_PARTS`); they describe the business.
        municipality: e.g. ``木更津市``; empty prints nothing.
        department: The 所管課, e.g. ``子育て支援課``.

    Returns:
        The draft; render it with :func:`render_markdown` or :func:`render_docx`.
    """
    sheet = context or {}
    business = _text(values, "business") or _text(sheet, "business") or "（対象業務）"
    overview = [f"対象業務: {business}"]
    if _text(sheet, "problem"):
        overview.append(f"現状の課題: {_text(sheet, 'problem')}")
    if _text(sheet, "ict"):
        overview.append(f"想定している ICT: {_text(sheet, 'ict')}")
    purpose = (
        _text(values, "purpose") or "本業務への ICT 活用の検討に必要な情報を収集するため。"
    )
    sections = [
        RfiSection(
            "1. 目的",
            paragraphs=(
                f"{municipality or '本市'}では、{business}への ICT の活用を検討しています。"
                "つきましては、下記の事項について情報の提供をお願いします。",
                purpose,
            ),
        ),
        RfiSection("2. 対象業務の概要", bullets=tuple(overview)),
        RfiSection("3. 情報提供を依頼する事項"),
    ]
    for index, (part, name, standard) in enumerate(RFI_ITEMS, start=1):
        specific = _text(values, part)
        paragraphs = [standard]
        if specific:
            paragraphs.append(f"特に確認したい事項: {specific}")
        sections.append(RfiSection(f"（{index}）{name}", level=3, paragraphs=tuple(paragraphs)))
    sections += [
        RfiSection(
            "4. 回答期限・提出方法",
            bullets=(
                f"回答期限: {_deadline(values.get('deadline'))}",
                "提出方法: 電子メール（様式は任意）",
            ),
        ),
        RfiSection("5. 留意事項", bullets=STANDARD_NOTES),
        RfiSection(
            "6. 問い合わせ先", paragraphs=(_text(values, "contact") or "（問い合わせ先）",)
        ),
    ]
    sender = " ".join(part for part in (municipality, department) if part)
    return RfiDraft(
        title=f"情報提供依頼書（案）　{business}",
        addressee=ADDRESSEE,
        issued=f"{issued_on.year}年{issued_on.month}月{issued_on.day}日",
        sender=sender,
        sections=tuple(sections),
    )


def render_markdown(draft: RfiDraft) -> str:
    """The draft as Markdown."""
    lines = [f"# {draft.title}", ""]
    if draft.addressee:
        lines += [draft.addressee, ""]
    lines.append(draft.issued + "  ")
    if draft.sender:
        lines.append(draft.sender + "  ")
    lines.append("")
    for section in draft.sections:
        lines += ["#" * section.level + " " + section.heading, ""]
        for paragraph in section.paragraphs:
            lines += [paragraph, ""]
        if section.bullets:
            lines += [f"- {bullet}" for bullet in section.bullets]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def render_docx(draft: RfiDraft, meta: DocumentMeta | None = None) -> bytes:
    """The draft as a Word document (DOCX bytes), with Japanese fonts and language.

    ``meta``: the core properties (author = the 所管課, created = now in the configured
    timezone); default: the draft's sender as author, created now (UTC).
    """
    if meta is None:
        meta = DocumentMeta(author=draft.sender, created=datetime.now(UTC))
    if not meta.title:
        meta = replace(meta, title=draft.title)
    document = japanese_document(meta)
    document.add_heading(draft.title, level=0)
    if draft.addressee:
        document.add_paragraph(draft.addressee)
    document.add_paragraph(draft.issued)
    if draft.sender:
        document.add_paragraph(draft.sender)
    for section in draft.sections:
        document.add_heading(section.heading, level=section.level - 1)
        for paragraph in section.paragraphs:
            document.add_paragraph(paragraph)
        for bullet in section.bullets:
            document.add_paragraph(bullet, style="List Bullet")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()
