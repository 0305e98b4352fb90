"""Shared files in Slack, below the app: what an event says of a file, and its download with the
bot token — only from Slack's hosts or the configured API host, never past the limit."""

from __future__ import annotations

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.messages import AttachmentError
from bot.slack.files import SlackFiles, attachment_of
from bot.slack.payloads import turn_from_message
from tests.slack.harness import BOT_TOKEN
from tests.slack.mock_web_api import MockSlackApi


def test_a_file_share_event_becomes_a_turn_with_an_attachment_even_without_text() -> None:
    event = {
        "type": "message",
        "subtype": "file_share",
        "channel": "D1",
        "channel_type": "im",
        "user": "U1",
        "text": "",
        "ts": "10.1",
        "files": [
            {"id": "F1", "name": "仕様書案.pdf", "size": 2048, "mimetype": "application/pdf"}
        ],
    }
    turn = turn_from_message({"event_id": "Ev1", "event": event}, tenant="T1")
    assert turn is not None and turn.text is None
    assert turn.attachment is not None
    assert (turn.attachment.name, turn.attachment.size, turn.attachment.source) == (
        "仕様書案.pdf",
        2048,
        "F1",
    )
    inbound, _ = turn.stored()
    assert inbound.attachment == turn.attachment
    assert attachment_of({"files": [{"mode": "hidden_by_limit"}]}) is None


@pytest.fixture
async def files(mock_api: MockSlackApi) -> SlackFiles:
    return SlackFiles(AsyncWebClient(token=BOT_TOKEN, base_url=mock_api.base_url))


async def test_the_download_sends_the_token_to_the_configured_host_only(
    files: SlackFiles, mock_api: MockSlackApi
) -> None:
    mock_api.share_file("F1", "a.md", b"# draft")
    assert await files.download("F1", 1_000) == b"# draft"
    assert mock_api.downloads == [("F1", f"Bearer {BOT_TOKEN}")]

    meta, data = mock_api.files["F1"]
    mock_api.files["F2"] = (
        {
            **meta,
            "id": "F2",
            "url_private": "https://files.example.org/F2",
            "url_private_download": "https://files.example.org/F2",
        },
        data,
    )
    with pytest.raises(AttachmentError, match="取得しませんでした"):
        await files.download("F2", 1_000)
    assert len(mock_api.downloads) == 1  # nothing was requested elsewhere


async def test_a_file_larger_than_files_info_allows_is_not_downloaded(
    files: SlackFiles, mock_api: MockSlackApi
) -> None:
    mock_api.share_file("F3", "big.pdf", b"x" * 5_000)
    with pytest.raises(AttachmentError, match="ファイルが大きすぎます"):
        await files.download("F3", 1_000)
    assert mock_api.downloads == []
    with pytest.raises(AttachmentError, match="files:read"):
        await files.download("F404", 1_000)
