"""A draft 仕様書 shared in Teams: an Activity with a file attachment POSTed to the real
endpoint, the file downloaded from a local HTTP server (the attachment's downloadUrl or
contentUrl), the review memo sent as a card through the mock connector and kept on the
consultation's 相談シート. Another type is refused before any download; Teams reports no
size, so a file over the limit is refused by its Content-Length before it is read."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

import storage
from bot.settings import Settings
from bot.teams.inbound import FILE_DOWNLOAD_INFO
from bot.wiring import Services, build_services
from tests.teams.activities import TENANT, message
from tests.teams.connector import MockConnector
from tests.teams.fakes import GuidelineExcerpts
from tests.teams.running_bot import RunningBot, StartBot, teams_settings
from tests.teams.teams_user import TeamsUser, shown_text

pytestmark = pytest.mark.slow

DRAFTS = Path(__file__).parents[1] / "spec_review" / "drafts"
LIMIT = 200_000
USER = "aad-object-hanako"


class FileServer:
    """Files on 127.0.0.1, as Teams' download links would serve them; counts requests."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.requests: list[str] = []
        self.base_url = ""

    async def serve(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        self.requests.append(name)
        return web.Response(body=self.files[name], content_type="application/octet-stream")


@pytest.fixture
async def file_server() -> AsyncIterator[FileServer]:
    server = FileServer()
    app = web.Application()
    app.router.add_get("/download/{name}", server.serve)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    host, port = runner.addresses[0][:2]
    server.base_url = f"http://{host}:{port}/download/"
    yield server
    await runner.cleanup()


@pytest.fixture
def reviewing_services(tmp_path: Path, project_settings: Settings) -> Iterator[Services]:
    """The real system with the real draft review (the bundled model); questions faked."""
    settings = teams_settings(
        tmp_path / "data",
        embedding_model=str(project_settings.bundled_model_dir),
        max_document_bytes=LIMIT,
    )
    built = build_services(settings, knowledge=GuidelineExcerpts())  # type: ignore[arg-type]
    yield built
    built.database.dispose()


async def share(running: RunningBot, connector: MockConnector, attachment: dict[str, Any]) -> str:
    before = len(connector.messages())
    activity = message(connector.service_url)
    activity["attachments"] = [attachment]
    await running.turn(activity)
    return shown_text(connector.messages()[before:])


def download_info(server: FileServer, name: str, data: bytes) -> dict[str, Any]:
    server.files[name] = data
    return {
        "contentType": FILE_DOWNLOAD_INFO,
        "name": name,
        "content": {
            "downloadUrl": server.base_url + name,
            "uniqueId": "u-1",
            "fileType": name.rsplit(".", 1)[-1],
        },
    }


async def test_a_draft_shared_in_teams_gets_the_memo_card_saved_on_the_sheet(
    start_bot: StartBot,
    connector: MockConnector,
    reviewing_services: Services,
    file_server: FileServer,
) -> None:
    running = await start_bot(services=reviewing_services)
    hanako = TeamsUser(running, connector)
    await hanako.says("相談を始める")
    await hanako.says("市民課")
    data = (DRAFTS / "04_weak_items.docx").read_bytes()

    shown = await share(running, connector, download_info(file_server, "仕様書案.docx", data))

    assert file_server.requests == ["仕様書案.docx"]
    assert "仕様書案.docx を仕様書（案）としてレビューしました" in shown
    memo_cards = [
        card
        for call in connector.messages()
        for card in call.cards
        if any("レビューメモ" in str(e.get("text")) for e in card.get("body", []))
    ]
    assert memo_cards, shown
    [title] = [e for e in memo_cards[-1]["body"] if e.get("weight") == "Bolder"]
    assert title["text"].startswith("仕様書（案）レビューメモ")
    assert "記載が不十分" in shown and "2. 仕様書の主な内容の確認" in shown
    with reviewing_services.database.session() as session:
        [sheet] = storage.list_sheets(session=session, tenant=TENANT, requester_id=USER)
        [memo] = storage.spec_memos.list_spec_memos(session=session, sheet_id=sheet.id)
    assert f"相談シート {sheet.reference} に保存しました" in shown
    assert memo.file_name == "仕様書案.docx" and "記載が不十分" in memo.markdown
    assert "相談の続きです" in shown  # the consultation's pending question again


async def test_another_type_is_refused_before_download_and_a_large_file_by_its_length(
    start_bot: StartBot,
    connector: MockConnector,
    reviewing_services: Services,
    file_server: FileServer,
) -> None:
    running = await start_bot(services=reviewing_services)

    shown = await share(running, connector, download_info(file_server, "予算.xlsx", b"x" * 100))
    assert "予算.xlsx を仕様書（案）としてレビューできません" in shown
    assert "対応していない形式です" in shown
    assert file_server.requests == []

    file_server.files["big.pdf"] = b"%PDF" + b"x" * LIMIT
    shown = await share(
        running,
        connector,
        {
            "contentType": "application/pdf",
            "name": "big.pdf",
            "contentUrl": file_server.base_url + "big.pdf",
        },
    )
    assert "ファイルが大きすぎます" in shown
    assert file_server.requests == ["big.pdf"]
