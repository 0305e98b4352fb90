"""Downloading a shared file for the core, never past the size limit (Slack and Teams).

Example:
    >>> data = await download(url, headers={}, max_bytes=10_000_000)  # doctest: +SKIP
"""

from __future__ import annotations

import logging

import aiohttp

from bot.core.messages import AttachmentError

log = logging.getLogger(__name__)

DOWNLOAD_TIMEOUT_SECONDS = 120.0
_CHUNK = 64 * 1024
NOT_DOWNLOADED = "ファイルをダウンロードできませんでした。もう一度共有してください。"


def too_large(size: int, max_bytes: int) -> str:
    """The refusal of a file over the limit (as the ingest words it)."""
    return (
        f"ファイルが大きすぎます（{size:,} バイト、上限 {max_bytes:,} バイト）。"
        "分割するか SOUDAN_MAX_DOCUMENT_BYTES を見直してください。"
    )


async def download(
    url: str, *, headers: dict[str, str], max_bytes: int, refused: str = NOT_DOWNLOADED
) -> bytes:
    """The body at ``url``: refused by its Content-Length before it is read, and stopped
    as soon as more than ``max_bytes`` arrived.

    Raises:
        AttachmentError: not HTTP 200 (``refused``), an HTML page where a file was
            expected (a sign-in page), or too large.
    """
    timeout = aiohttp.ClientTimeout(total=DOWNLOAD_TIMEOUT_SECONDS)
    try:
        async with (
            aiohttp.ClientSession(timeout=timeout) as http,
            http.get(url, headers=headers) as response,
        ):
            if response.status != 200 or response.content_type == "text/html":
                log.info("shared file download failed: HTTP %s", response.status)
                raise AttachmentError(refused)
            if response.content_length is not None and response.content_length > max_bytes:
                raise AttachmentError(too_large(response.content_length, max_bytes))
            data = bytearray()
            async for chunk in response.content.iter_chunked(_CHUNK):
                data += chunk
                if len(data) > max_bytes:
                    raise AttachmentError(too_large(len(data), max_bytes))
            return bytes(data)
    except (aiohttp.ClientError, TimeoutError) as exc:
        log.info("shared file download failed: %s", type(exc).__name__)
        raise AttachmentError(refused) from None
