"""WooCommerce REST authentication: HTTP Basic / query keys over HTTPS, OAuth 1.0a over HTTP.

Mirrors core `class-wc-rest-authentication.php`; the signing helpers are pure and shared with tests.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote, unquote

from omnistock.kit.sandbox.common.clock import SandboxClock
from omnistock.kit.sandbox.woocommerce.errors import WooApiError

OAUTH_WINDOW_S = 15 * 60
OAUTH_REQUIRED = (
    "oauth_consumer_key",
    "oauth_timestamp",
    "oauth_nonce",
    "oauth_signature",
    "oauth_signature_method",
)
_DIGESTS = {"HMAC-SHA1": hashlib.sha1, "HMAC-SHA256": hashlib.sha256}
_DENIED = {
    "GET": ("woocommerce_rest_cannot_view", "Sorry, you cannot list resources."),
    "PUT": ("woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource."),
    "POST": ("woocommerce_rest_cannot_create", "Sorry, you are not allowed to create resources."),
    "DELETE": (
        "woocommerce_rest_cannot_delete",
        "Sorry, you are not allowed to delete this resource.",
    ),
}


def percent_encode(value: str) -> str:
    """RFC 3986 encoding, as PHP's rawurlencode: only A-Z a-z 0-9 - . _ ~ stay literal."""
    return quote(value, safe="~")


def normalized_parameters(params: Iterable[tuple[str, str]]) -> str:
    """Encode every key and value, sort by encoded key, join as k=v&k=v (no oauth_signature)."""
    pairs = sorted(
        (percent_encode(k), percent_encode(v)) for k, v in params if k != "oauth_signature"
    )
    return "&".join(f"{k}={v}" for k, v in pairs)


def php_get(items: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The parameters as WooCommerce core signs them: PHP's `$_GET` (what
    `WC_REST_Authentication::get_oauth_parameters` reads in class-wc-rest-authentication.php)
    keeps one value per name, the last one given. The official Python client sends its
    query twice (signed in the URL, and again as requests' `params`), so a name repeated
    with one value must count once, or its signature never matches."""
    return list(dict(items).items())  # as PHP's arrays: the first place, the last value


def signature_base_string(method: str, url: str, params: Iterable[tuple[str, str]]) -> str:
    """METHOD & encoded URL & encoded normalized parameters."""
    normalized = normalized_parameters(params)
    return f"{method.upper()}&{percent_encode(url)}&{percent_encode(normalized)}"


def oauth_signature(base_string: str, consumer_secret: str, signature_method: str) -> str:
    """base64(HMAC(consumer_secret + "&", base string)); raises KeyError for other methods."""
    digest = _DIGESTS[signature_method]
    key = (consumer_secret + "&").encode()
    return base64.b64encode(hmac.new(key, base_string.encode(), digest).digest()).decode()


def sign_oauth(
    method: str, url: str, params: Sequence[tuple[str, str]], secret: str
) -> list[tuple[str, str]]:
    """`params` (the query and oauth_* values) plus their oauth_signature, for clients."""
    signature_method = dict(params)["oauth_signature_method"]
    base = signature_base_string(method, url, params)
    return [*params, ("oauth_signature", oauth_signature(base, secret, signature_method))]


def parse_oauth_header(header: str) -> list[tuple[str, str]]:
    """`OAuth k="v", k2="v2"` into decoded pairs."""
    pairs = []
    for part in header.removeprefix("OAuth").split(","):
        key, _, value = part.strip().partition("=")
        if key:
            pairs.append((unquote(key), unquote(value.strip('"'))))
    return pairs


def parse_basic(header: str) -> tuple[str, str] | None:
    if not header.startswith("Basic "):
        return None
    try:
        decoded = base64.b64decode(header[6:], validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    key, sep, secret = decoded.partition(":")
    return (key, secret) if sep else None


def auth_error(message: str) -> WooApiError:
    return WooApiError(401, "woocommerce_rest_authentication_error", message)


def denied(method: str) -> WooApiError:
    code, message = _DENIED.get(method, _DENIED["GET"])
    return WooApiError(401, code, message)


@dataclass(frozen=True, slots=True, kw_only=True)
class Credentials:
    consumer_key: str
    consumer_secret: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AuthRequest:
    """What authentication looks at; `url` has no query string."""

    method: str
    url: str
    https: bool
    query: Sequence[tuple[str, str]]
    authorization: str | None


class WooAuthenticator:
    """Checks one key pair; remembers OAuth nonces for the 15-minute window."""

    def __init__(
        self, credentials: Credentials, clock: SandboxClock, *, allow_basic_over_http: bool
    ) -> None:
        self._creds = credentials
        self._clock = clock
        self._allow_basic_over_http = allow_basic_over_http
        self._nonces: dict[str, float] = {}

    def authenticate(self, request: AuthRequest) -> None:
        """Return if the request is authenticated; raise WooApiError (401) otherwise."""
        basic = self._basic_credentials(request)
        if basic is not None and (request.https or self._allow_basic_over_http):
            self._check_keys(*basic)
            return
        oauth = self._oauth_params(request)
        if oauth and not request.https:
            self._check_oauth(request, oauth)
            return
        raise denied(request.method)

    def _basic_credentials(self, request: AuthRequest) -> tuple[str, str] | None:
        from_header = parse_basic(request.authorization or "")
        if from_header is not None:
            return from_header
        query = dict(request.query)
        if "consumer_key" in query and "consumer_secret" in query:
            return query["consumer_key"], query["consumer_secret"]
        return None

    def _check_keys(self, key: str, secret: str) -> None:
        if not hmac.compare_digest(key, self._creds.consumer_key):
            raise auth_error("Consumer key is invalid.")
        if not hmac.compare_digest(secret, self._creds.consumer_secret):
            raise auth_error("Consumer secret is invalid.")

    def _oauth_params(self, request: AuthRequest) -> list[tuple[str, str]]:
        header = request.authorization or ""
        from_header = parse_oauth_header(header) if header.startswith("OAuth ") else []
        params = php_get([*request.query, *from_header])
        return params if any(k.startswith("oauth_") for k, _ in params) else []

    def _check_oauth(self, request: AuthRequest, params: list[tuple[str, str]]) -> None:
        values = dict(params)
        missing = [name for name in OAUTH_REQUIRED if not values.get(name)]
        if missing:
            raise auth_error(f"Missing OAuth parameter {', '.join(missing)}")
        if not hmac.compare_digest(values["oauth_consumer_key"], self._creds.consumer_key):
            raise auth_error("Consumer key is invalid.")
        self._check_signature(request, params, values)
        self._check_timestamp_and_nonce(values["oauth_timestamp"], values["oauth_nonce"])

    def _check_signature(
        self, request: AuthRequest, params: list[tuple[str, str]], values: Mapping[str, str]
    ) -> None:
        method = values["oauth_signature_method"]
        if method not in _DIGESTS:
            # Core's own wording, capital S included (class-wc-rest-authentication.php).
            raise auth_error("Invalid Signature - signature method is invalid.")
        base = signature_base_string(request.method, request.url, params)
        expected = oauth_signature(base, self._creds.consumer_secret, method)
        if not hmac.compare_digest(expected, values["oauth_signature"]):
            raise auth_error("Invalid Signature - provided signature does not match.")

    def _check_timestamp_and_nonce(self, timestamp: str, nonce: str) -> None:
        now = self._clock.now()
        if not timestamp.isdigit() or abs(int(timestamp) - now) > OAUTH_WINDOW_S:
            raise auth_error("Invalid timestamp.")
        self._nonces = {n: t for n, t in self._nonces.items() if now - t <= OAUTH_WINDOW_S}
        if nonce in self._nonces:
            raise auth_error("Invalid nonce - nonce has already been used.")
        self._nonces[nonce] = int(timestamp)
