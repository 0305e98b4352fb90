"""The console's draft 仕様書 review: an upload form on the sheet page, the memo page and its Word.

``POST /console/sheets/{ref}/spec-review`` takes a multipart form (``csrf`` first, then
``file``). The body is read as a stream: a request whose Content-Length is over the limit
is refused before any of it is read, a file of another type is refused by its name before
its content is read, and reading stops as soon as the limit is passed. The review is
saved on the sheet (who may see the sheet may add one; audited), then the memo page
``/console/sheets/{ref}/spec-review/{memo_id}`` shows it, with its Word file at ``.../docx``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote

from aiohttp import BodyPartReader, web

import storage
from bot.core.policy import decide, write_audit
from bot.core.spec_drafts import ReviewedDraft, keep_memo, refusal_text
from bot.downloads import too_large
from bot.review.outcomes import ReviewRefused
from bot.review.records import Actor
from bot.web.guard import same_token
from storage.console import ConsoleSession

if TYPE_CHECKING:
    from bot.web.app import Console

log = logging.getLogger(__name__)

FORM_ALLOWANCE = 64 * 1024
"""Bytes a multipart body may have beyond the file (boundaries, headers, the CSRF field)."""
_CHUNK = 64 * 1024
_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
DISABLED = "仕様書（案）のレビューはこの環境では有効になっていません。"


async def upload(request: web.Request) -> web.StreamResponse:
    """Review an uploaded draft and save the memo on the sheet; then show the memo."""
    from bot.web.app import PAGES_KEY, SESSION_COOKIE

    console: Console = request.app[PAGES_KEY]  # type: ignore[assignment]
    ref = request.match_info["ref"]
    back = f"/console/sheets/{ref}"
    session = await asyncio.to_thread(console.load_session, request)
    if session is None:
        return console.render(
            "signin_help.html", status=401, expired=bool(request.cookies.get(SESSION_COOKIE))
        )
    viewer = await asyncio.to_thread(console.pages.actor, session.actor)

    def refuse(status: int, text: str) -> web.Response:
        return console.message(status, text, viewer=viewer, session=session, back=back)

    drafts = console.drafts
    if drafts is None:
        return refuse(503, DISABLED)
    length = request.content_length
    if length is not None and length > drafts.max_bytes + FORM_ALLOWANCE:
        log.info("console upload refused by its length before reading")
        return refuse(413, refusal_text("ファイル", too_large(length, drafts.max_bytes)))
    if not request.content_type.startswith("multipart/"):
        return refuse(400, "ファイルを選んでから「レビューする」を押してください。")
    reader = await request.multipart()
    csrf: str | None = None
    name = ""
    data: bytes | None = None
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            continue
        if part.name == "csrf":
            csrf = (await part.text())[:200]
        elif part.name == "file":
            if not same_token(csrf, session.csrf_token):
                return _bad_csrf(console, viewer, session)
            name = _file_name(part.filename or "")
            if not name:
                return refuse(400, "ファイルを選んでから「レビューする」を押してください。")
            reason = drafts.refusal(name, 1)  # its type, before a byte of it is read
            if reason is not None:
                return refuse(400, refusal_text(name, reason))
            read = await _read_capped(part, drafts.max_bytes)
            if read is None:
                return refuse(
                    413, refusal_text(name, too_large(drafts.max_bytes + 1, drafts.max_bytes))
                )
            data = read
    if not same_token(csrf, session.csrf_token):
        return _bad_csrf(console, viewer, session)
    if data is None:
        return refuse(400, "ファイルを選んでから「レビューする」を押してください。")
    return await asyncio.to_thread(_review_and_save, console, viewer, session, ref, name, data)


def _file_name(sent: str) -> str:
    """The base name of the uploaded file (browsers send UTF-8; some clients percent-encode)."""
    if _PERCENT.search(sent):
        with contextlib.suppress(UnicodeDecodeError):
            sent = unquote(sent, errors="strict")
    return sent.replace("\\", "/").rsplit("/", 1)[-1].strip()


async def _read_capped(part: BodyPartReader, max_bytes: int) -> bytes | None:
    """The part's content, or None as soon as it passes ``max_bytes``."""
    data = bytearray()
    while chunk := await part.read_chunk(_CHUNK):
        data += chunk
        if len(data) > max_bytes:
            return None
    return bytes(data)


def _bad_csrf(console: Console, viewer: Actor, session: ConsoleSession) -> web.Response:
    log.info("console upload refused: missing or wrong CSRF token")
    return console.message(
        403,
        "フォームの確認用トークンが一致しません。ページを開き直してから、もう一度操作してください。",
        viewer=viewer,
        session=session,
    )


def _review_and_save(
    console: Console, viewer: Actor, session: ConsoleSession, ref: str, name: str, data: bytes
) -> web.Response:
    back = f"/console/sheets/{ref}"
    try:
        detail = console.pages.desk.show(viewer, ref)
    except ReviewRefused as refusal:
        return console.message(404, refusal.message, viewer=viewer, session=session)
    keeping = decide(viewer, "spec_memo", detail.sheet)  # the requester or a CIO補佐
    if not keeping.allowed:
        with console.database.session() as db:
            write_audit(db, viewer, "sheet.spec_memo", "denied", target=detail.sheet.id,
                        detail={"via": "console"})
        return console.message(403, keeping.reason, viewer=viewer, session=session, back=back)
    assert console.drafts is not None
    if (reason := console.drafts.refusal(name, len(data))) is not None:
        return console.message(
            400, refusal_text(name, reason), viewer=viewer, session=session, back=back
        )
    reviewed = console.drafts.review(name, data)
    if not isinstance(reviewed, ReviewedDraft):
        return console.message(
            400, refusal_text(name, reviewed), viewer=viewer, session=session, back=back
        )
    with console.database.session() as db:
        memo = keep_memo(
            db, sheet_id=detail.sheet.id, reviewed=reviewed, actor=viewer.key,
            tenant=viewer.tenant, via="console",
        )
        memo_id = memo.id
    raise web.HTTPSeeOther(f"/console/sheets/{detail.sheet.reference}/spec-review/{memo_id}")


def memo_page(
    console: Console, request: web.Request, viewer: Actor, session: ConsoleSession, form: Any
) -> web.Response:
    """The memo in full, with its Word download."""
    sheet, memo = _memo(console, viewer, request)
    return console.render(
        "spec_memo.html", viewer=viewer, session=session, nav="queue", sheet=sheet, memo=memo
    )


def memo_docx(
    console: Console, request: web.Request, viewer: Actor, session: ConsoleSession, form: Any
) -> web.Response:
    """The memo as Word (as written when the draft was reviewed)."""
    from bot.web.pages import PageError

    sheet, memo = _memo(console, viewer, request)
    if memo.docx is None:
        raise PageError(404, "このメモの Word 形式はありません。")
    response = web.Response(body=memo.docx)
    response.headers["Content-Type"] = DOCX_TYPE
    stem = memo.file_name.rsplit(".", 1)[0]
    filename = quote(f"レビューメモ_{stem}.docx")
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"spec-review-{sheet.reference}.docx\"; filename*=UTF-8''{filename}"
    )
    return response


def _memo(console: Console, viewer: Actor, request: web.Request) -> tuple[Any, Any]:
    from bot.web.pages import PageError

    try:
        detail = console.pages.desk.show(viewer, request.match_info["ref"])
    except ReviewRefused as refusal:
        raise PageError(404, refusal.message) from refusal
    with console.database.session() as db:
        memo = storage.spec_memos.get_spec_memo(session=db, memo_id=request.match_info["memo"])
        if memo is None or memo.sheet_id != detail.sheet.id:
            raise PageError(404, "このレビューメモは見つかりません。")
        db.expunge(memo)
    return detail.sheet, memo
