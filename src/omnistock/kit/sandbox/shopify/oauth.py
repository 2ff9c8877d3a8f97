"""Access tokens: `X-Shopify-Access-Token` checking and `/admin/oauth/access_token` with the
client-credentials grant (24 h tokens) and the refresh-token grant (1 h tokens, rotating
90-day refresh tokens), as the 2025-12/2026 changelogs describe."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from omnistock.kit.sandbox.common.clock import SandboxClock

CLIENT_CREDENTIALS_TTL = 86_400.0  # ⚠️ 24 h per SDK release notes
EXPIRING_TTL = 3_600.0
REFRESH_TTL = 90 * 86_400.0  # ⚠️ third-party write-ups
SCOPES = "read_inventory,write_inventory,read_products,read_orders,read_locations"
INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"  # noqa: S105


@dataclass(frozen=True, slots=True)
class AppCredentials:
    client_id: str
    client_secret: str


@dataclass(slots=True)
class TokenBook:
    """Issued tokens and when they die (None: a non-expiring offline token)."""

    clock: SandboxClock
    app: AppCredentials
    access: dict[str, float | None] = field(default_factory=dict)
    refresh: dict[str, float] = field(default_factory=dict)

    def valid(self, token: str | None) -> bool:
        if token is None or token not in self.access:
            return False
        expires = self.access[token]
        return expires is None or self.clock.now() < expires

    def offline(self, token: str) -> None:
        self.access[token] = None

    def issue(self, ttl: float) -> str:
        token = "shpat_" + secrets.token_hex(16)
        self.access[token] = self.clock.now() + ttl
        return token

    def issue_expiring(self) -> dict[str, object]:
        """An expiring offline token with its refresh token (`expiring=1` installs)."""
        refresh = "shprt_" + secrets.token_hex(16)
        self.refresh[refresh] = self.clock.now() + REFRESH_TTL
        token = self.issue(EXPIRING_TTL)
        return {
            "access_token": token,
            "scope": SCOPES,
            "expires_in": int(EXPIRING_TTL),
            "refresh_token": refresh,
            "refresh_token_expires_in": int(REFRESH_TTL),
        }

    def revoke_all(self) -> None:
        self.access.clear()

    async def endpoint(self, request: Request) -> Response:
        form = _form(await request.body(), request.headers.get("content-type", ""))
        if (form.get("client_id"), form.get("client_secret")) != (
            self.app.client_id,
            self.app.client_secret,
        ):
            return _oauth_error("invalid_client", "Client authentication failed.", 401)
        grant = form.get("grant_type")
        if grant == "client_credentials":
            token = self.issue(CLIENT_CREDENTIALS_TTL)
            return JSONResponse(
                {"access_token": token, "scope": SCOPES, "expires_in": int(CLIENT_CREDENTIALS_TTL)}
            )
        if grant == "refresh_token":
            return self._refreshed(form.get("refresh_token", ""))
        return _oauth_error("unsupported_grant_type", f"Unsupported grant type: {grant}", 400)

    def _refreshed(self, refresh: str) -> Response:
        expires = self.refresh.pop(refresh, None)  # refresh tokens rotate on use
        if expires is None or self.clock.now() >= expires:
            return _oauth_error("invalid_grant", "The refresh token is invalid or expired.", 400)
        return JSONResponse(self.issue_expiring())


def _form(body: bytes, content_type: str) -> dict[str, str]:
    if content_type.startswith("application/json"):
        try:
            doc = json.loads(body or b"{}")
        except json.JSONDecodeError:
            return {}
        return {str(k): str(v) for k, v in doc.items()} if isinstance(doc, dict) else {}
    return dict(parse_qsl(body.decode("utf-8", "replace")))


def _oauth_error(code: str, description: str, status: int) -> Response:
    return JSONResponse({"error": code, "error_description": description}, status_code=status)


async def unauthorized() -> Response:
    return JSONResponse({"errors": INVALID_TOKEN}, status_code=401)
