"""所管課概要案（案） (a department's outline) from the ``outline`` flow's slots.

Its four headings are the items the CIO補佐 examines (木更津市 ICT活用ガイドライン
【Ⅱ. 予算】 2): 想定している業務内容 / スケジュール / 予算額（積算根拠）/ その他（個人情報保護など）.
The draft reuses the document shape of the RFI request, so the chat (Markdown) and
``soudan flow document`` (Word / Markdown) render it the same way.

Example:
    >>> draft = build_outline_draft(run.slots, issued_on=date(2027, 1, 15), department="子育て支援課")  # doctest: +SKIP
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


def _text(slots: Mapping[str, Any], name: str) -> str:
    value = slots.get(name)
    if isinstance(value, str):
        return value.strip() or "特になし"
    return NOT_ANSWERED


def _period(slots: Mapping[str, Any], name: str) -> str:
    value = slots.get(name)
    if isinstance(value, dict):
        return Period.from_dict(value).label
    return NOT_ANSWERED


def _quotes(slots: Mapping[str, Any]) -> str:
    if slots.get("reference_quotes") is not True:
        return "未徴収" if slots.get("reference_quotes") is False else NOT_ANSWERED
    vendors = slots.get("quote_vendors")
    text = f"{vendors}社から徴収" if isinstance(vendors, int | float) else "徴収済み"
    basis = slots.get("quote_basis_shown")
    if basis is True:
        text += "（積算根拠の明示あり）"
    elif basis is False:
        text += "（積算根拠の明示なし）"
    return text


def build_outline_draft(
    slots: Mapping[str, Any], *, issued_on: date, department: str = "", municipality: str = ""
) -> RfiDraft:
    """Assemble the outline from the slots of a finished ``outline`` flow.

    Args:
        slots: ``FlowRun.slots`` / ``FlowEngine.effective_slots`` of the ``outline`` flow.
        issued_on: Date printed on the draft.
        department: The 所管課.
        municipality: e.g. ``木更津市``; empty prints nothing.
    """
    amount = slots.get("budget_amount")
    budget = format_yen(int(amount)) if isinstance(amount, int | float) else NOT_ANSWERED
    personal = slots.get("personal_information")
    privacy = (
        _text(slots, "privacy_notes") if personal is True
        else "個人情報は取り扱わない" if personal is False else NOT_ANSWERED
    )
    business = _text(slots, "outline_business")
    sections = (
        RfiSection("1. 想定している業務内容", paragraphs=(business,),
                   bullets=(f"業務区分と業務量: {_text(slots, 'work_breakdown')}",)),
        RfiSection("2. スケジュール", bullets=(
            f"導入作業の開始時期: {_period(slots, 'introduction_start')}",
            f"ICT 活用の開始時期: {_period(slots, 'ict_start')}",
        )),
        RfiSection("3. 予算額（積算根拠）", bullets=(
            f"予算額: {budget}",
            f"積算根拠: {_text(slots, 'budget_basis')}",
            f"参考見積: {_quotes(slots)}",
        )),
        RfiSection("4. その他（個人情報保護など）", bullets=(
            f"個人情報保護の観点で留意すべき事項: {privacy}",
            f"その他: {_text(slots, 'other_notes')}",
        )),
    )
    short = business if len(business) <= 40 else business[:39] + "…"
    return RfiDraft(
        title=f"所管課概要案（案）　{short}",
        issued=f"{issued_on.year}年{issued_on.month}月{issued_on.day}日",
        sender=" ".join(part for part in (municipality, department) if part),
        sections=sections,
    )
