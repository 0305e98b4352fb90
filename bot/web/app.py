"""The console as an aiohttp sub-application mounted at ``/console``.

Routes (GET unless noted):
    ``/console/``                        home: the queue (CIO補佐) or 自分の相談; sign-in help
    ``/console/sign-in?t=…``             the sign-in page of a chat-issued link
    ``POST /console/sign-in``            redeem the link (single use), open a session
    ``POST /console/sign-out``           revoke the session
    ``/console/queue``                   レビュー一覧 (filters, sort, pages)
    ``/console/sheets/{ref}``            相談シート
    ``POST /console/sheets/{ref}/{verb}`` comment / start / return / accept / close
    ``/console/digest?week=``            週次ダイジェスト; ``/console/digest/download?week=&format=``
    ``/console/unanswered?week=``        回答できなかった質問
    ``/console/mine``                    自分の相談
    ``/console/static/…``                the stylesheet (vendored, no CDN)

Database work runs in a worker thread (``asyncio.to_thread``) so the event loop keeps
serving Slack and Teams.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta, tzinfo
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup, escape

from bot.core.messages import CitationList, SheetSummary, Text
from bot.core.policy import decide
from bot.core.spec_drafts import DraftReviewPort
from bot.review.records import Actor
from bot.review.weeks import TOKYO
from bot.web import spec_upload
from bot.web.guard import (
    COOKIE_PATH,
    PRE_SIGN_IN_COOKIE,
    SESSION_COOKIE,
    RateLimiter,
    new_secret,
    same_token,
    security_headers,
    served_over_https,
    set_cookie,
)
from bot.web.oidc import OidcClient, OidcConfig, OidcError, pack, unpack
from bot.web.pages import (
    DONE_MESSAGES,
    ConsolePages,
    PageError,
    local_time,
    notification_notice,
    role_label,
)
from bot.web.signin import SignInLinks
from storage.console import ConsoleSession, find_session, open_session, revoke_session
from storage.lifecycle import EDITABLE_STATUSES, SheetStatus

if TYPE_CHECKING:
    from bot.review.desk import ReviewDesk
    from bot.settings import Settings
    from storage import Database

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
PAGES_KEY = web.AppKey("console_pages", object)
MAX_TEXT = 4000
VERBS = ("comment", "start", "return", "accept", "close")
_BOLD = re.compile(r"\*\*(.+?)\*\*")
OIDC_COOKIE = "soudan_console_oidc"
OIDC_FAILED = (
    "組織のアカウントでのサインインを完了できませんでした。もう一度お試しいただくか、"
    "チャットで「管理画面」と送ってサインイン用リンクを使ってください。"
)
OIDC_UNAVAILABLE = (
    "組織のアカウントでのサインインは、いま利用できません。"
    "チャットで「管理画面」と送ってサインイン用リンクを使ってください。"
)


def _part_kind(part: object) -> str:
    if isinstance(part, SheetSummary):
        return "summary"
    if isinstance(part, CitationList):
        return "citations"
    if isinstance(part, Text):
        return "text"
    return "other"


def _simple_markdown(text: str) -> Markup:
    """Escaped text with **bold** and line breaks (what :class:`Text` parts use)."""
    escaped = str(escape(text))
    return Markup(_BOLD.sub(r"<strong>\1</strong>", escaped).replace("\n", "<br>"))


def build_templates(zone: tzinfo = TOKYO) -> Environment:
    environment = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["kind"] = _part_kind
    environment.filters["md"] = _simple_markdown
    environment.filters["local"] = partial(local_time, zone=zone)
    environment.filters["yen"] = lambda v: "未記入" if v is None else f"{v:,}円"
    # Templates compare statuses through the enum, never as string literals.
    environment.globals["SheetStatus"] = SheetStatus
    environment.globals["EDITABLE_STATUSES"] = EDITABLE_STATUSES
    return environment


class Console:
    """The console's state: pages, templates, sign-in links, sessions, rate limit."""

    def __init__(
        self,
        *,
        settings: Settings,
        database: Database,
        desk: ReviewDesk,
        links: SignInLinks,
        titles: Mapping[str, str],
        flows: Mapping[str, Any],
        drafts: DraftReviewPort | None = None,
    ) -> None:
        """``drafts``: reviews a draft 仕様書 uploaded on a sheet page (None: no upload form)."""
        self.settings = settings
        self.drafts = drafts
        self.database = database
        self.links = links
        self.pages = ConsolePages(desk, titles=titles, flows=flows)
        self.templates = build_templates(desk.zone)
        self.limiter = RateLimiter(settings.console_sign_in_per_minute)
        self.now = desk.now
        self.oidc: OidcClient | None = None
        if settings.console_oidc_configured:
            secret = settings.console_oidc_client_secret
            self.oidc = OidcClient(OidcConfig(
                issuer=str(settings.console_oidc_issuer),
                client_id=settings.console_oidc_client_id,
                client_secret=secret.get_secret_value() if secret else None,
                redirect_uri=f"{settings.console_url}/console/oidc/callback",
                channel=settings.console_oidc_channel,
                tenant_claim=settings.console_oidc_tenant_claim,
                user_claim=settings.console_oidc_user_claim,
            ))

    # --- rendering -----------------------------------------------------------------------

    def render(
        self, name: str, *, status: int = 200, viewer: Actor | None = None,
        session: ConsoleSession | None = None, **values: Any,
    ) -> web.Response:
        template = self.templates.get_template(name)
        body = template.render(
            viewer=viewer, role=role_label(viewer) if viewer else "", oidc=self.oidc is not None,
            csrf=session.csrf_token if session else "", **values,
        )
        return web.Response(text=body, status=status, content_type="text/html", charset="utf-8")

    def message(self, status: int, text: str, *, viewer: Actor | None = None,
                session: ConsoleSession | None = None, back: str | None = None) -> web.Response:
        titles = {400: "入力を確認してください", 401: "サインインしてください",
                  403: "この操作はできません", 404: "ページが見つかりません",
                  409: "操作できませんでした", 413: "ファイルが大きすぎます",
                  429: "しばらくお待ちください",
                  503: "ただいま利用できません"}
        return self.render("message.html", status=status, viewer=viewer, session=session,
                           title=titles.get(status, "エラー"), text=text, back=back)

    # --- sessions --------------------------------------------------------------------------

    def load_session(self, request: web.Request) -> ConsoleSession | None:
        cookie = request.cookies.get(SESSION_COOKIE)
        if not cookie:
            return None
        with self.database.session() as session:
            return find_session(
                session=session, cookie_value=cookie,
                idle_limit_seconds=self.settings.console_idle_minutes * 60, now=self.now(),
            )

    def secure(self, request: web.Request) -> bool:
        return served_over_https(request, self.settings.console_url)


# --- handlers -------------------------------------------------------------------------------

Page = Callable[[Console, web.Request, Actor, ConsoleSession, Mapping[str, str]], web.Response]


def _signed_in(page: Page) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """Wrap a page: read the form, then in a thread load the session, check CSRF, run."""

    async def handler(request: web.Request) -> web.StreamResponse:
        console: Console = request.app[PAGES_KEY]  # type: ignore[assignment]
        form: Mapping[str, str] = {}
        if request.method == "POST":
            posted = await request.post()
            form = {k: str(v) for k, v in posted.items() if isinstance(v, str)}
        return await asyncio.to_thread(_run_page, console, page, request, form)

    return handler


def _run_page(
    console: Console, page: Page, request: web.Request, form: Mapping[str, str]
) -> web.Response:
    session = console.load_session(request)
    if session is None:
        return console.render("signin_help.html", status=401, expired=bool(
            request.cookies.get(SESSION_COOKIE)))
    viewer = console.pages.actor(session.actor)
    if request.method == "POST" and not same_token(form.get("csrf"), session.csrf_token):
        log.info("console form refused: missing or wrong CSRF token")
        return console.message(
            403, "フォームの確認用トークンが一致しません。ページを開き直してから、もう一度操作してください。",
            viewer=viewer, session=session,
        )
    try:
        return page(console, request, viewer, session, form)
    except PageError as error:
        ref = request.match_info.get("ref")
        back = (f"/console/sheets/{ref}"
                if ref and request.method == "POST" and error.status != 404 else None)
        return console.message(error.status, error.message, viewer=viewer, session=session,
                               back=back)


def home(console: Console, request: web.Request, viewer: Actor, session: ConsoleSession,
         form: Mapping[str, str]) -> web.Response:
    raise web.HTTPSeeOther(console.pages.home_path(viewer))


def queue(console: Console, request: web.Request, viewer: Actor, session: ConsoleSession,
          form: Mapping[str, str]) -> web.Response:
    query = console.pages.queue_query(request.query)
    data = console.pages.queue(viewer, query)
    return console.render("queue.html", viewer=viewer, session=session, nav="queue", **data)


def sheet(console: Console, request: web.Request, viewer: Actor, session: ConsoleSession,
          form: Mapping[str, str]) -> web.Response:
    data = console.pages.sheet(viewer, request.match_info["ref"])
    done = DONE_MESSAGES.get(request.query.get("done", ""))
    if done:
        done = f"{done}{notification_notice(request.query.get('n'))}"
    return console.render("sheet.html", viewer=viewer, session=session, nav="queue",
                          done=done, spec_review=console.drafts is not None,
                          max_size=_max_size(console), **data)


def _max_size(console: Console) -> str:
    """The upload limit for people: 「20 MB」, 「195 KB」."""
    size = console.drafts.max_bytes if console.drafts is not None else 0
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.0f} MB"
    return f"{size // 1024:,} KB"


def sheet_action(console: Console, request: web.Request, viewer: Actor, session: ConsoleSession,
                 form: Mapping[str, str]) -> web.Response:
    verb = request.match_info["verb"]
    if verb not in VERBS:
        raise PageError(404, "このページはありません。")
    text = form.get("text", "")[:MAX_TEXT]
    reference, notified = console.pages.act(viewer, request.match_info["ref"], verb, text)
    told = f"&n={notified}" if notified != "none" else ""
    raise web.HTTPSeeOther(f"/console/sheets/{reference}?done={verb}{told}")


def digest(console: Console, request: web.Request, viewer: Actor, session: ConsoleSession,
           form: Mapping[str, str]) -> web.Response:
    week = console.pages.week(request.query.get("week"))
    data = console.pages.digest(viewer, week)
    return console.render("digest.html", viewer=viewer, session=session, nav="digest", **data)


def digest_download(console: Console, request: web.Request, viewer: Actor,
                    session: ConsoleSession, form: Mapping[str, str]) -> web.Response:
    week = console.pages.week(request.query.get("week"))
    fmt = request.query.get("format", "")
    data = console.pages.digest_file(viewer, week, fmt)
    types = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
             "csv": "text/csv; charset=utf-8", "md": "text/markdown; charset=utf-8"}
    response = web.Response(body=data)
    response.headers["Content-Type"] = types[fmt]
    response.headers["Content-Disposition"] = f'attachment; filename="digest-{week}.{fmt}"'
    return response


def unanswered(console: Console, request: web.Request, viewer: Actor, session: ConsoleSession,
               form: Mapping[str, str]) -> web.Response:
    week = console.pages.week(request.query.get("week"))
    data = console.pages.unanswered(viewer, week)
    return console.render("unanswered.html", viewer=viewer, session=session,
                          nav="unanswered", **data)


def mine(console: Console, request: web.Request, viewer: Actor, session: ConsoleSession,
         form: Mapping[str, str]) -> web.Response:
    try:
        page = max(1, int(request.query.get("page", "1")))
    except ValueError:
        page = 1
    data = console.pages.mine(viewer, page)
    return console.render("mine.html", viewer=viewer, session=session, nav="mine", **data)


def sign_out(console: Console, request: web.Request, viewer: Actor, session: ConsoleSession,
             form: Mapping[str, str]) -> web.Response:
    with console.database.session() as db:
        revoke_session(session=db, cookie_value=request.cookies.get(SESSION_COOKIE, ""),
                       now=console.now())
    console.pages.desk.gate.record(viewer, "console.sign_out", viewer.key, "allowed")
    response = console.render("signin_help.html", signed_out=True)
    response.del_cookie(SESSION_COOKIE, path=COOKIE_PATH)
    return response


# --- sign-in ---------------------------------------------------------------------------------


def _client(request: web.Request) -> str:
    return request.remote or "unknown"


async def sign_in_page(request: web.Request) -> web.StreamResponse:
    """The page a chat link opens: one button (a link preview fetches only this)."""
    console: Console = request.app[PAGES_KEY]  # type: ignore[assignment]
    if not console.limiter.allow(_client(request)):
        return console.message(429, "サインインの試行が多すぎます。1分ほど待ってからもう一度お試しください。")
    token = request.query.get("t", "")
    checked = console.links.verify(token) if token else None
    if checked is None:
        return console.render("signin_help.html", status=400, invalid=True)
    person = await asyncio.to_thread(console.pages.actor, checked[1])
    pre = new_secret()
    response = console.render("signin.html", token=token, pre=pre,
                              person=person.display_name or person.user_id)
    set_cookie(response, PRE_SIGN_IN_COOKIE, pre, secure=console.secure(request), max_age=900,
               same_site="Strict")
    return response


async def sign_in(request: web.Request) -> web.StreamResponse:
    """Redeem the link once and open a session."""
    console: Console = request.app[PAGES_KEY]  # type: ignore[assignment]
    if not console.limiter.allow(_client(request)):
        return console.message(429, "サインインの試行が多すぎます。1分ほど待ってからもう一度お試しください。")
    posted = await request.post()
    token, pre = str(posted.get("t", "")), str(posted.get("pre", ""))
    if not same_token(pre, request.cookies.get(PRE_SIGN_IN_COOKIE, "")):
        return console.message(
            403, "サインインの確認用トークンが一致しません。チャットで「管理画面」と送り、新しいリンクを開いてください。"
        )
    return await asyncio.to_thread(_redeem, console, request, token)


def _redeem(console: Console, request: web.Request, token: str) -> web.StreamResponse:
    with console.database.session() as session:
        actor_key = console.links.redeem(session, token)
    if actor_key is None:
        log.info("console sign-in refused: link invalid, expired or already used")
        return console.render("signin_help.html", status=400, invalid=True)
    return _open_session(console, request, actor_key, via="link")


def _open_session(
    console: Console, request: web.Request, actor_key: str, *, via: str
) -> web.StreamResponse:
    """Start a session for ``actor_key`` (audited) and send the browser home."""
    viewer = console.pages.actor(actor_key)
    may = decide(viewer, "list")
    if not may.allowed:  # nothing to see (checked again on every page)
        console.pages.desk.gate.record(viewer, "console.sign_in", viewer.key, "denied",
                                       {"by": via})
        return console.message(403, may.reason)
    cookie, csrf = new_secret(), new_secret()
    now = console.now()
    with console.database.session() as session:
        open_session(
            session=session, cookie_value=cookie, actor=actor_key, csrf_token=csrf,
            expires_at=now + timedelta(hours=console.settings.console_session_hours), now=now,
        )
    console.pages.desk.gate.record(viewer, "console.sign_in", viewer.key, "allowed",
                                   {"by": via})
    redirect = web.HTTPSeeOther(console.pages.home_path(viewer))
    set_cookie(redirect, SESSION_COOKIE, cookie, secure=console.secure(request),
               max_age=int(console.settings.console_session_hours * 3600))
    redirect.del_cookie(PRE_SIGN_IN_COOKIE, path=COOKIE_PATH)
    redirect.del_cookie(OIDC_COOKIE, path=COOKIE_PATH)
    raise redirect


# --- OpenID Connect (optional) -----------------------------------------------------------------


def _seal(console: Console, text: str) -> str:
    payload = base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")
    mac = hmac.new(console.links.key, payload.encode(), hashlib.sha256).hexdigest()
    return f"{payload}.{mac}"


def _unseal(console: Console, sealed: str) -> str | None:
    payload, _, mac = sealed.partition(".")
    expected = hmac.new(console.links.key, payload.encode(), hashlib.sha256).hexdigest()
    if not payload or not hmac.compare_digest(mac, expected):
        return None
    try:
        return base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()
    except ValueError:
        return None


async def oidc_start(request: web.Request) -> web.StreamResponse:
    """Send the browser to the issuer (authorization code flow with PKCE)."""
    console: Console = request.app[PAGES_KEY]  # type: ignore[assignment]
    if console.oidc is None:
        raise web.HTTPNotFound()
    if not console.limiter.allow(_client(request)):
        return console.message(429, "サインインの試行が多すぎます。1分ほど待ってからもう一度お試しください。")
    try:
        async with aiohttp.ClientSession() as http:
            url, pending = await console.oidc.start(http)
    except (OidcError, aiohttp.ClientError, TimeoutError) as error:
        log.warning("OIDC sign-in could not start: %s", getattr(error, "reason", type(error).__name__))
        return console.message(503, OIDC_UNAVAILABLE)
    redirect = web.HTTPFound(url)
    set_cookie(redirect, OIDC_COOKIE, _seal(console, pack(pending)),
               secure=console.secure(request), max_age=600)
    raise redirect


async def oidc_callback(request: web.Request) -> web.StreamResponse:
    """Back from the issuer: check everything, then open a session for the chat user."""
    console: Console = request.app[PAGES_KEY]  # type: ignore[assignment]
    if console.oidc is None:
        raise web.HTTPNotFound()
    if not console.limiter.allow(_client(request)):
        return console.message(429, "サインインの試行が多すぎます。1分ほど待ってからもう一度お試しください。")
    opened = _unseal(console, request.cookies.get(OIDC_COOKIE, ""))
    pending = unpack(opened) if opened else None
    state, code = request.query.get("state", ""), request.query.get("code", "")
    if pending is None or not state or not code:
        log.info("OIDC sign-in refused: no pending sign-in or no code")
        return console.message(400, OIDC_FAILED)
    try:
        async with aiohttp.ClientSession() as http:
            actor_key = await console.oidc.finish(http, pending, state=state, code=code)
    except OidcError as error:
        log.info("OIDC sign-in refused: %s", error.reason)
        return console.message(400, OIDC_FAILED)
    except (aiohttp.ClientError, TimeoutError) as error:
        log.warning("OIDC issuer unreachable: %s", type(error).__name__)
        return console.message(503, OIDC_UNAVAILABLE)
    return await asyncio.to_thread(_open_session_or_response, console, request, actor_key)


def _open_session_or_response(
    console: Console, request: web.Request, actor_key: str
) -> web.StreamResponse:
    return _open_session(console, request, actor_key, via="oidc")


async def _redirect_root(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/console/")


def mount_console(app: web.Application, console: Console) -> None:
    """Add the console under ``/console`` to the server's application."""
    sub = web.Application(middlewares=[security_headers(console.settings.console_url)])
    sub[PAGES_KEY] = console
    sub.router.add_get("/", _signed_in(home))
    sub.router.add_get("/sign-in", sign_in_page)
    sub.router.add_post("/sign-in", sign_in)
    sub.router.add_post("/sign-out", _signed_in(sign_out))
    sub.router.add_get("/queue", _signed_in(queue))
    sub.router.add_get("/sheets/{ref}", _signed_in(sheet))
    # Before "/sheets/{ref}/{verb}": the upload reads its multipart body as a stream.
    sub.router.add_post("/sheets/{ref}/spec-review", spec_upload.upload)
    sub.router.add_get("/sheets/{ref}/spec-review/{memo}", _signed_in(spec_upload.memo_page))
    sub.router.add_get("/sheets/{ref}/spec-review/{memo}/docx",
                       _signed_in(spec_upload.memo_docx))
    sub.router.add_post("/sheets/{ref}/{verb}", _signed_in(sheet_action))
    sub.router.add_get("/digest", _signed_in(digest))
    sub.router.add_get("/digest/download", _signed_in(digest_download))
    sub.router.add_get("/unanswered", _signed_in(unanswered))
    sub.router.add_get("/mine", _signed_in(mine))
    if console.oidc is not None:
        sub.router.add_get("/oidc/start", oidc_start)
        sub.router.add_get("/oidc/callback", oidc_callback)
    sub.router.add_static("/static", HERE / "static", append_version=False)
    app.router.add_get("/console", _redirect_root)
    app.add_subapp("/console", sub)
