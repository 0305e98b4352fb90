"""What stands in front of every console page: headers, rate limit, session, CSRF.

* Security headers on every response: a Content-Security-Policy that allows no inline
  script or style and no framing, ``Referrer-Policy: no-referrer``, ``nosniff``,
  ``no-store`` (pages show personal data), HSTS when served over https.
* A sliding-window rate limit per client address on the sign-in endpoint.
* The session cookie: a random value (only its SHA-256 is stored), ``HttpOnly``,
  ``SameSite=Lax``, ``Secure`` over https, path ``/console``.
* A CSRF token per session, required on every form post.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

SESSION_COOKIE = "soudan_console"
PRE_SIGN_IN_COOKIE = "soudan_console_pre"
COOKIE_PATH = "/console"

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def served_over_https(request: web.Request, public_url: str) -> bool:
    """Whether the browser talks https to us (directly or through a proxy that says so)."""
    return (
        request.secure
        or public_url.startswith("https://")
        or request.headers.get("X-Forwarded-Proto", "").lower() == "https"
    )


def security_headers(public_url: str) -> Any:
    """Middleware adding :data:`SECURITY_HEADERS` (and HSTS over https) to every response."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            response = await handler(request)
        except web.HTTPException as exception:
            response = exception
            _apply(response, request, public_url)
            raise
        _apply(response, request, public_url)
        return response

    return middleware


def _apply(response: web.StreamResponse, request: web.Request, public_url: str) -> None:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if not request.path.startswith("/console/static/"):
        response.headers["Cache-Control"] = "no-store"
    if served_over_https(request, public_url):
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")


class RateLimiter:
    """At most ``limit`` hits per ``window`` seconds per key (client address).

    In memory, per replica: behind a load balancer with N replicas a client gets at
    most N times the limit, still far below what guessing a signed link would need.
    """

    def __init__(self, limit: int, window: float = 60.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        """Count a hit for ``key``; False when it is over the limit."""
        now = self.clock()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and now - hits[0] >= self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return False
            hits.append(now)
            if len(self._hits) > 10_000:  # forget idle clients
                for stale in [k for k, v in self._hits.items() if not v]:
                    del self._hits[stale]
            return True


def new_secret() -> str:
    """A fresh random cookie value or CSRF token."""
    return secrets.token_urlsafe(32)


def same_token(given: str | None, expected: str) -> bool:
    """Constant-time comparison of a posted CSRF token with the session's."""
    return bool(given) and hmac.compare_digest(str(given), expected)


def set_cookie(
    response: web.StreamResponse,
    name: str,
    value: str,
    *,
    secure: bool,
    max_age: int | None = None,
    same_site: str = "Lax",
) -> None:
    response.set_cookie(
        name, value, path=COOKIE_PATH, httponly=True, secure=secure, samesite=same_site,
        max_age=max_age,
    )
