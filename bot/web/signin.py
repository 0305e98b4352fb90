"""Sign-in links for the web console, issued in chat (「管理画面」).

A link carries a signed token: ``<payload>.<signature>``, where the payload names
the link's row id, the user it signs in (actor key) and its expiry, and the
signature is HMAC-SHA256 under the console key (``SOUDAN_CONSOLE_SECRET``, or a
random key kept in the data directory). Opening the link shows a page with one
button; pressing it redeems the link: the signature and expiry are checked, then
the row is marked used in the same statement that checks it is unused
(:func:`storage.console.redeem_sign_in`), so a replayed link is refused on every
replica. Link previews (Slack unfurls) only fetch the page, never the button.

Example:
    >>> links = SignInLinks(key=b"k" * 32, base_url="http://127.0.0.1:3000", minutes=10)
    >>> token = links.sign("abc", "terminal:local:terminal-user", expires=2_000_000_000)
    >>> links.verify(token, now=1_900_000_000)
    ('abc', 'terminal:local:terminal-user')
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlmodel import Session

from bot.core.messages import Inbound, Part, Text
from bot.core.policy import decide
from bot.review.desk import ReviewDesk
from bot.settings import Settings
from storage.console import forget_expired, issue_sign_in, redeem_sign_in

SIGN_IN_PATH = "/console/sign-in"


def console_key(settings: Settings) -> bytes:
    """The key that signs sign-in links: the setting, or a random one kept on disk.

    Several replicas must share ``SOUDAN_CONSOLE_SECRET``; one machine may rely on
    the file ``<data_dir>/console-secret`` (created with mode 0600 on first use).
    """
    if settings.console_secret is not None:
        return settings.console_secret.get_secret_value().encode("utf-8")
    path = Path(settings.data_dir) / "console-secret"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text(encoding="utf-8").strip().encode("utf-8")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SignInLinks:
    """Issues and checks sign-in links; the core's ``ConsolePort``.

    Args:
        key: HMAC key, or a function giving it on first use (see :func:`console_key`).
        base_url: where browsers reach the console, e.g. ``http://127.0.0.1:3000``.
        minutes: how long a link is valid (at most 10).
        desk: the review desk, to resolve the sender and audit the request.
        now: clock (tests).
    """

    def __init__(
        self,
        *,
        key: bytes | Callable[[], bytes],
        base_url: str,
        minutes: int = 10,
        desk: ReviewDesk | None = None,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self._key_source = key
        self._key: bytes | None = None
        self.base_url = base_url.rstrip("/")
        self.lifetime = timedelta(minutes=min(minutes, 10))
        self.desk = desk
        self.now = now or (lambda: datetime.now(UTC))

    # --- tokens ------------------------------------------------------------------------

    @property
    def key(self) -> bytes:
        if self._key is None:
            source = self._key_source
            self._key = source() if callable(source) else source
        return self._key

    def sign(self, link_id: str, actor: str, *, expires: int) -> str:
        """The token for link ``link_id`` signing in ``actor`` until ``expires`` (epoch s)."""
        payload = _b64(
            json.dumps({"l": link_id, "a": actor, "e": expires}, separators=(",", ":")).encode()
        )
        signature = hmac.new(self.key, payload.encode("ascii"), hashlib.sha256).digest()
        return f"{payload}.{_b64(signature)}"

    def verify(self, token: str, *, now: float | None = None) -> tuple[str, str] | None:
        """(link id, actor) when the signature holds and the link has not expired."""
        payload, _, signature = token.strip().partition(".")
        if not payload or not signature or len(token) > 2000:
            return None
        expected = hmac.new(self.key, payload.encode("ascii"), hashlib.sha256).digest()
        try:
            if not hmac.compare_digest(expected, _unb64(signature)):
                return None
            claims = json.loads(_unb64(payload))
        except (ValueError, UnicodeDecodeError):
            return None
        if not isinstance(claims, dict):
            return None
        link_id, actor, expires = claims.get("l"), claims.get("a"), claims.get("e")
        if not isinstance(link_id, str) or not isinstance(actor, str):
            return None
        moment = now if now is not None else self.now().timestamp()
        if not isinstance(expires, int) or expires <= moment:
            return None
        return link_id, actor

    # --- issuing and redeeming ---------------------------------------------------------

    def issue(self, session: Session, actor: str) -> str:
        """Record a new link for ``actor`` and return its URL."""
        now = self.now()
        expires = now + self.lifetime
        link_id = secrets.token_urlsafe(24)
        # Links and sessions that ended a day ago are of no use any more (not even to audit:
        # every sign-in is in the audit log).
        forget_expired(session=session, before=now - timedelta(days=1))
        issue_sign_in(session=session, link_id=link_id, actor=actor, expires_at=expires, now=now)
        token = self.sign(link_id, actor, expires=int(expires.timestamp()))
        return f"{self.base_url}{SIGN_IN_PATH}?t={token}"

    def redeem(self, session: Session, token: str) -> str | None:
        """The actor a valid, unexpired, unused link signs in (marking it used), or None."""
        checked = self.verify(token)
        if checked is None:
            return None
        link_id, actor = checked
        redeemed = redeem_sign_in(session=session, link_id=link_id, now=self.now())
        return actor if redeemed == actor else None

    def sign_in(self, session: Session, inbound: Inbound) -> list[Part]:
        """「管理画面」: a link for a user the policy lets list sheets, audited either way."""
        if self.desk is None:
            return [Text("管理画面はこの環境では有効になっていません。")]
        desk = self.desk.within(session)
        actor = desk.actor_for(inbound)
        # Only someone the policy lets list sheets has anything to see in the console
        # (a user who merely chatted has a profile, but no department and no role yet).
        may = decide(actor, "list")
        if not may.allowed:
            desk.gate.record(actor, "console.link", actor.key, "denied")
            return [Text(may.reason)]
        url = self.issue(session, actor.key)
        desk.gate.record(actor, "console.link", actor.key, "allowed")
        minutes = int(self.lifetime.total_seconds() // 60)
        return [Text(
            f"管理画面へのサインイン用リンクです（{minutes}分間・1回だけ有効です。"
            "ほかの人には共有しないでください）:\n"
            f"{url}"
        )]
