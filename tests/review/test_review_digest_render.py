"""The digest as xlsx, CSV, JSON and Markdown: open the files and check the cells."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from openpyxl import load_workbook

from bot.core.links import sheet_link
from bot.core.messages import Address, Text
from bot.review.digest import Digest, build_digest
from bot.review.digest_render import (
    render,
    render_chat,
    render_csv,
    render_markdown,
    render_xlsx,
)
from bot.review.records import QuestionRecord
from bot.review.weeks import IsoWeek
from storage.lifecycle import SheetStatus
from storage.models import ConsultationSheet, SheetTransition
from tests.review.review_fakes import outcome_sections

JST = timezone(timedelta(hours=9))
W47 = IsoWeek(2026, 47)


def at(day: int, hour: int) -> datetime:
    return datetime(2026, 11, day, hour, tzinfo=JST).astimezone(UTC)


SLACK_SHEET = ConsultationSheet(
    id="s1", reference="2026-0001", tenant="T1", department="市民課",
    business="窓口予約システム", status=SheetStatus.SUBMITTED, created_at=at(17, 9),
    initial_cost=4_500_000, submitted_at=at(17, 10),
    sections=outcome_sections({"dx_council_required": True, "rfi_recommended": False}),
    channel="slack", conversation="C01:1700000000.000100", requester_id="U1",
)
HISTORY = {"s1": [SheetTransition(sheet_id="s1", from_status=SheetStatus.DRAFT,
                                  to_status=SheetStatus.SUBMITTED, at=at(17, 10))]}
TEAMS_SHEET = ConsultationSheet(
    id="s2", reference="2026-0002", tenant="T1", department="税務課",
    business="課税台帳", status=SheetStatus.DRAFT, created_at=at(18, 9), initial_cost=15_000_000,
    channel="teams", conversation="19:abc@thread.tacv2;messageid=1700", requester_id="U2",
)


@pytest.fixture
def digest() -> Digest:
    questions = [
        QuestionRecord("クラウドの基準は？", at(19, 9), answered=False, tenant="T1"),
        QuestionRecord("クラウドの基準は？", at(20, 9), answered=False, tenant="T1"),
        QuestionRecord("RFI とは？", at(20, 9), answered=True, tenant="T1"),
        QuestionRecord("=1+1", at(21, 9), answered=False, tenant="T1"),  # typed by a user
    ]
    return build_digest(W47, "T1", [SLACK_SHEET, TEAMS_SHEET], questions, now=at(25, 9),
                        history=HISTORY)


def test_xlsx_has_a_worksheet_per_section_with_japanese_headers(digest: Digest) -> None:
    workbook = load_workbook(io.BytesIO(render_xlsx(digest)))
    assert workbook.sheetnames == [
        # An outcome group (from the flow's sheet.digest) appears when a sheet is in it.
        "概要", "新規", "提出", "差し戻し", "受理", "未完了（確認待ち）",
        "DX推進本部会議での協議が必要", "部署別件数", "状態別件数", "イニシャルコスト帯", "7日超の確認待ち",
        "回答できなかった質問",
    ]
    new = workbook["新規"]
    assert [c.value for c in new[1]] == [
        "整理番号", "部署", "対象業務", "イニシャルコスト（円）", "状態", "詳細（CLI）", "リンク",
    ]
    assert [c.value for c in new[2]][:5] == ["2026-0001", "市民課", "窓口予約システム",
                                              4_500_000, "提出済み"]
    assert new["F2"].value == "soudan review show 2026-0001"
    assert new["G2"].value == "https://app.slack.com/client/T1/C01/thread/C01-1700000000.000100"
    assert new["B3"].value == "税務課"
    # Widths follow the content (full-width characters count double).
    assert new.column_dimensions["C"].width >= len("窓口予約システム") * 2
    assert new.column_dimensions["G"].width > new.column_dimensions["A"].width
    assert new["A1"].font.bold and new.freeze_panes == "A2"
    assert new["D2"].number_format == "#,##0"
    bands = workbook["イニシャルコスト帯"]
    assert [[c.value for c in row] for row in bands.iter_rows(min_row=2)] == [
        ["300万円未満", 0, 0],
        ["300万円以上1000万円未満", 1, 4_500_000],
        ["1000万円以上", 1, 15_000_000],
        ["未記入", 0, 0],
        ["合計", 2, 19_500_000],
    ]
    gaps = workbook["回答できなかった質問"]
    assert [c.value for c in gaps[2]] == ["クラウドの基準は？", 2]
    assert [c.value for c in gaps[3]] == ["=1+1", 1]
    assert gaps["A3"].data_type == "s"  # user text is never a formula
    assert [c.value for c in gaps[4]] == ["合計", 3]


def test_csv_is_utf8_with_bom_and_opens_as_tables(digest: Digest) -> None:
    data = render_csv(digest)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0] == ["【概要】"]
    assert rows[1] == ["項目", "値"]
    assert ["対象週", "2026-W47"] in rows
    start = rows.index(["【新規】"])
    assert rows[start + 1][0] == "整理番号"
    assert rows[start + 2][:5] == ["2026-0001", "市民課", "窓口予約システム", "4500000", "提出済み"]
    assert rows[start + 3][6].startswith("https://teams.microsoft.com/l/message/")
    assert rows[-2] == ["'=1+1", "1"]  # neutralised for Excel
    assert rows[-1] == ["合計", "3"]


def test_json_and_markdown(digest: Digest) -> None:
    data = json.loads(render(digest, "json"))
    assert data["week"] == "2026-W47"
    assert data["groups"] == [{"title": "DX推進本部会議での協議が必要", "sheets": [
        next(s for s in data["new"] if s["reference"] == "2026-0001")
    ]}]
    assert data["unanswered_questions"] == [
        {"text": "クラウドの基準は？", "count": 2}, {"text": "=1+1", "count": 1},
    ]
    text = render_markdown(digest)
    assert text.startswith(
        "# 週次相談ダイジェスト 2026-W47\n期間: 2026-11-16（月）〜 2026-11-22（日）"
    )
    assert "**2026-0001** 市民課「窓口予約システム」 イニシャルコスト 450万円（提出済み）" in text
    assert "`soudan review show 2026-0002`" in text
    assert "- クラウドの基準は？（2件）" in text
    assert "ガイドラインで回答できなかった質問（3件 / 質問 4件）" in text
    with pytest.raises(ValueError, match="形式"):
        render(digest, "pdf")


def test_links_per_channel() -> None:
    assert sheet_link("R", Address("slack", "T1", "C1")).url == "https://app.slack.com/client/T1/C1"
    teams = sheet_link("R", Address("teams", "tid", "19:abc@thread.tacv2;messageid=1700")).url
    assert teams == (
        "https://teams.microsoft.com/l/message/19%3Aabc%40thread.tacv2/1700"
        "?tenantId=tid&parentMessageId=1700"
    )
    chat = sheet_link("R", Address("teams", "tid", "19:meeting_x@thread.v2")).url
    assert chat == "https://teams.microsoft.com/l/chat/19%3Ameeting_x%40thread.v2/conversations?tenantId=tid"
    assert sheet_link("R", Address("teams", "tid", "a:1personal")).url is None
    assert sheet_link("R", Address("terminal", "local", "c1")).url is None
    assert sheet_link("R", None).cli == "soudan review show R"


def test_chat_digest_caps_each_section_and_uses_plain_links() -> None:
    sheets = [
        ConsultationSheet(
            id=f"s{n}", reference=f"2026-{n:04d}", tenant="T1", department="市民課",
            business=f"業務{n}", status=SheetStatus.DRAFT, created_at=at(18, 9),
            channel="slack", conversation=f"C1:17000000{n:02d}.0001", requester_id="U1",
        )
        for n in range(12)
    ]
    (part,) = render_chat(build_digest(W47, "T1", sheets, [], now=at(25, 9)))
    assert isinstance(part, Text)
    section = part.text.split("## 新規（12件）\n")[1].split("\n\n")[0].splitlines()
    assert len(section) == 11
    assert section[0].startswith("- **2026-0000**")
    assert "https://app.slack.com/client/T1/C1/thread/C1-1700000000.0001 /" in section[0]
    assert "[開く]" not in part.text
    assert section[-1].startswith("- ほか 2 件（全件: `soudan digest --week 2026-W47")
