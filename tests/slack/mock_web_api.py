"""A mock Slack Web API on 127.0.0.1 that records every call.

Answers the methods the app uses (``auth.test`` included) the way Slack does,
keeps the posted messages, can answer the next call of a method with 429 +
``Retry-After``, and serves a Socket Mode WebSocket (``apps.connections.open``
hands out its URL) through which a test pushes envelopes and reads the acks.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web

BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
TEAM_ID = "T0001"


@dataclass
class Call:
    method: str
    args: dict[str, Any]
    token: str | None
    result: dict[str, Any] = field(default_factory=dict)


@dataclass
class MockSlackApi:
    """The server's state; start it with :meth:`start` inside a running loop."""

    calls: list[Call] = field(default_factory=list)
    users: dict[str, dict[str, Any]] = field(default_factory=dict)
    reactions: set[tuple[str, str, str]] = field(default_factory=set)
    _failures: dict[str, list[web.Response | None]] = field(default_factory=dict)
    _ts: Any = field(default_factory=lambda: itertools.count(1))
    _changed: asyncio.Condition | None = None
    _runner: web.AppRunner | None = None
    _sockets: list[web.WebSocketResponse] = field(default_factory=list)
    socket_received: list[dict[str, Any]] = field(default_factory=list)
    base_url: str = ""
    files: dict[str, tuple[dict[str, Any], bytes]] = field(default_factory=dict)
    """Shared files: id -> (files.info's ``file``, content served at its url_private)."""
    downloads: list[tuple[str, str | None]] = field(default_factory=list)
    """(file id, Authorization header) of every download request."""

    async def start(self) -> None:
        self._changed = asyncio.Condition()
        app = web.Application()
        app.router.add_get("/link", self._socket)
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/hooks/{path:.*}", self._response_url)
        app.router.add_get("/files/{file_id}/{name}", self._download)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}/api/"

    async def stop(self) -> None:
        for socket in list(self._sockets):
            await socket.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # --- what the tests ask -------------------------------------------------------------

    def share_file(self, file_id: str, name: str, data: bytes, *,
                   mimetype: str = "application/octet-stream") -> dict[str, Any]:
        """Keep a file as Slack would after a user shared it; returns the event's ``files``
        entry (the url_private points at this mock)."""
        url = self.base_url.removesuffix("/api/") + f"/files/{file_id}/download"
        meta = {"id": file_id, "name": name, "title": name, "mimetype": mimetype,
                "filetype": name.rsplit(".", 1)[-1], "size": len(data),
                "url_private": url, "url_private_download": url}
        self.files[file_id] = (meta, data)
        return dict(meta)

    async def _download(self, request: web.Request) -> web.Response:
        file_id = request.match_info["file_id"]
        auth = request.headers.get("Authorization")
        self.downloads.append((file_id, auth))
        if file_id not in self.files or not auth:
            # Slack answers an unauthorised file request with its sign-in page.
            return web.Response(text="<html>sign in</html>", content_type="text/html")
        return web.Response(body=self.files[file_id][1], content_type="application/octet-stream")

    def fail_next(self, method: str, *, status: int = 429, retry_after: int = 1,
                  error: str = "ratelimited", after: int = 0) -> None:
        """Answer the next call of ``method`` with ``status`` (and ``Retry-After``).

        ``after`` calls of ``method`` are answered normally first.
        """
        response = web.json_response(
            {"ok": False, "error": error},
            status=status,
            headers={"Retry-After": str(retry_after)},
        )
        self._failures.setdefault(method, []).extend([None] * after + [response])

    def of(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    def posts(self) -> list[Call]:
        """Successful chat.postMessage calls (a rate-limited attempt is not a post)."""
        return [c for c in self.of("chat.postMessage") if c.args.get("_status") == 200]

    async def wait_for(
        self, condition: Callable[[MockSlackApi], bool], timeout: float = 30
    ) -> None:
        """Wait until ``condition(self)`` holds after some call; fail after ``timeout``."""
        assert self._changed is not None
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: condition(self)), timeout)

    # --- Web API ------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        args: dict[str, Any] = dict(request.query)
        body = await request.text()
        if body:
            if request.content_type == "application/json":
                args.update(json.loads(body))
            else:
                args.update(parse_qsl(body))
        for key in ("blocks", "view"):
            if isinstance(args.get(key), str):
                args[key] = json.loads(args[key])
        auth = request.headers.get("Authorization", "")
        token = auth.removeprefix("Bearer ") or args.get("token")
        failures = self._failures.get(method)
        failure = failures.pop(0) if failures else None
        response = failure if failure is not None else self._answer(method, args)
        args["_status"] = response.status
        assert isinstance(response.body, bytes)
        await self._record(Call(method, args, token, json.loads(response.body)))
        return response

    @property
    def hooks_url(self) -> str:
        """A ``response_url`` served by this mock (recorded as method ``response_url``)."""
        return self.base_url.removesuffix("/api/") + "/hooks/commands/1"

    async def _response_url(self, request: web.Request) -> web.Response:
        args = await request.json()
        args["_status"] = 200
        await self._record(Call("response_url", args, None))
        return web.Response(text="ok")

    async def _record(self, call: Call) -> None:
        assert self._changed is not None
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    def _answer(self, method: str, args: dict[str, Any]) -> web.Response:
        ok: dict[str, Any] = {"ok": True}
        if method == "auth.test":
            ok |= {"url": "https://soudan-test.slack.com/", "team": "test", "user": "soudan",
                   "team_id": TEAM_ID, "user_id": BOT_USER_ID, "bot_id": BOT_ID,
                   "is_enterprise_install": False}
        elif method == "chat.postMessage":
            ts = f"1700000000.{next(self._ts):06d}"
            ok |= {"channel": args.get("channel"), "ts": ts,
                   "message": {"text": args.get("text"), "ts": ts}}
        elif method in ("chat.update", "chat.delete"):
            ok |= {"channel": args.get("channel"), "ts": args.get("ts")}
        elif method == "reactions.add":
            key = (args["channel"], args["timestamp"], args["name"])
            if key in self.reactions:
                return web.json_response({"ok": False, "error": "already_reacted"})
            self.reactions.add(key)
        elif method == "reactions.remove":
            self.reactions.discard((args["channel"], args["timestamp"], args["name"]))
        elif method == "users.info":
            user = args["user"]
            ok["user"] = self.users.get(user) or {
                "id": user, "name": user.lower(), "real_name": f"職員 {user}",
                "profile": {"display_name": f"職員{user}", "real_name": f"職員 {user}",
                            "title": "情報政策課"},
            }
        elif method in ("views.open", "views.publish", "views.update"):
            ok["view"] = {"id": f"V{next(self._ts):04d}", "hash": "h1", **args.get("view", {})}
        elif method == "conversations.open":
            ok["channel"] = {"id": "D" + str(args.get("users", "")).split(",")[0]}
        elif method == "files.info":
            if args.get("file") not in self.files:
                return web.json_response({"ok": False, "error": "file_not_found"})
            ok["file"] = self.files[args["file"]][0]
        elif method == "apps.connections.open":
            host = self.base_url.removeprefix("http://").removesuffix("/api/")
            ok["url"] = f"ws://{host}/link"
        return web.json_response(ok)

    # --- Socket Mode --------------------------------------------------------------------

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        assert self._changed is not None
        async with self._changed:
            self._sockets.append(socket)
            self._changed.notify_all()
        await socket.send_json({"type": "hello", "num_connections": 1,
                                "connection_info": {"app_id": "A0001"}})
        async for message in socket:
            if message.type == WSMsgType.TEXT:
                assert self._changed is not None
                async with self._changed:
                    self.socket_received.append(json.loads(message.data))
                    self._changed.notify_all()
        async with self._changed:
            self._sockets.remove(socket)
            self._changed.notify_all()
        return socket

    @property
    def connected(self) -> int:
        """Number of Socket Mode connections open now."""
        return len(self._sockets)

    async def push_envelope(self, envelope: dict[str, Any]) -> None:
        """Send a Socket Mode envelope to every connected client."""
        for socket in self._sockets:
            await socket.send_json(envelope)
