"""A mock Bot Connector on 127.0.0.1 that records what the bot posts.

It answers the Bot Framework REST calls the adapter makes
(``POST /v3/conversations/{id}/activities[/{replyToId}]``) and serves an OpenID
metadata document and a JWKS, so inbound tokens signed with :attr:`signing_key`
validate as if they came from the Bot Connector service. It runs on its own thread
because botbuilder fetches the key set with blocking ``requests`` calls.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

from cryptography.hazmat.primitives.asymmetric import rsa

KEY_ID = "loopback-key"


@functools.cache
def _shared_signing_key() -> rsa.RSAPrivateKey:
    # Generating a 2048-bit key takes ~0.2 s; one per test run is enough.
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class ConnectorCall:
    """One activity the bot posted."""

    conversation: str
    reply_to: str | None
    activity: dict[str, Any]
    authorization: str | None

    @property
    def type(self) -> str:
        return str(self.activity.get("type"))

    @property
    def text(self) -> str:
        return str(self.activity.get("text") or "")

    @property
    def cards(self) -> list[dict[str, Any]]:
        return [a["content"] for a in self.activity.get("attachments") or []]


@dataclass
class MockConnector:
    """State of the mock; :meth:`start` serves it on a random loopback port."""

    calls: list[ConnectorCall] = field(default_factory=list)
    fail_with_status: int | None = None
    signing_key: rsa.RSAPrivateKey = field(default_factory=_shared_signing_key)
    _changed: threading.Condition = field(default_factory=threading.Condition)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def service_url(self) -> str:
        return f"{self.url}/teams/"

    @property
    def openid_metadata_url(self) -> str:
        return f"{self.url}/v1/.well-known/openidconfiguration"

    def start(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def record(self, call: ConnectorCall) -> None:
        with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    def messages(self, conversation: str | None = None) -> list[ConnectorCall]:
        """Posted message activities (typing indicators left out), oldest first."""
        with self._changed:
            return [
                c
                for c in self.calls
                if c.type == "message" and conversation in (None, c.conversation)
            ]

    def wait_for_messages(
        self, count: int, conversation: str | None = None, timeout: float = 20.0
    ) -> list[ConnectorCall]:
        """Block until at least ``count`` messages arrived; fail the test after ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.messages(conversation)) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    got = [(c.text, c.cards) for c in self.messages(conversation)]
                    raise AssertionError(f"expected {count} messages, got {len(got)}: {got}")
                self._changed.wait(remaining)
            return self.messages(conversation)

    async def replies(
        self, count: int, conversation: str | None = None, timeout: float = 20.0
    ) -> list[ConnectorCall]:
        """Await at least ``count`` messages without blocking the bot's event loop."""
        return await asyncio.to_thread(self.wait_for_messages, count, conversation, timeout)

    def wait_for_calls(self, count: int, timeout: float = 20.0) -> list[ConnectorCall]:
        """Block until at least ``count`` calls (typing included) arrived."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self.calls) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"expected {count} calls, got {len(self.calls)}")
                self._changed.wait(remaining)
            return list(self.calls)

    def jwks(self) -> dict[str, Any]:
        numbers = self.signing_key.public_key().public_numbers()
        return {
            "keys": [
                {
                    "kty": "RSA",
                    "use": "sig",
                    "kid": KEY_ID,
                    "n": _b64_int(numbers.n),
                    "e": _b64_int(numbers.e),
                    "endorsements": ["msteams", "emulator"],
                }
            ]
        }


def _b64_int(value: int) -> str:
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _handler_for(connector: MockConnector) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # keep test output quiet
            return

        def _reply(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path == "/v1/.well-known/openidconfiguration":
                self._reply(
                    200,
                    {
                        "issuer": "https://api.botframework.com",
                        "jwks_uri": f"{connector.url}/v1/.well-known/keys",
                        "id_token_signing_alg_values_supported": ["RS256"],
                    },
                )
            elif self.path == "/v1/.well-known/keys":
                self._reply(200, connector.jwks())
            else:
                self._reply(404, {"error": "not found"})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            prefix = "/teams/v3/conversations/"
            if not self.path.startswith(prefix) or "/activities" not in self.path:
                self._reply(404, {"error": "not found"})
                return
            conversation, _, rest = self.path[len(prefix) :].partition("/activities")
            if connector.fail_with_status is not None:
                self._reply(connector.fail_with_status, {"error": {"code": "ServiceError"}})
                return
            connector.record(
                ConnectorCall(
                    conversation=unquote(conversation),
                    reply_to=unquote(rest.lstrip("/")) or None,
                    activity=body,
                    authorization=self.headers.get("Authorization"),
                )
            )
            self._reply(200, {"id": f"bot-activity-{len(connector.calls)}"})

    return Handler
