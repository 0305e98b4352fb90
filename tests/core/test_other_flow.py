"""Another municipality's flow file, and no Python change: its answers and decision
reach review, the exports and the digest; a cancelled consultation counts nowhere."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

import storage
from bot.cli.main import app
from bot.wiring import Services
from tests.core.conversation import Conversation

OTHER_FLOWS = Path(__file__).parent / "other_flows"


@pytest.fixture
def services(make_services: Callable[..., Services]) -> Services:
    return make_services(flows_dir=OTHER_FLOWS)


def run(*args: str) -> str:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


def test_a_new_flow_file_shows_in_review_export_and_digest(
    services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    talk = Conversation(services.assistant)
    talk.say("相談を始める")
    assert "「事務機器の購入相談」の相談を始めます" in talk.text
    talk.say("総務課")
    talk.say("複合機の入れ替え")
    talk.say("150万円")
    assert "課長決裁が必要です" in talk.text
    talk.click("この内容で確定する")
    assert "CIO補佐に提出しました" in talk.text

    # A second consultation, cancelled: 取消, in no count of the digest.
    other = Conversation(services.assistant, conversation="thread-2")
    other.say("相談を始める")
    other.say("シュレッダー")
    other.say("900万円")
    other.say("やめる")
    assert "取り消しました" in other.text

    with services.database.session() as session:
        storage.upsert_user_profile(
            session=session, channel="terminal", tenant=talk.tenant, user_id="U-cio",
            display_name="補佐 一郎", role=storage.UserRole.REVIEWER,
        )
        sheets = {s.business: s for s in storage.list_sheets(session=session)}
    assert sheets["シュレッダー"].status == storage.SheetStatus.CANCELLED
    submitted = sheets["複合機の入れ替え"]
    assert submitted.initial_cost == 1_500_000  # the flow file's sheet.cost
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SOUDAN_DATABASE_URL", services.settings.effective_database_url)
    reviewer = f"terminal:{talk.tenant}:U-cio"

    shown = run("review", "show", submitted.reference, "--as", reviewer)
    assert "購入する機器: 複合機の入れ替え" in shown
    assert "購入価格: 1,500,000円（150万円）" in shown
    assert "課長決裁: 要" in shown
    assert "equipment" not in shown and "manager_approval" not in shown

    out = tmp_path / "sheets.csv"
    run("review", "export", "--as", reviewer, "--format", "csv", "--out", str(out))
    rows = list(csv.reader(io.StringIO(out.read_bytes().decode("utf-8-sig"))))
    records = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    record = next(r for r in records if r["整理番号"] == submitted.reference)
    assert record["購入する機器"] == "複合機の入れ替え"
    assert record["購入価格"] == "1500000"
    assert record["課長決裁"] == "要"
    assert record["相談の種類"] == "事務機器の購入相談"

    digest = run("digest", "--as", reviewer, "--format", "md")
    new_section = digest.split("## 新規")[1].split("##")[0]
    assert submitted.reference in new_section
    assert "シュレッダー" not in digest
    assert "## 課長決裁が要（1件）" in digest
    assert "- 合計: 150万円" in digest  # the cancelled 900万円 is not counted
