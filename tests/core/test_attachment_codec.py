"""An inbound with a shared file goes through the inbox's JSON without its download callable,
and the memo part comes back typed."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.core.codec import inbound_from_json, inbound_to_json, parts_from_json, parts_to_json
from bot.core.messages import Attachment, Inbound, Memo, Text


def test_an_attachment_is_stored_without_its_fetch_and_memo_parts_round_trip() -> None:
    attachment = Attachment(
        name="仕様書.docx",
        size=None,
        media_type="application/pdf",
        source="F1",
        fetch=lambda limit: b"x",
    )
    inbound = Inbound(
        channel="slack",
        tenant="T1",
        conversation="D1:1",
        user_id="U1",
        attachment=attachment,
        received_at=datetime(2026, 12, 7, tzinfo=UTC),
    )
    stored = inbound_to_json(inbound)
    assert "fetch" not in stored["attachment"]
    back = inbound_from_json(stored)
    assert back == inbound and back.attachment is not None and back.attachment.fetch is None
    parts = [Text("はい"), Memo("仕様書（案）レビューメモ　x", "**1. 概要**\n- 対象: x")]
    assert parts_from_json(parts_to_json(parts)) == parts
