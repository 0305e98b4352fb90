"""Factories for storage tests: plausible rows with any field overridden."""

from __future__ import annotations

from typing import Any

from storage import ConsultationSheetCreate


def section(**overrides: Any) -> dict[str, Any]:
    """A plausible section of the ICT-adoption flow, as the sheet stores it."""
    values: dict[str, Any] = {
        "flow": "ict_adoption",
        "title": "ICT 活用の検討（DX推進本部協議・RFI の要否）",
        "answers": [
            {"slot": "business", "label": "対象業務", "kind": "text",
             "value": "窓口予約受付", "text": "窓口予約受付"},
            {"slot": "current_problem", "label": "現状の課題", "kind": "text",
             "value": "電話予約が集中し待ち時間が長い", "text": "電話予約が集中し待ち時間が長い"},
            {"slot": "initial_cost", "label": "イニシャルコスト（設計額）", "kind": "money",
             "value": 4_500_000, "text": "4,500,000円（450万円）"},
            {"slot": "mandated_by_law", "label": "法令・条例・他団体からの依頼等による導入",
             "kind": "yes_no", "value": False, "text": "いいえ"},
        ],
        "decisions": [
            {
                "name": "dx_council_required",
                "label": "DX推進本部会議での協議",
                "kind": "decision",
                "value": True,
                "value_label": "必要",
                "statement": "イニシャルコストが300万円以上のため DX推進本部会議での協議が必要です。",
                "digest": True,
                "cites": [
                    {
                        "doc": "kisarazu-ict-guideline.md",
                        "title": "木更津市 ICT活用ガイドライン（案）",
                        "section": "【Ⅰ. 検討】 > 3. ICT 活用に関する協議",
                        "quote": "イニシャルコスト部分の設計額が300万円以上",
                    }
                ],
            },
            {
                "name": "rfi_recommended",
                "label": "情報提供招請（RFI）",
                "kind": "decision",
                "value": True,
                "value_label": "推奨",
                "statement": "RFI を行うことをお勧めします。",
                "digest": True,
                "cites": [],
            },
        ],
        "outcomes": {"dx_council_required": True, "rfi_recommended": True},
        "subject": "窓口予約受付",
        "cost": 4_500_000,
    }
    values.update(overrides)
    return values


def sheet_in(**overrides: Any) -> ConsultationSheetCreate:
    """A plausible 相談シート; override any field."""
    values: dict[str, Any] = {
        "channel": "slack",
        "tenant": "T1",
        "conversation": "C1:1700000000.000100",
        "requester_id": "U1",
        "requester_name": "木更津 太郎",
        "department": "市民課",
        "business": "窓口予約受付",
        "initial_cost": 4_500_000,
        "flow_id": "ict_adoption",
        "slots": {"initial_cost": 4_500_000, "mandated_by_law": False},
        "outcomes": {"dx_council_required": True, "rfi_recommended": True},
        "sections": [section()],
        "questions": [{"text": "RFI とは？", "answered": True}],
    }
    values.update(overrides)
    return ConsultationSheetCreate(**values)
