"""Files shared in Slack: what the event says of them, and their download with the bot token.

An event's ``files`` give name, size and type, so the core can refuse a file without
downloading it (:class:`~bot.core.messages.Attachment`). The download asks
``files.info`` (scope ``files:read``) on the Web API base URL the app is configured
with, checks the size again, and fetches ``url_private_download`` with the bot token —
only from a Slack host or the configured API host, never sending the token elsewhere —
reading at most the size limit.

Example:
    >>> attachment_of({"files": [{"id": "F1", "name": "仕様書.docx", "size": 2048,
    ...                           "mimetype": "application/msword"}]}).source
    'F1'
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.core.messages import Attachment, AttachmentError
from bot.downloads import DOWNLOAD_TIMEOUT_SECONDS, download, too_large

log = logging.getLogger(__name__)

_SLACK_HOST_SUFFIXES = ("slack.com", "slack-gov.com", "slack-edge.com")


def attachment_of(event: dict[str, Any]) -> Attachment | None:
    """The first file shared with a message event (name, size and type as Slack reports them)."""
    for file in event.get("files") or []:
        if isinstance(file, dict) and file.get("id"):
            size = file.get("size")
            return Attachment(
                name=str(file.get("name") or file.get("title") or "ファイル"),
                size=int(size) if isinstance(size, int | float) else 0,
                media_type=str(file.get("mimetype") or ""),
                source=str(file["id"]),
            )
    return None


class SlackFiles:
    """Downloads shared files with the app's Web API client (its token and base URL)."""

    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client

    def fetcher(self, file_id: str) -> Callable[[int], bytes]:
        """``fetch(max_bytes)`` for the core, which calls it from a worker thread: the
        download runs on this event loop."""
        loop = asyncio.get_running_loop()

        def fetch(max_bytes: int) -> bytes:
            future = asyncio.run_coroutine_threadsafe(self.download(file_id, max_bytes), loop)
            return future.result(timeout=DOWNLOAD_TIMEOUT_SECONDS)

        return fetch

    async def download(self, file_id: str, max_bytes: int) -> bytes:
        """The file's bytes.

        Raises:
            AttachmentError: Slack does not give it, it is larger than ``max_bytes``, or
                its URL is not Slack's (a Japanese reason).
        """
        try:
            info = await self._client.files_info(file=file_id)
        except SlackApiError as exc:
            log.info("files.info failed: %s", exc.response.get("error"))
            raise AttachmentError(
                "Slack からファイルの情報を取得できませんでした（アプリの files:read 権限を確認してください）。"
            ) from None
        file = info.get("file") or {}
        size = file.get("size")
        if isinstance(size, int) and size > max_bytes:
            raise AttachmentError(too_large(size, max_bytes))
        url = file.get("url_private_download") or file.get("url_private")
        if not isinstance(url, str) or not self._trusted(url):
            log.warning("shared file not downloaded: its URL is not on a Slack host")
            raise AttachmentError("ファイルの場所を確認できなかったため、取得しませんでした。")
        headers = {"Authorization": f"Bearer {self._client.token or ''}"}
        # Slack answers a request it does not authorise with its sign-in page.
        return await download(
            url,
            headers=headers,
            max_bytes=max_bytes,
            refused=(
                "ファイルをダウンロードできませんでした（アプリの files:read 権限を確認してください）。"
            ),
        )

    def _trusted(self, url: str) -> bool:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        api_host = (urlsplit(self._client.base_url).hostname or "").lower()
        if host and host == api_host:
            return True
        return parts.scheme == "https" and any(
            host == suffix or host.endswith("." + suffix) for suffix in _SLACK_HOST_SUFFIXES
        )
