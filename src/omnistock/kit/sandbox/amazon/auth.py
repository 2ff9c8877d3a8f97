"""Login with Amazon for the sandbox: `/auth/o2/token` (refresh_token and client_credentials
grants, 1-hour bearer tokens) and the `x-amz-access-token` check of every SP-API call."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from omnistock.kit.sandbox.amazon.errors import error_list
from omnistock.kit.sandbox.common.clock import SandboxClock

TOKEN_TTL = 3_600.0
GRANTLESS_SCOPES = frozenset({"sellingpartnerapi::notifications", "sellingpartnerapi::migration"})


@dataclass(frozen=True, slots=True)
class LwaApp:
    client_id: str
    client_secret: str
    refresh_token: str  # the seller's authorisation of this app


@dataclass(slots=True)
class LwaTokens:
    """Issued access tokens and when they die; grantless ones carry their scope."""

    clock: SandboxClock
    app: LwaApp
    expiry: dict[str, float] = field(default_factory=dict)
    grantless: set[str] = field(default_factory=set)

    def check(self, token: str | None) -> Response | None:
        """None if `token` may call seller operations; else Amazon's 403."""
        if not token:
            return error_list(
                403,
                "Unauthorized",
                "Access to requested resource is denied.",
                "The request signature is missing the access token.",
            )
        expires = self.expiry.get(token)
        if expires is None or token in self.grantless:
            return error_list(
                403,
                "Unauthorized",
                "Access to requested resource is denied.",
                "The access token you provided is revoked, malformed or invalid.",
            )
        if self.clock.now() >= expires:
            return error_list(
                403,
                "Unauthorized",
                "Access to requested resource is denied.",
                "The access token you provided has expired.",
            )
        return None

    def check_grantless(self, token: str | None) -> Response | None:
        """None if `token` is a live grantless one (client_credentials with a scope)."""
        if not token or token not in self.grantless:
            return error_list(
                403,
                "Unauthorized",
                "Access to requested resource is denied.",
                "Grantless operations take a client_credentials token of their scope.",
            )
        if self.clock.now() >= self.expiry.get(token, 0.0):
            return error_list(
                403,
                "Unauthorized",
                "Access to requested resource is denied.",
                "The access token you provided has expired.",
            )
        return None

    def revoke_all(self) -> None:
        self.expiry.clear()

    async def endpoint(self, request: Request) -> Response:
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        if (form.get("client_id"), form.get("client_secret")) != (
            self.app.client_id,
            self.app.client_secret,
        ):
            return _lwa_error(401, "invalid_client", "Client authentication failed")
        grant = form.get("grant_type")
        if grant == "refresh_token":
            if form.get("refresh_token") != self.app.refresh_token:
                return _lwa_error(
                    400,
                    "invalid_grant",
                    "The request has an invalid grant parameter : refresh_token",
                )
            return self._issued(grantless=False)
        if grant == "client_credentials":
            if form.get("scope") not in GRANTLESS_SCOPES:
                return _lwa_error(400, "invalid_scope", "An unknown scope was requested")
            return self._issued(grantless=True)
        return _lwa_error(400, "unsupported_grant_type", f"Unsupported grant type: {grant}")

    def _issued(self, *, grantless: bool) -> Response:
        token = "Atza|" + secrets.token_urlsafe(48)
        self.expiry[token] = self.clock.now() + TOKEN_TTL
        if grantless:
            self.grantless.add(token)
        body: dict[str, object] = {
            "access_token": token,
            "token_type": "bearer",
            "expires_in": int(TOKEN_TTL),
        }
        if not grantless:
            body["refresh_token"] = self.app.refresh_token
        return JSONResponse(body)


def _lwa_error(status: int, code: str, description: str) -> Response:
    return JSONResponse({"error": code, "error_description": description}, status_code=status)
