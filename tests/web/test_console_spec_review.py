"""The console's draft 仕様書 review: the upload form on the sheet page, refusals before the
file is read (type, size), the ingest's reasons, the memo page with its Word download, and
the memo saved on the sheet (real HTTP through aiohttp's test server, the real reviewer)."""

from __future__ import annotations

import io
from pathlib import Path

import aiohttp
import docx
import pytest
from aiohttp.test_utils import TestClient, TestServer

import storage
from bot.settings import Settings
from bot.spec_drafts import draft_desk
from storage import Database
from storage.models import UserRole
from tests.spec_review.draft_files import make_scanned_pdf
from tests.web.conftest import MOMENT
from tests.web.harness import Clock, ConsoleHarness, Person, settings_for
from tests.web.http_client import hidden_fields, sign_in

pytestmark = pytest.mark.slow

DRAFTS = Path(__file__).parents[1] / "spec_review" / "drafts"
LIMIT = 200_000
REVIEWER = Person("U-cio", "CIO補佐", UserRole.REVIEWER)


@pytest.fixture
def harness(
    sqlite_database: Database, tmp_path: Path, project_settings: Settings
) -> ConsoleHarness:
    settings = settings_for(
        tmp_path, embedding_model=str(project_settings.bundled_model_dir), max_document_bytes=LIMIT
    )
    return ConsoleHarness(sqlite_database, Clock(MOMENT), settings, drafts=draft_desk(settings))


def upload_form(csrf: str | None, name: str, data: bytes) -> aiohttp.FormData:
    form = aiohttp.FormData()
    if csrf is not None:
        form.add_field("csrf", csrf)
    form.add_field("file", io.BytesIO(data), filename=name, content_type="application/octet-stream")
    return form


def saved_memos(harness: ConsoleHarness) -> list[storage.spec_memos.SpecReviewMemo]:
    with harness.database.session() as session:
        return list(
            session.exec(storage.spec_memos.select(storage.spec_memos.SpecReviewMemo)).all()
        )


async def test_a_draft_uploaded_on_the_sheet_page_is_reviewed_saved_and_downloadable(
    harness: ConsoleHarness,
) -> None:
    harness.register(REVIEWER)
    reference = harness.sheet()
    async with TestClient(TestServer(harness.app())) as client:
        await sign_in(client, harness, REVIEWER)
        page = await (await client.get(f"/console/sheets/{reference}")).text()
        assert 'enctype="multipart/form-data"' in page and "仕様書（案）のファイル" in page
        csrf = hidden_fields(page)["csrf"]
        action = f"/console/sheets/{reference}/spec-review"

        # Refused before the file's content is read: its type, its size; then bad content.
        wrong = await client.post(action, data=upload_form(csrf, "予算.xlsx", b"PK" * 100))
        assert wrong.status == 400 and "対応していない形式です" in await wrong.text()
        big = await client.post(action, data=upload_form(csrf, "big.pdf", b"x" * (LIMIT + 1)))
        assert big.status == 413 and "ファイルが大きすぎます" in await big.text()
        scanned = await client.post(action, data=upload_form(csrf, "scan.pdf", make_scanned_pdf()))
        assert scanned.status == 400
        assert "画像だけの PDF です" in await scanned.text()
        forged = await client.post(action, data=upload_form("wrong", "a.md", b"# x"))
        assert forged.status == 403
        assert saved_memos(harness) == []

        data = (DRAFTS / "04_weak_items.docx").read_bytes()
        done = await client.post(
            action, data=upload_form(csrf, "仕様書案.docx", data), allow_redirects=False
        )
        assert done.status == 303, await done.text()
        memo_path = done.headers["Location"]
        shown = await (await client.get(memo_path)).text()
        assert "仕様書（案）レビューメモ" in shown and "記載が不十分" in shown
        assert "## 2. 仕様書の主な内容の確認" in shown

        word = await client.get(memo_path + "/docx")
        assert word.status == 200
        assert word.headers["Content-Type"].startswith(
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        )
        text = "\n".join(p.text for p in docx.Document(io.BytesIO(await word.read())).paragraphs)
        assert "仕様書（案）レビューメモ" in text

        again = await (await client.get(f"/console/sheets/{reference}")).text()
        assert "仕様書案.docx" in again and memo_path in again, again[again.find("h-spec") :][:1500]

    [memo] = saved_memos(harness)
    assert (memo.file_name, memo.actor) == ("仕様書案.docx", REVIEWER.key)
    with harness.database.session() as session:
        [audit] = storage.list_audit(session=session, action="sheet.spec_memo")
    assert audit.actor == REVIEWER.key


async def test_only_the_requester_or_a_reviewer_keeps_a_memo_on_the_sheet(
    harness: ConsoleHarness,
) -> None:
    """The policy's ``spec_memo``, as in chat and the CLI: a colleague of the department
    sees the sheet but may not keep a memo on it; the refusal is audited."""
    requester = harness.register(Person("U-req", "依頼 太郎", UserRole.STAFF, "市民課"))
    colleague = harness.register(Person("U-col", "同僚 次郎", UserRole.STAFF, "市民課"))
    reference = harness.sheet(requester=requester)
    data = (DRAFTS / "04_weak_items.docx").read_bytes()
    async with TestClient(TestServer(harness.app())) as client:
        await sign_in(client, harness, colleague)
        page = await (await client.get(f"/console/sheets/{reference}")).text()
        refused = await client.post(
            f"/console/sheets/{reference}/spec-review",
            data=upload_form(hidden_fields(page)["csrf"], "仕様書案.docx", data),
            allow_redirects=False,
        )
        assert refused.status == 403
        assert "相談者本人か CIO補佐だけです" in await refused.text()
    assert saved_memos(harness) == []
    with harness.database.session() as session:
        [audit] = storage.list_audit(session=session, action="sheet.spec_memo")
    assert (audit.actor, audit.result) == (colleague.key, storage.AuditResult.DENIED)
