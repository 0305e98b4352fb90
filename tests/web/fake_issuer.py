"""A fake OpenID Connect issuer on 127.0.0.1: discovery, authorize, token, JWKS.

``authorize`` stands for a person who signs in at the issuer: it sends the browser
straight back with a code. ``token`` checks the code (once), the PKCE verifier and
the client, and returns an ID token signed with the issuer's RSA key. Switches make
it misbehave the ways a test needs (a wrong nonce, a foreign signing key).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@dataclass
class FakeIssuer:
    client_id: str = "soudan-console"
    tenant: str = "tid-kisarazu"
    user: str = "oid-cio"
    wrong_nonce: bool = False
    foreign_key: bool = False
    key: rsa.RSAPrivateKey = field(default_factory=_key)
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    base_url: str = ""
    _runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/.well-known/openid-configuration", self._discovery)
        app.router.add_get("/authorize", self._authorize)
        app.router.add_post("/token", self._token)
        app.router.add_get("/jwks", self._jwks)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _discovery(self, request: web.Request) -> web.Response:
        return web.json_response({
            "issuer": self.base_url, "authorization_endpoint": f"{self.base_url}/authorize",
            "token_endpoint": f"{self.base_url}/token", "jwks_uri": f"{self.base_url}/jwks",
        })

    async def _authorize(self, request: web.Request) -> web.Response:
        query = request.query
        assert query["client_id"] == self.client_id and query["response_type"] == "code"
        assert query["code_challenge_method"] == "S256"
        code = secrets.token_urlsafe(16)
        self.codes[code] = dict(query)
        location = f"{query['redirect_uri']}?{urlencode({'code': code, 'state': query['state']})}"
        raise web.HTTPFound(location)

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        asked = self.codes.pop(str(form.get("code")), None)  # a code works once
        if asked is None or form.get("client_id") != self.client_id:
            return web.json_response({"error": "invalid_grant"}, status=400)
        verifier = str(form.get("code_verifier", ""))
        challenge = base64.urlsafe_b64encode(
            hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if challenge != asked["code_challenge"] or form.get("redirect_uri") != asked["redirect_uri"]:
            return web.json_response({"error": "invalid_grant"}, status=400)
        now = int(time.time())
        claims = {
            "iss": self.base_url, "aud": self.client_id, "iat": now, "exp": now + 600,
            "nonce": "not-the-nonce" if self.wrong_nonce else asked["nonce"],
            "tid": self.tenant, "oid": self.user, "name": "補佐 一郎",
        }
        key = _key() if self.foreign_key else self.key
        token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})
        return web.json_response({"id_token": token, "token_type": "Bearer"})

    async def _jwks(self, request: web.Request) -> web.Response:
        jwk: dict[str, Any] = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        jwk.update({"kid": "k1", "use": "sig", "alg": "RS256"})
        return web.json_response({"keys": [jwk]})
