"""Factories for storage tests: plausible rows with any field overridden."""

from __future__ import annotations

from typing import Any

from storage import ConsultationSheetCreate


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
        "current_problem": "電話予約が集中し待ち時間が長い",
        "envisaged_ict": "オンライン予約システム",
        "initial_cost": 4_500_000,
        "running_cost": 600_000,
        "flow_id": "ict_adoption",
        "slots": {"initial_cost": 4_500_000, "mandated_by_law": False},
        "outcomes": {"dx_council_required": True, "rfi_recommended": True},
        "decisions": [
            {
                "name": "dx_council_required",
                "value": True,
                "statement": "イニシャルコストが300万円以上のため DX推進本部会議での協議が必要です。",
                "cites": [
                    {
                        "doc": "kisarazu-ict-guideline.md",
                        "section": "【Ⅰ. 検討】 > 3. ICT 活用に関する協議",
                        "quote": "イニシャルコスト部分の設計額が300万円以上",
                    }
                ],
            }
        ],
        "concerns": "個人情報の外部保存",
        "personal_info": "あり（氏名・電話番号）",
        "questions": [{"text": "RFI とは？", "answered": True}],
    }
    values.update(overrides)
    return ConsultationSheetCreate(**values)
