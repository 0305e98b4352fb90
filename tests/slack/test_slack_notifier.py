"""SlackNotifier: posts outside a turn (review results, digest) to the mock Web API."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.core.messages import Action, Address, DeliveryError, Form, FormField, Text
from bot.slack import SlackNotifier
from tests.slack.harness import slack_settings
from tests.slack.mock_web_api import MockSlackApi


@pytest.fixture
def notifier(tmp_path: Path, mock_api: MockSlackApi) -> SlackNotifier:
    return SlackNotifier(slack_settings(tmp_path, mock_api))


async def test_posts_into_the_thread_of_the_conversation(
    notifier: SlackNotifier, mock_api: MockSlackApi
) -> None:
    address = Address("slack", "T0001", "C100:1700000000.000100", user_id="U100")

    await asyncio.to_thread(notifier.deliver, address, [Text("相談シート R-1 が受理されました。")])

    [post] = mock_api.posts()
    assert (post.args["channel"], post.args["thread_ts"]) == ("C100", "1700000000.000100")
    assert post.args["text"] == "相談シート R-1 が受理されました。"


async def test_a_user_without_a_conversation_gets_a_dm(
    notifier: SlackNotifier, mock_api: MockSlackApi
) -> None:
    form = Form("確認", (FormField("a", "A"),), Action("flow.submit", "s1"),
                reopen=Action("flow.reopen", "sheet-1"))

    await asyncio.to_thread(
        notifier.deliver, Address("slack", "T0001", "", user_id="U100"), [Text("差し戻し"), form]
    )

    assert mock_api.of("conversations.open")[0].args["users"] == "U100"
    posts = mock_api.posts()
    assert [p.args["channel"] for p in posts] == ["DU100", "DU100"]
    assert "確認画面を開く" in str(posts[1].args["blocks"])


async def test_a_429_is_waited_out_and_posted_once(
    notifier: SlackNotifier, mock_api: MockSlackApi
) -> None:
    mock_api.fail_next("chat.postMessage", status=429, retry_after=1)

    await asyncio.to_thread(
        notifier.deliver, Address("slack", "T0001", "C900"), [Text("週次ダイジェスト")]
    )

    assert [c.args["_status"] for c in mock_api.of("chat.postMessage")] == [429, 200]
    [post] = mock_api.posts()
    assert post.args.get("thread_ts") is None


async def test_a_refused_post_raises_delivery_error(
    notifier: SlackNotifier, mock_api: MockSlackApi
) -> None:
    mock_api.fail_next("chat.postMessage", status=200, error="channel_not_found")

    with pytest.raises(DeliveryError, match="channel_not_found"):
        await asyncio.to_thread(
            notifier.deliver, Address("slack", "T0001", "C404"), [Text("x")]
        )
