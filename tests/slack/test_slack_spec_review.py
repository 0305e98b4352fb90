"""A draft 仕様書 shared in Slack: signed file-share events to the real bolt app, the file
fetched from the mock Web API (files.info + url_private with the bot token), the review
memo posted in the thread and kept on the consultation's 相談シート. Files that are too
large or of another type are refused before anything is downloaded."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

import storage
from bot.settings import Settings
from bot.wiring import Services
from tests.slack.harness import BOT_TOKEN, SlackHarness, SlackUser, StartApp, slack_settings
from tests.slack.mock_web_api import TEAM_ID, MockSlackApi
from tests.slack.slack_requests import dm, event_envelope
from tests.spec_review.draft_files import make_scanned_pdf

pytestmark = pytest.mark.slow

BuildServices = Callable[[Settings], Services]
DRAFTS = Path(__file__).parents[1] / "spec_review" / "drafts"
LIMIT = 200_000


@pytest.fixture
def services(
    tmp_path: Path, mock_api: MockSlackApi, build_real_services: BuildServices
) -> Services:
    return build_real_services(slack_settings(tmp_path, mock_api, max_document_bytes=LIMIT))


@pytest.fixture
async def slack(start_app: StartApp, services: Services) -> SlackHarness:
    return await start_app(services.settings, services)


async def share(user: SlackUser, file: dict[str, object], text: str = "") -> list[str]:
    """Share ``file`` in the user's DM thread (a ``file_share`` message); the bot's new
    messages as text."""
    before = len(user.thread())
    event = dm(text, user=user.user, channel=user.channel, thread_ts=user.root)
    event |= {"subtype": "file_share", "files": [file]}
    user.root = user.root or event["ts"]
    status, _ = await user.slack.sender.event(event_envelope(event))
    assert status == 200
    await user.slack.app.drain()
    return [m.body() for m in user.thread()[before:]]


async def test_a_draft_shared_in_the_consultation_thread_gets_the_memo_saved_on_the_sheet(
    slack: SlackHarness, mock_api: MockSlackApi, services: Services
) -> None:
    staff = SlackUser(slack, mock_api)
    await staff.say("相談を始める")
    await staff.say("市民課")
    await staff.say("窓口予約")  # Q2 is pending now
    data = (DRAFTS / "01_complete_proposal.docx").read_bytes()
    file = mock_api.share_file(
        "F100",
        "窓口予約システム仕様書案.docx",
        data,
        mimetype="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )

    shown = "\n".join(await share(staff, file))

    [info] = mock_api.of("files.info")
    assert (info.args["file"], info.token) == ("F100", BOT_TOKEN)
    assert mock_api.downloads == [("F100", f"Bearer {BOT_TOKEN}")]
    assert "窓口予約システム仕様書案.docx を仕様書（案）としてレビューしました" in shown
    assert "仕様書（案）レビューメモ" in shown
    assert "2. 仕様書の主な内容の確認" in shown and "3. 指摘事項" in shown
    assert "【Ⅲ.調達】" in shown  # the clauses the items rest on
    with services.database.session() as session:
        [sheet] = storage.list_sheets(session=session, tenant=TEAM_ID, requester_id="U100")
        [memo] = storage.spec_memos.list_spec_memos(session=session, sheet_id=sheet.id)
    assert f"相談シート {sheet.reference} に保存しました" in shown
    assert memo.file_name == "窓口予約システム仕様書案.docx"
    assert memo.markdown.startswith("# 仕様書（案）レビューメモ")
    assert memo.actor == f"slack:{TEAM_ID}:U100"
    assert memo.items and all(len(item) == 2 for item in memo.items)
    # The consultation goes on: its pending question is asked again.
    assert "相談の続きです" in shown and "Q2." in shown
    # The memo is a header block and mrkdwn sections in the thread.
    memo_message = next(m for m in staff.thread() if "レビューメモ" in m.body())
    assert memo_message.thread_ts == staff.root
    assert any(b["type"] == "header" for b in memo_message.blocks)


@pytest.mark.parametrize(
    ("name", "size", "reason"),
    [
        ("仕様書案.docx", LIMIT + 1, "ファイルが大きすぎます"),
        ("仕様書案.xlsx", 2_000, "対応していない形式です"),
    ],
)
async def test_a_file_too_large_or_of_another_type_is_refused_before_download(
    slack: SlackHarness, mock_api: MockSlackApi, name: str, size: int, reason: str
) -> None:
    staff = SlackUser(slack, mock_api)
    file = mock_api.share_file("F200", name, b"x" * size)

    shown = "\n".join(await share(staff, file))

    assert f"{name} を仕様書（案）としてレビューできません" in shown and reason in shown
    assert mock_api.of("files.info") == [] and mock_api.downloads == []


async def test_a_scanned_pdf_gets_the_clear_refusal_and_nothing_is_saved(
    slack: SlackHarness, mock_api: MockSlackApi, services: Services
) -> None:
    staff = SlackUser(slack, mock_api)
    file = mock_api.share_file("F300", "scan.pdf", make_scanned_pdf(), mimetype="application/pdf")

    shown = "\n".join(await share(staff, file, text="この仕様書を見てください"))

    assert "本文を取り出せませんでした（文字のない文書、または画像だけの PDF です）" in shown
    assert len(mock_api.downloads) == 1
    with services.database.session() as session:
        assert (
            session.exec(storage.spec_memos.select(storage.spec_memos.SpecReviewMemo)).all() == []
        )
