"""所管課概要案（案） (a department's outline) from the outline flow's answers, by document part.

Its four headings are the items the CIO補佐 examines (木更津市 ICT活用ガイドライン
【Ⅱ. 予算】 2): 想定している業務内容 / スケジュール / 予算額（積算根拠）/ その他（個人情報保護など）.
The draft reuses the document shape of the RFI request, so the chat (Markdown) and
``soudan flow document`` (Word / Markdown) render it the same way.

Example:
    >>> values = part_values(flows["outline"], run.slots)                                          # doctest: +SKIP
    >>> draft = build_outline_draft(values, issued_on=date(2027, 1, 15), department="子育て支援課")  # doctest: +SKIP
    >>> print(render_markdown(draft))                                                            # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from flows.answer_reading import format_yen
from flows.parsing.periods import Period
from flows.rfi_document import RfiDraft, RfiSection

NOT_ANSWERED = "（未記入）"


def _text(values: Mapping[str, Any], name: str) -> str:
    value = values.get(name)
    if isinstance(value, str):
        return value.strip() or "特になし"
    return NOT_ANSWERED


def _period(values: Mapping[str, Any], name: str) -> str:
    value = values.get(name)
    if isinstance(value, dict):
        return Period.from_dict(value).label
    return NOT_ANSWERED


def _quotes(values: Mapping[str, Any]) -> str:
    if values.get("quotes_taken") is not True:
        return "未徴収" if values.get("quotes_taken") is False else NOT_ANSWERED
    vendors = values.get("quote_vendors")
    text = f"{vendors}社から徴収" if isinstance(vendors, int | float) else "徴収済み"
    basis = values.get("quote_basis_shown")
    if basis is True:
        text += "（積算根拠の明示あり）"
    elif basis is False:
        text += "（積算根拠の明示なし）"
    return text


def build_outline_draft(
    values: Mapping[str, Any], *, issued_on: date, department: str = "", municipality: str = ""
) -> RfiDraft:
    """Assemble the outline from the answers of a finished outline flow.

    Args:
        values: Part name (:data:`flows.document_parts.OUTLINE_PARTS`) → answer
            (:func:`flows.document_parts.part_values` of the flow's slots).
        issued_on: Date printed on the draft.
        department: The 所管課.
        municipality: e.g. ``木更津市``; empty prints nothing.
    """
    amount = values.get("budget")
    budget = format_yen(int(amount)) if isinstance(amount, int | float) else NOT_ANSWERED
    personal = values.get("personal_information")
    privacy = (
        _text(values, "privacy_notes") if personal is True
        else "個人情報は取り扱わない" if personal is False else NOT_ANSWERED
    )
    business = _text(values, "business")
    sections = (
        RfiSection("1. 想定している業務内容", paragraphs=(business,),
                   bullets=(f"業務区分と業務量: {_text(values, 'work')}",)),
        RfiSection("2. スケジュール", bullets=(
            f"導入作業の開始時期: {_period(values, 'introduction_start')}",
            f"ICT 活用の開始時期: {_period(values, 'ict_start')}",
        )),
        RfiSection("3. 予算額（積算根拠）", bullets=(
            f"予算額: {budget}",
            f"積算根拠: {_text(values, 'budget_basis')}",
            f"参考見積: {_quotes(values)}",
        )),
        RfiSection("4. その他（個人情報保護など）", bullets=(
            f"個人情報保護の観点で留意すべき事項: {privacy}",
            f"その他: {_text(values, 'other_notes')}",
        )),
    )
    short = business if len(business) <= 40 else business[:39] + "…"
    return RfiDraft(
        title=f"所管課概要案（案）　{short}",
        issued=f"{issued_on.year}年{issued_on.month}月{issued_on.day}日",
        sender=" ".join(part for part in (municipality, department) if part),
        sections=sections,
    )
