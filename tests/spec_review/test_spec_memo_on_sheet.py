"""The review memo kept on a 相談シート: ``soudan review-spec FILE --sheet REFERENCE`` saves it,
``soudan review show`` lists the judgements (``--memo``: the whole memo), the exports carry it."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

import storage
from bot.cli.main import app
from bot.wiring import Services
from tests.core.conversation import Conversation

DRAFTS = Path(__file__).with_name("drafts")


@pytest.fixture
def services(make_services: Callable[..., Services]) -> Services:
    return make_services()


def test_review_spec_with_sheet_saves_the_memo_shown_by_review_show_and_exported(
    services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    talk = Conversation(services.assistant)
    talk.say("相談を始める")
    talk.say("子育て支援課")
    talk.say("保育所入所申請の受付・審査")
    with services.database.session() as session:
        [sheet] = storage.list_sheets(session=session)
        storage.upsert_user_profile(
            session=session,
            channel="terminal",
            tenant=talk.tenant,
            user_id="U-cio",
            display_name="補佐 一郎",
            role=storage.UserRole.REVIEWER,
        )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOUDAN_DATABASE_URL", services.settings.effective_database_url)
    runner = CliRunner()

    reviewer = f"terminal:{talk.tenant}:U-cio"
    draft = str(DRAFTS / "04_weak_items.docx")
    missing = runner.invoke(app, ["review-spec", draft, "--sheet", "2099-9999", "--as", reviewer])
    assert missing.exit_code == 1 and "2099-9999" in missing.output
    nobody = runner.invoke(app, ["review-spec", draft, "--sheet", sheet.reference])
    assert nobody.exit_code == 2 and "--as" in nobody.output

    done = runner.invoke(app, ["review-spec", draft, "--sheet", sheet.reference, "--as", reviewer])
    assert done.exit_code == 0, done.output
    assert f"レビューメモを相談シート {sheet.reference} に保存しました" in done.output
    assert done.output.count("# 仕様書（案）レビューメモ") == 1  # still printed as before

    shown = runner.invoke(app, ["review", "show", sheet.reference, "--as", reviewer])
    assert shown.exit_code == 0, shown.output
    assert "仕様書（案）レビューメモ:" in shown.output
    assert "04_weak_items.docx: ガイドラインが示す仕様書の主な内容" in shown.output
    assert "業務の対象: 記載あり" in shown.output and "記載が不十分" in shown.output
    assert "## 3. 指摘事項" not in shown.output
    whole = runner.invoke(app, ["review", "show", sheet.reference, "--as", reviewer, "--memo"])
    assert "## 3. 指摘事項" in whole.output

    out = tmp_path / "sheets.json"
    exported = runner.invoke(
        app, ["review", "export", "--as", reviewer, "--format", "json", "--out", str(out)]
    )
    assert exported.exit_code == 0, exported.output
    [document] = json.loads(out.read_text(encoding="utf-8"))
    [memo] = document["spec_memos"]
    assert memo["file_name"] == "04_weak_items.docx"
    assert memo["markdown"].startswith("# 仕様書（案）レビューメモ")
    assert ["業務の対象", "記載あり"] in memo["items"]

    out_csv = tmp_path / "sheets.csv"
    runner.invoke(
        app, ["review", "export", "--as", reviewer, "--format", "csv", "--out", str(out_csv)]
    )
    [row] = list(csv.DictReader(io.StringIO(out_csv.read_text(encoding="utf-8-sig"))))
    assert row["仕様書（案）レビュー"].endswith(memo["summary"])
    assert "04_weak_items.docx" in row["仕様書（案）レビュー"]

    with services.database.session() as session:
        refused, audit = storage.list_audit(session=session, action="sheet.spec_memo")
    # The missing sheet's refusal is audited too, as the --as user's.
    assert (refused.actor, refused.result, refused.target) == (
        reviewer, storage.AuditResult.DENIED, None
    )
    assert (audit.actor, audit.result, audit.target) == (
        reviewer, storage.AuditResult.ALLOWED, sheet.id
    )
    assert audit.detail == {"via": "cli"}


def test_review_spec_keeps_the_memo_only_for_the_requester_or_a_reviewer(
    services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The policy decides (``spec_memo``), before the review runs; a refusal is audited."""
    talk = Conversation(services.assistant)
    talk.say("相談を始める")
    talk.say("子育て支援課")
    with services.database.session() as session:
        [sheet] = storage.list_sheets(session=session)
        storage.upsert_user_profile(
            session=session, channel="terminal", tenant=talk.tenant, user_id="U-other",
            role=storage.UserRole.STAFF,
        )
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOUDAN_DATABASE_URL", services.settings.effective_database_url)
    draft = str(DRAFTS / "04_weak_items.docx")
    runner = CliRunner()

    other = runner.invoke(app, ["review-spec", draft, "--sheet", sheet.reference,
                                "--as", f"terminal:{talk.tenant}:U-other"])
    assert other.exit_code == 1
    assert "相談者本人か CIO補佐だけです" in other.output
    unknown = runner.invoke(app, ["review-spec", draft, "--sheet", sheet.reference,
                                  "--as", "U-nobody"])
    assert unknown.exit_code == 1 and "登録されていません" in unknown.output

    requester = f"terminal:{talk.tenant}:{talk.user_id}"
    mine = runner.invoke(app, ["review-spec", draft, "--sheet", sheet.reference,
                               "--as", requester])
    assert mine.exit_code == 0, mine.output

    with services.database.session() as session:
        rows = storage.list_audit(session=session, action="sheet.spec_memo")
        assert [(r.actor, r.result) for r in rows] == [
            (f"terminal:{talk.tenant}:U-other", storage.AuditResult.DENIED),
            (requester, storage.AuditResult.ALLOWED),
        ]
        assert len(storage.spec_memos.list_spec_memos(session=session, sheet_id=sheet.id)) == 1
