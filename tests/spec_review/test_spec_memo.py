"""The review memo: Markdown and Word, every judgement and finding with its clause;
``soudan review-spec`` writes it through the CLI's ``--out`` checks."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import docx
import pytest
from docx.oxml.ns import qn
from typer.testing import CliRunner

from bot.cli.main import app
from knowledge.spec_review import Finding, ItemJudgement, SpecReview
from knowledge.spec_review_checklist import load_checklist
from knowledge.spec_review_memo import render_docx, render_markdown
from tests.spec_review.conftest import DRAFTS

CHECKLIST = load_checklist()
DAY = date(2027, 1, 15)


def sample_review() -> SpecReview:
    items = []
    for item in CHECKLIST.items:
        if item.id == "period":
            items.append(ItemJudgement(item, "weak", "5. 実施期間", "別途協議のうえ定める。",
                                       "期間を示す日付がありません。", 0.9))
        elif item.id == "place":
            items.append(ItemJudgement(item, "missing", reason="該当する記載が見当たりません。"))
        else:
            items.append(ItemJudgement(item, "present", f"{item.number}. {item.label}", "本文", "", 0.9))
    sla = CHECKLIST.checks["sla"]
    finding = Finding(sla.id, sla.label, sla.message, sla.cites, evidence=("適切な水準を維持する。",))
    return SpecReview(name="draft.docx", method="proposal", items=tuple(items),
                      findings=(finding,), title="チャットボット導入業務委託仕様書")


def test_the_markdown_memo_lists_every_item_with_its_judgement_and_clause() -> None:
    memo = render_markdown(sample_review(), reviewed_on=DAY)
    assert memo.startswith("# 仕様書（案）レビューメモ　チャットボット導入業務委託仕様書")
    assert "2027年1月15日" in memo
    rows = [line for line in memo.splitlines() if line.startswith("| ") and "No." not in line]
    assert len(rows) == 14
    assert any("| 5 | 実施期間 | △ 記載が不十分 | 5. 実施期間：別途協議のうえ定める。" in r for r in rows)
    assert any("| 6 | 実施場所 | × 記載なし |" in r and "「6. 実施場所」" in r for r in rows)
    assert "記載あり 12・記載が不十分 1・記載なし 1" in memo
    assert "サービス水準（SLA）" in memo and "「7. 求められるサービス水準」" in memo
    assert "調達方法: 公募型プロポーザル" in memo
    assert "- 実施場所: 追記してください" in memo


def test_the_word_memo_is_japanese_with_an_east_asian_font() -> None:
    data = render_docx(sample_review(), reviewed_on=DAY)
    document = docx.Document(io.BytesIO(data))
    normal = document.styles["Normal"].element.rPr
    assert normal.find(qn("w:rFonts")).get(qn("w:eastAsia")) == "游明朝"
    assert normal.find(qn("w:lang")).get(qn("w:eastAsia")) == "ja-JP"
    table = document.tables[0]
    assert len(table.rows) == 15
    assert table.cell(6, 1).text == "実施場所" and table.cell(6, 2).text == "× 記載なし"
    text = "\n".join(p.text for p in document.paragraphs)
    assert "サービス水準（SLA）" in text and "【Ⅲ.調達】 > 1.仕様書・契約書などの作成" in text


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # no stray .env; the bundled model stays the project's
    return tmp_path


def test_review_spec_writes_the_memo_and_keeps_an_existing_file(cli_env: Path) -> None:
    out = cli_env / "memo.docx"
    result = CliRunner().invoke(app, ["review-spec", str(DRAFTS / "06_bid_unstated.docx"),
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    text = "\n".join(p.text for p in docx.Document(str(out)).paragraphs)
    assert "指名競争入札で仕様の水準が不明確" in text
    again = CliRunner().invoke(app, ["review-spec", str(DRAFTS / "06_bid_unstated.docx"),
                                     "--out", str(out)])
    assert again.exit_code == 2 and "既にあります" in again.output


def test_review_spec_refuses_an_unreadable_draft_in_japanese(cli_env: Path) -> None:
    result = CliRunner().invoke(app, ["review-spec", str(DRAFTS / "08_scanned.pdf")])
    assert result.exit_code == 1
    assert "画像だけの PDF です" in result.output and "Traceback" not in result.output
    sheet = cli_env / "仕様書.xlsx"
    sheet.write_bytes(b"PK")
    result = CliRunner().invoke(app, ["review-spec", str(sheet)])
    assert result.exit_code == 1 and "対応していない形式です" in result.output
