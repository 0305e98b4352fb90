"""Files shared in Teams, below the bot: the attachment read from an Activity, and which
download links are followed (HTTPS; plain HTTP only on loopback)."""

from __future__ import annotations

from botbuilder.schema import Activity

from bot.teams.files import allowed
from bot.teams.inbound import FILE_DOWNLOAD_INFO, to_inbound
from tests.teams.activities import message


def test_a_file_download_info_attachment_becomes_the_inbound_attachment() -> None:
    data = message("https://smba.example/", None)
    data["attachments"] = [
        {"contentType": "text/html", "content": "<p>見てください</p>"},
        {
            "contentType": FILE_DOWNLOAD_INFO,
            "name": "仕様書案.docx",
            "content": {"downloadUrl": "https://tenant.sharepoint.com/x", "fileType": "docx"},
        },
    ]
    inbound = to_inbound(Activity().deserialize(data))
    assert inbound is not None and inbound.text is None and inbound.attachment is not None
    assert (inbound.attachment.name, inbound.attachment.size, inbound.attachment.source) == (
        "仕様書案.docx",
        None,
        "https://tenant.sharepoint.com/x",
    )


def test_only_https_links_or_loopback_are_followed() -> None:
    assert allowed("https://tenant.sharepoint.com/file")
    assert allowed("http://127.0.0.1:8080/f") and allowed("http://localhost/f")
    assert not allowed("http://10.0.0.5/f") and not allowed("file:///etc/passwd")
    assert not allowed("ftp://example.org/f")
