"""eBay OAuth: `POST /identity/v1/oauth2/token` with Basic client authentication and the
client_credentials, authorization_code and refresh_token grants; Bearer checking."""

from __future__ import annotations

import base64
import binascii
import secrets
from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from omnistock.kit.sandbox.common.clock import SandboxClock

TOKEN_PATH = "/identity/v1/oauth2/token"  # noqa: S105 - a path
ACCESS_TTL = 7_200.0  # user and application tokens: 2 h
REFRESH_TTL = 47_304_000.0  # ⚠️ 18 months, widely cited
CODE_TTL = 300.0  # ⚠️ authorization codes are short-lived; 5 min assumed
APP_SCOPE = "https://api.ebay.com/oauth/api_scope"
SELL_SCOPES = (
    "https://api.ebay.com/oauth/api_scope/sell.inventory",
    "https://api.ebay.com/oauth/api_scope/sell.fulfillment",
    "https://api.ebay.com/oauth/api_scope/commerce.notification.subscription",
)


class TokenKind(StrEnum):
    APPLICATION = "application"
    USER = "user"


@dataclass(frozen=True, slots=True)
class AppCredentials:
    client_id: str
    client_secret: str
    ru_name: str  # the redirect_uri eBay knows the app by


@dataclass(slots=True)
class TokenBook:
    """Issued tokens, refresh tokens and consent codes, each with its death time."""

    clock: SandboxClock
    app: AppCredentials
    access: dict[str, tuple[TokenKind, float]] = field(default_factory=dict)
    refresh: dict[str, float] = field(default_factory=dict)
    codes: dict[str, float] = field(default_factory=dict)

    def kind_of(self, authorization: str | None) -> TokenKind | None:
        """The kind of a live Bearer token in an Authorization header, else None."""
        if not authorization or not authorization.startswith("Bearer "):
            return None
        held = self.access.get(authorization.removeprefix("Bearer ").strip())
        if held is None or self.clock.now() >= held[1]:
            return None
        return held[0]

    def consent_code(self) -> str:
        """What eBay's consent page hands the RuName after the seller agrees."""
        code = "v^1.1#i^1#c^" + secrets.token_urlsafe(24)
        self.codes[code] = self.clock.now() + CODE_TTL
        return code

    def grant_refresh_token(self) -> str:
        """A seller's refresh token, as if the consent flow had just run."""
        token = "v^1.1#i^1#r^" + secrets.token_urlsafe(32)
        self.refresh[token] = self.clock.now() + REFRESH_TTL
        return token

    def expire_all_access(self) -> None:
        self.access.clear()

    async def endpoint(self, request: Request) -> Response:
        if not self._client_ok(request.headers.get("authorization")):
            return oauth_error("invalid_client", "client authentication failed", 401)
        if not request.headers.get("content-type", "").startswith(
            "application/x-www-form-urlencoded"
        ):
            return oauth_error("invalid_request", "unsupported content type", 400)
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        grant = form.get("grant_type")
        if grant == "client_credentials":
            return self._issue(TokenKind.APPLICATION, "Application Access Token")
        if grant == "refresh_token":
            return self._refreshed(form.get("refresh_token", ""))
        if grant == "authorization_code":
            return self._exchanged(form.get("code", ""), form.get("redirect_uri", ""))
        return oauth_error("unsupported_grant_type", "grant type in request is not supported", 400)

    def _client_ok(self, authorization: str | None) -> bool:
        if not authorization or not authorization.startswith("Basic "):
            return False
        try:
            pair = base64.b64decode(authorization.removeprefix("Basic ").strip()).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False
        return secrets.compare_digest(pair, f"{self.app.client_id}:{self.app.client_secret}")

    def _issue(self, kind: TokenKind, label: str, **extra: object) -> JSONResponse:
        token = "v^1.1#i^1#p^3#" + secrets.token_urlsafe(32)
        self.access[token] = (kind, self.clock.now() + ACCESS_TTL)
        body = {"access_token": token, "expires_in": int(ACCESS_TTL), "token_type": label}
        return JSONResponse({**body, **extra})

    def _refreshed(self, refresh: str) -> Response:
        expires = self.refresh.get(refresh)  # eBay refresh tokens do not rotate
        if expires is None or self.clock.now() >= expires:
            return oauth_error(
                "invalid_grant",
                "the provided authorization refresh token is invalid or was issued to another "
                "client",
                400,
            )
        return self._issue(TokenKind.USER, "User Access Token")

    def _exchanged(self, code: str, redirect_uri: str) -> Response:
        expires = self.codes.pop(code, None)  # a code works once
        if expires is None or self.clock.now() >= expires or redirect_uri != self.app.ru_name:
            return oauth_error(
                "invalid_grant",
                "the provided authorization grant code is invalid or was issued to another client",
                400,
            )
        refresh = self.grant_refresh_token()
        return self._issue(
            TokenKind.USER,
            "User Access Token",
            refresh_token=refresh,
            refresh_token_expires_in=int(REFRESH_TTL),
        )


def oauth_error(code: str, description: str, status: int) -> JSONResponse:
    return JSONResponse({"error": code, "error_description": description}, status_code=status)
