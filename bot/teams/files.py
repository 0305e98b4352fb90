"""Files shared in Teams: downloaded from the link the activity carries, never past the limit.

A file in a personal chat arrives as a ``file.download.info`` attachment whose
``downloadUrl`` is a short-lived, pre-authorised link; other attachments carry a
``contentUrl``. No token is sent with the request. Only HTTPS links are followed
(plain HTTP only on the loopback interface: the Bot Framework Emulator, tests).

Example:
    >>> inbound = with_download(inbound)     # doctest: +SKIP  (in the inbox's worker)
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import Callable
from dataclasses import replace
from urllib.parse import urlsplit

from bot.core.messages import AttachmentError, Inbound
from bot.downloads import DOWNLOAD_TIMEOUT_SECONDS, download

log = logging.getLogger(__name__)


def with_download(inbound: Inbound) -> Inbound:
    """The inbound with its shared file's download bound (called on the event loop)."""
    attachment = inbound.attachment
    if attachment is None:
        return inbound
    return replace(inbound, attachment=replace(attachment, fetch=fetcher(attachment.source)))


def fetcher(url: str) -> Callable[[int], bytes]:
    """``fetch(max_bytes)`` for the core, which calls it from a worker thread."""
    loop = asyncio.get_running_loop()

    def fetch(max_bytes: int) -> bytes:
        if not allowed(url):
            log.warning("shared file not downloaded: not an https link")
            raise AttachmentError("ファイルの場所を確認できなかったため、取得しませんでした。")
        coroutine = download(url, headers={}, max_bytes=max_bytes)
        return asyncio.run_coroutine_threadsafe(coroutine, loop).result(
            timeout=DOWNLOAD_TIMEOUT_SECONDS
        )

    return fetch


def allowed(url: str) -> bool:
    """HTTPS, or HTTP to a loopback address."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return True
    if parts.scheme != "http" or not parts.hostname:
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False
