"""The HTTP call core every adapter shares: one pooled client per account with explicit
timeouts, one `send` (a limiter slot, the request, transport failures translated to
TransientError, the answer's rate signal fed back to the limiter), JSON bodies decoded the
same way, OAuth token answers parsed once, Retry-After parsed, URLs logged safely. An
adapter keeps only what its platform does differently: paths, payloads, rate headers."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from omnistock.adapters.ratelimit import RateLimiter, RateSignal
from omnistock.adapters.secrets import Secret
from omnistock.adapters.tokens import AccessToken
from omnistock.clock import Timer
from omnistock.domain.account_settings import AccountSettings
from omnistock.domain.errors import ConfigError, PermanentError, TransientError

logger = logging.getLogger(__name__)

# Connect fails fast (a dead host is not slow); reads allow a slow bulk answer; waiting
# for a pooled connection is bounded so a stuck account cannot hold callers forever.
DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=30.0, write=30.0, pool=10.0)
USER_AGENT = "omnistock/0.1"
# How far before its cursor an order poll reads again: platforms index orders late, and a
# re-read order is deduplicated by the inbox.
DEFAULT_OVERLAP = timedelta(minutes=2)

SignalOf = Callable[[httpx.Response], RateSignal | None]


def account_client(
    base_url: str,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    max_connections: int = 10,
    headers: Mapping[str, str] | None = None,
    auth: httpx.Auth | None = None,
) -> httpx.AsyncClient:
    """The one client of a channel account; the adapter owns it and closes it in aclose().

    `transport` lets tests pass httpx.ASGITransport(app=sandbox.app); the connection
    limits apply to the default transport only. Redirects are not followed: a platform
    that redirects an API call has moved or is misconfigured, and following would
    re-send the credentials to another host."""
    limits = httpx.Limits(
        max_connections=max_connections,
        max_keepalive_connections=max_connections,
        keepalive_expiry=30.0,
    )
    merged = httpx.Headers({"user-agent": USER_AGENT})
    merged.update(headers or {})  # case-insensitive: a given User-Agent replaces ours
    return httpx.AsyncClient(
        base_url=base_url,
        transport=transport,
        timeout=timeout,
        limits=limits,
        headers=merged,
        auth=auth,
        follow_redirects=False,
        event_hooks={"request": [_log_request], "response": [_log_response]},
    )


def safe_url(url: httpx.URL | str) -> str:
    """`url` without query string, fragment or user:password (they may carry credentials,
    e.g. WooCommerce's consumer_secret query parameter)."""
    parsed = httpx.URL(url) if isinstance(url, str) else url
    return str(parsed.copy_with(query=None, fragment=None, userinfo=b""))


def translate_transport_error(exc: httpx.TransportError, *, account: str) -> TransientError:
    """A TransientError for a request that got no usable answer (timeout, refused,
    reset). The message names the failure and the URL without its query, never the
    httpx text, which could echo request details."""
    return TransientError(f"{_describe(exc)} on {_request_line(exc)}", account=account)


async def send(
    client: httpx.AsyncClient,
    limiter: RateLimiter,
    method: str,
    url: str,
    *,
    account: str,
    signal_of: SignalOf,
    cost: float = 1.0,
    **request: Any,
) -> tuple[httpx.Response, RateSignal | None]:
    """One request inside a slot of `limiter` (costing `cost`); what the answer says about
    pacing (`signal_of`) is fed back to the limiter before the slot is released, so the
    next caller waits on it. Raises TransientError when no answer came; any answer, error
    statuses included, is the caller's to judge."""
    async with limiter.slot(cost):
        try:
            response = await client.request(method, url, **request)
        except httpx.TransportError as exc:
            raise translate_transport_error(exc, account=account) from None
        signal = signal_of(response)
        if signal is not None:
            limiter.observe(signal)
    return response, signal


def json_body(response: httpx.Response) -> object:
    """The answer's JSON, or None when it is empty or not JSON (an error page from a proxy):
    callers judge the status first and then what the body says, if anything."""
    if not response.content:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def token_answer(payload: object, *, account: str, timer: Timer) -> AccessToken:
    """The access token of an OAuth 2.0 token answer (`access_token`, `expires_in` seconds).
    Raises PermanentError when the answer has neither: retrying the grant would not help."""
    try:
        value, ttl = payload["access_token"], float(payload["expires_in"])  # type: ignore[index]
    except (KeyError, TypeError, ValueError):
        raise PermanentError("token answer without access_token", account=account) from None
    return AccessToken.lasting(Secret(str(value)), ttl, timer)


@contextmanager
def translated_transport_errors(account: str) -> Iterator[None]:
    """Raise httpx transport failures inside the block as TransientError."""
    try:
        yield
    except httpx.TransportError as exc:
        raise translate_transport_error(exc, account=account) from exc


def retry_after_seconds(value: str | None, *, now: datetime | None = None) -> float | None:
    """Retry-After as seconds from `now`: delta-seconds (decimals accepted, as Shopify
    sends "2.0") or an HTTP-date (a past date gives 0). None if absent or invalid."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        return _seconds_until(text, now or datetime.now(UTC))
    return seconds if math.isfinite(seconds) and seconds >= 0 else None


def _seconds_until(http_date: str, now: datetime) -> float | None:
    try:
        when = parsedate_to_datetime(http_date)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000" parses naive; HTTP-dates are always GMT
        when = when.replace(tzinfo=UTC)
    return max((when - now).total_seconds(), 0.0)


_FAILURES: tuple[tuple[type[httpx.TransportError], str], ...] = (
    (httpx.ConnectTimeout, "connect timed out"),
    (httpx.ReadTimeout, "read timed out"),
    (httpx.WriteTimeout, "write timed out"),
    (httpx.PoolTimeout, "timed out waiting for a pooled connection"),
    (httpx.ConnectError, "could not connect"),
    (httpx.RemoteProtocolError, "connection closed by the server mid-exchange"),
    (httpx.ReadError, "connection reset while reading"),
    (httpx.WriteError, "connection reset while writing"),
)


def _describe(exc: httpx.TransportError) -> str:
    for kind, text in _FAILURES:
        if isinstance(exc, kind):
            return text
    return f"transport failure ({type(exc).__name__})"


def _request_line(exc: httpx.TransportError) -> str:
    try:
        request = exc.request
    except RuntimeError:  # raised by httpx when the error was built without a request
        return "an unknown request"
    return f"{request.method} {safe_url(request.url)}"


async def _log_request(request: httpx.Request) -> None:
    logger.debug("request %s %s", request.method, safe_url(request.url))


async def _log_response(response: httpx.Response) -> None:
    request = response.request
    logger.debug(
        "response %d to %s %s", response.status_code, request.method, safe_url(request.url)
    )


def account_api_root(
    platform: str,
    account: str,
    settings: AccountSettings,
    credentials: Mapping[str, Secret],
    needed: Iterable[str],
) -> str:
    """What every adapter factory checks first: the account's API root (its `base_url`
    setting) and the credentials its platform needs; ConfigError naming what is missing."""
    missing = sorted(set(needed) - set(credentials))
    if missing:
        raise ConfigError(f"{platform} account {account}: missing {', '.join(missing)}")
    if settings.base_url is None:
        raise ConfigError(f"{platform} account {account}: no base_url setting")
    return settings.base_url
