"""Optional second way into the console: OpenID Connect (e.g. Microsoft Entra ID).

Configured by settings (``SOUDAN_CONSOLE_OIDC_ISSUER``, ``..._CLIENT_ID``,
``..._CLIENT_SECRET``). The authorization code flow with PKCE, ``state`` and
``nonce``: the browser is sent to the issuer, comes back with a code, and the
server exchanges it for an ID token whose signature (the issuer's JWKS), issuer,
audience, expiry and nonce are checked. The person is then the chat user the token
names: by default an Entra ID token's tenant (``tid``) and object id (``oid``) are the
Teams user ``teams:<tid>:<oid>`` that soudan already knows, so roles and departments
come from the same user profiles as chat.

Only the issuer's endpoints are contacted, and only when someone signs in this way.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp
import jwt

DISCOVERY_PATH = "/.well-known/openid-configuration"
FLOW_SECONDS = 600
"""How long the browser may take at the issuer before the sign-in must start again."""


class OidcError(Exception):
    """The sign-in did not complete; ``reason`` is a short English code for the log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class OidcConfig:
    issuer: str
    client_id: str
    client_secret: str | None
    redirect_uri: str
    channel: str = "teams"
    tenant_claim: str = "tid"
    user_claim: str = "oid"
    scope: str = "openid profile"


@dataclass(frozen=True)
class PendingSignIn:
    """What the browser carries (signed, in a cookie) while it is at the issuer."""

    state: str
    nonce: str
    verifier: str
    started: int


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class OidcClient:
    """Starts the flow, finishes it, and says which chat user signed in."""

    def __init__(self, config: OidcConfig) -> None:
        self.config = config
        self._metadata: dict[str, Any] | None = None
        self._keys: jwt.PyJWKClient | None = None

    async def _discover(self, http: aiohttp.ClientSession) -> dict[str, Any]:
        if self._metadata is None:
            url = self.config.issuer.rstrip("/") + DISCOVERY_PATH
            async with http.get(url, timeout=aiohttp.ClientTimeout(total=10)) as response:
                if response.status != 200:
                    raise OidcError("discovery_failed")
                metadata = await response.json(content_type=None)
            if not isinstance(metadata, dict) or "authorization_endpoint" not in metadata:
                raise OidcError("discovery_invalid")
            self._metadata = metadata
        return self._metadata

    async def start(self, http: aiohttp.ClientSession) -> tuple[str, PendingSignIn]:
        """The issuer's authorization URL to send the browser to, and what to remember."""
        metadata = await self._discover(http)
        pending = PendingSignIn(
            state=secrets.token_urlsafe(24), nonce=secrets.token_urlsafe(24),
            verifier=secrets.token_urlsafe(48), started=int(time.time()),
        )
        challenge = _b64(hashlib.sha256(pending.verifier.encode("ascii")).digest())
        query = urlencode({
            "response_type": "code", "client_id": self.config.client_id,
            "redirect_uri": self.config.redirect_uri, "scope": self.config.scope,
            "state": pending.state, "nonce": pending.nonce,
            "code_challenge": challenge, "code_challenge_method": "S256",
        })
        return f"{metadata['authorization_endpoint']}?{query}", pending

    async def finish(
        self, http: aiohttp.ClientSession, pending: PendingSignIn, *, state: str, code: str
    ) -> str:
        """Exchange ``code`` and check the ID token; the chat user's actor key."""
        if not secrets.compare_digest(state, pending.state):
            raise OidcError("state_mismatch")
        if time.time() - pending.started > FLOW_SECONDS:
            raise OidcError("flow_expired")
        metadata = await self._discover(http)
        form = {
            "grant_type": "authorization_code", "code": code,
            "redirect_uri": self.config.redirect_uri, "client_id": self.config.client_id,
            "code_verifier": pending.verifier,
        }
        if self.config.client_secret:
            form["client_secret"] = self.config.client_secret
        async with http.post(metadata["token_endpoint"], data=form,
                             timeout=aiohttp.ClientTimeout(total=10)) as response:
            if response.status != 200:
                raise OidcError("token_refused")
            tokens = await response.json(content_type=None)
        id_token = tokens.get("id_token") if isinstance(tokens, dict) else None
        if not isinstance(id_token, str):
            raise OidcError("no_id_token")
        claims = await self._verify(http, metadata, id_token)
        if not secrets.compare_digest(str(claims.get("nonce", "")), pending.nonce):
            raise OidcError("nonce_mismatch")
        tenant = claims.get(self.config.tenant_claim)
        user = claims.get(self.config.user_claim)
        if not isinstance(tenant, str) or not isinstance(user, str) or not tenant or not user:
            raise OidcError("claims_missing")
        return f"{self.config.channel}:{tenant}:{user}"

    async def _verify(
        self, http: aiohttp.ClientSession, metadata: dict[str, Any], id_token: str
    ) -> dict[str, Any]:
        async with http.get(metadata["jwks_uri"],
                            timeout=aiohttp.ClientTimeout(total=10)) as response:
            if response.status != 200:
                raise OidcError("jwks_failed")
            keys = jwt.PyJWKSet.from_dict(await response.json(content_type=None))
        try:
            header = jwt.get_unverified_header(id_token)
            key = next(k for k in keys.keys if k.key_id == header.get("kid"))
            claims: dict[str, Any] = jwt.decode(
                id_token, key=key.key, algorithms=["RS256", "ES256", "PS256"],
                audience=self.config.client_id, issuer=metadata.get("issuer", self.config.issuer),
                options={"require": ["exp", "iat", "iss", "aud"]}, leeway=60,
            )
        except StopIteration as error:
            raise OidcError("unknown_key") from error
        except jwt.PyJWTError as error:
            raise OidcError(f"id_token_invalid:{type(error).__name__}") from error
        return claims


def pack(pending: PendingSignIn) -> str:
    return json.dumps(pending.__dict__, separators=(",", ":"))


def unpack(text: str) -> PendingSignIn | None:
    try:
        values = json.loads(text)
        return PendingSignIn(str(values["state"]), str(values["nonce"]),
                             str(values["verifier"]), int(values["started"]))
    except (ValueError, KeyError, TypeError):
        return None
