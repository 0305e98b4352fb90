"""The rfi flow collects the five RFI items and renders a draft 情報提供依頼書."""

from __future__ import annotations

import io
from datetime import date

import pytest
from docx import Document

from flows import FlowRun, load_flows, run_with_answers
from flows.document_parts import part_values
from flows.rfi_document import RFI_ITEMS, build_rfi_draft, render_docx, render_markdown

TODAY = date(2026, 11, 21)
ANSWERS = {
    "rfi_business": "保育所入所申請の受付・審査業務",
    "rfi_purpose": "導入できるサービスと費用の目安を把握するため",
    "ask_estimate": "イニシャルとランニング（5年間）を分けて",
    "ask_concept": "特にない",
    "ask_structure": "問い合わせ窓口の受付時間",
    "ask_preparation": "なし",
    "ask_cautions": "クラウドのデータ保管場所",
    "vendor_count": "3社",
    "answer_deadline": "2027年1月",
    "contact": "子育て支援課 保育係（内線 1234）",
}
ITEM_NAMES = [
    "見積書",
    "提案のコンセプト及び実施方法など",
    "業務実施体制",
    "事前準備など",
    "留意が必要となる事項",
]


@pytest.fixture(scope="module")
def run() -> FlowRun:
    return run_with_answers(load_flows()["rfi"], ANSWERS, TODAY)


def test_the_flow_asks_the_five_items_of_the_guideline() -> None:
    rfi = load_flows()["rfi"]
    steps = {s.slot: s for s in rfi.steps}
    assert [name for _, name, _ in RFI_ITEMS] == ITEM_NAMES
    for (part, name, _), expected in zip(RFI_ITEMS, ITEM_NAMES, strict=True):
        slot = rfi.sheet.parts[part]
        assert expected == name and name in steps[slot].prompt and steps[slot].optional


def test_run_parses_the_answers(run: FlowRun) -> None:
    assert run.slots["vendor_count"] == 3
    assert run.slots["ask_concept"] == "" and run.slots["ask_preparation"] == ""
    assert run.slots["answer_deadline"]["end"] == "2027-01-31"
    assert run.outcomes["rfi_multiple_vendors"] is False


def test_a_single_vendor_is_flagged() -> None:
    single = run_with_answers(load_flows()["rfi"], {**ANSWERS, "vendor_count": "1社"}, TODAY)
    note = next(d for d in single.decisions if d.name == "rfi_multiple_vendors")
    assert note.value and "複数の事業者" in note.statement and note.cites


def test_markdown_draft(run: FlowRun) -> None:
    sheet = {
        "business": "別の名前",
        "current_problem": "入力に時間がかかる",
        "envisaged_ict": "AI-OCR",
    }
    draft = build_rfi_draft(
        part_values(load_flows()["rfi"], run.slots),
        issued_on=TODAY,
        context=part_values(load_flows()["ict_adoption"], sheet),
        municipality="木更津市",
        department="子育て支援課",
    )
    markdown = render_markdown(draft)
    assert markdown.startswith("# 情報提供依頼書（案）　保育所入所申請の受付・審査業務\n")
    assert "木更津市 子育て支援課" in markdown and "2026年11月21日" in markdown
    positions = [markdown.index(f"（{i}）{name}") for i, name in enumerate(ITEM_NAMES, start=1)]
    assert positions == sorted(positions)
    assert "特に確認したい事項: イニシャルとランニング（5年間）を分けて" in markdown
    assert (
        markdown.count("特に確認したい事項") == 3
    )  # 「特にない」/「なし」 items get only the standard text
    assert "現状の課題: 入力に時間がかかる" in markdown and "想定している ICT: AI-OCR" in markdown
    assert "回答期限: 2027年1月31日まで" in markdown
    assert "子育て支援課 保育係（内線 1234）" in markdown


def test_business_falls_back_to_the_sheet() -> None:
    context = part_values(load_flows()["ict_adoption"], {"business": "住民票の交付"})
    draft = build_rfi_draft({}, issued_on=TODAY, context=context)
    assert draft.title.endswith("住民票の交付")
    assert "回答期限: 別途お知らせします" in render_markdown(draft)


def test_docx_draft_opens_with_the_same_content(run: FlowRun) -> None:
    draft = build_rfi_draft(
        part_values(load_flows()["rfi"], run.slots), issued_on=TODAY, department="子育て支援課"
    )
    document = Document(io.BytesIO(render_docx(draft)))
    paragraphs = [p.text for p in document.paragraphs]
    headings = [
        p.text
        for p in document.paragraphs
        if p.style is not None and p.style.name.startswith("Heading")
    ]
    assert paragraphs[0] == draft.title
    assert "3. 情報提供を依頼する事項" in headings
    assert [h for h in headings if h.startswith("（")] == [
        f"（{i}）{name}" for i, name in enumerate(ITEM_NAMES, start=1)
    ]
    assert "特に確認したい事項: クラウドのデータ保管場所" in paragraphs
    assert "回答期限: 2027年1月31日まで" in paragraphs
    bullets = [
        p.text for p in document.paragraphs if p.style is not None and p.style.name == "List Bullet"
    ]
    assert any(b.startswith("本依頼は情報収集を目的") for b in bullets)


def test_docx_core_properties_name_the_department_and_the_time_it_was_made(run: FlowRun) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from docx.oxml.ns import qn

    from storage.word import DocumentMeta

    draft = build_rfi_draft(
        part_values(load_flows()["rfi"], run.slots),
        issued_on=TODAY,
        municipality="木更津市",
        department="子育て支援課",
    )
    made = datetime(2026, 11, 21, 9, 30, tzinfo=ZoneInfo("Asia/Tokyo"))
    document = Document(io.BytesIO(render_docx(draft, DocumentMeta("子育て支援課", made))))

    properties = document.core_properties
    assert (properties.author, properties.language) == ("子育て支援課", "ja-JP")
    assert properties.created == made  # 00:30 UTC
    assert properties.title == draft.title
    fonts = document.styles["Normal"].element.rPr.find(qn("w:rFonts"))
    assert fonts.get(qn("w:eastAsia")) == "游明朝"
    paragraphs = [p.text for p in document.paragraphs]
    assert paragraphs[1] == "事業者 各位" and "木更津市 子育て支援課" in paragraphs
