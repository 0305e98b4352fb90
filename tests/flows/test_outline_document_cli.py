"""``soudan flow run outline`` then ``soudan flow document`` writes the 所管課概要案（案） as Word."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from docx import Document
from typer.testing import CliRunner

from bot.cli.main import app

ANSWERS = """\
outline_business: 保育所入所申請の受付を電子申請にする
work_breakdown: 受付 年間1,200件
introduction_start: 2027年7月
ict_start: 令和10年度
budget_amount: 450万円
budget_basis: ライセンス 月5万円×12か月、初期設定120万円
reference_quotes: はい
quote_vendors: 3社
quote_basis_shown: いいえ
proposal_planned: いいえ
personal_information: いいえ
other_notes: 特にない
"""

STAFF = "cli:local:U-kosodate"
"""A 子育て支援課 member (department confirmed): may read the department's sheets."""


def register_staff(runner: CliRunner) -> None:
    added = runner.invoke(app, ["users", "add", "U-kosodate", "--channel", "cli", "--tenant",
                                "local", "--department", "子育て支援課"])
    assert added.exit_code == 0, added.output


def test_the_outline_sheet_becomes_a_word_document(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOUDAN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("SOUDAN_DATABASE_URL", raising=False)
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    register_staff(runner)
    answers = tmp_path / "answers.yaml"
    answers.write_text(ANSWERS, encoding="utf-8")
    run = runner.invoke(app, ["flow", "run", "outline", "--answers", str(answers), "--json", "--save",
                              "--department", "子育て支援課"])
    assert run.exit_code == 0, run.output
    payload = json.loads(run.output)
    assert payload["outcomes"]["quote_basis_missing"] is True
    assert payload["outcomes"]["outline_ready"] is False

    out = tmp_path / "概要案.docx"
    written = runner.invoke(app, ["flow", "document", payload["reference"], "--out", str(out),
                                  "--as", STAFF])
    assert written.exit_code == 0, written.output
    assert "所管課概要案（案）を出力しました" in written.output
    text = "\n".join(p.text for p in Document(str(out)).paragraphs)
    assert "3. 予算額（積算根拠）" in text
    assert "参考見積: 3社から徴収（積算根拠の明示なし）" in text
    assert "子育て支援課" in text


def test_the_word_document_has_japanese_core_properties_and_the_municipality(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from datetime import UTC, datetime, timedelta

    from docx.oxml.ns import qn

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOUDAN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SOUDAN_MUNICIPALITY", "木更津市")
    monkeypatch.setenv("SOUDAN_TIMEZONE", "Asia/Tokyo")
    monkeypatch.delenv("SOUDAN_DATABASE_URL", raising=False)
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    register_staff(runner)
    answers = tmp_path / "answers.yaml"
    answers.write_text(ANSWERS, encoding="utf-8")
    run = runner.invoke(app, ["flow", "run", "outline", "--answers", str(answers), "--json",
                              "--save", "--department", "子育て支援課"])
    assert run.exit_code == 0, run.output
    out = tmp_path / "概要案.docx"
    before = datetime.now(UTC).replace(microsecond=0)

    written = runner.invoke(app, ["flow", "document", json.loads(run.output)["reference"],
                                  "--out", str(out), "--as", STAFF])

    assert written.exit_code == 0, written.output
    document = Document(str(out))
    properties = document.core_properties
    assert properties.author == "子育て支援課"
    assert properties.last_modified_by == "子育て支援課"
    assert properties.language == "ja-JP"
    assert properties.title.startswith("所管課概要案（案）")
    assert properties.created is not None
    created = properties.created.replace(tzinfo=UTC)  # stored in UTC (W3CDTF "Z")
    assert before <= created <= datetime.now(UTC) + timedelta(seconds=1)
    normal = document.styles["Normal"].element.rPr
    assert normal.find(qn("w:rFonts")).get(qn("w:eastAsia")) == "游明朝"
    assert normal.find(qn("w:lang")).get(qn("w:val")) == "ja-JP"
    text = "\n".join(p.text for p in document.paragraphs)
    assert "木更津市 子育て支援課" in text


def test_someone_who_may_not_read_the_sheet_gets_no_document_and_an_audit_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from storage import Database, list_audit

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOUDAN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("SOUDAN_DATABASE_URL", raising=False)
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"]).exit_code == 0
    added = runner.invoke(app, ["users", "add", "U-zaisei", "--channel", "cli", "--tenant",
                                "local", "--department", "財政課"])
    assert added.exit_code == 0, added.output
    answers = tmp_path / "answers.yaml"
    answers.write_text(ANSWERS, encoding="utf-8")
    run = runner.invoke(app, ["flow", "run", "outline", "--answers", str(answers), "--json",
                              "--save", "--department", "子育て支援課"])
    reference = json.loads(run.output)["reference"]
    out = tmp_path / "概要案.docx"

    other = runner.invoke(app, ["flow", "document", reference, "--out", str(out),
                                "--as", "cli:local:U-zaisei"])
    missing = runner.invoke(app, ["flow", "document", "2099-9999", "--out", str(out),
                                  "--as", "cli:local:U-zaisei"])

    assert other.exit_code == 1 and "表示できません" in other.output
    assert missing.exit_code == 1 and missing.output == other.output
    assert not out.exists()
    database = Database(f"sqlite:///{tmp_path / 'data' / 'soudan.db'}")
    with database.session() as session:
        rows = list_audit(session=session, action="sheet.document")
    database.dispose()
    assert [(r.actor, r.result.value) for r in rows] == [
        ("cli:local:U-zaisei", "denied"), ("cli:local:U-zaisei", "denied"),
    ]
