"""Webhook ingestion over HTTP: `POST /webhooks/{account}` verifies, filters and persists.

Order of work: size limit, then the account adapter's signature check over the raw body
(before any parsing), then echo suppression, then the durable inbox, then 200. Bad input
gets a 4xx with its reason, never a 500; a busy store gets 503 so the platform retries."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from omnistock.adapters.base import (
    AnswersChallenges,
    ChannelAdapter,
    ChannelEvent,
    prepares_webhooks,
)
from omnistock.bus.group import GroupPut
from omnistock.bus.inbox import Inbox
from omnistock.domain.errors import (
    ChannelError,
    ConfigError,
    InvalidInputError,
    StorageBusyError,
    WebhookRejectedError,
)
from omnistock.domain.ids import AccountId
from omnistock.ingest.codec import channel_message

logger = logging.getLogger(__name__)

MAX_BODY = 1_000_000  # bytes; WooCommerce orders are a few kB, Shopify caps at far less
BUSY_RETRY_AFTER_S = 5
MAX_CHALLENGE = 256  # eBay's challenge codes are short tokens

AdapterLookup = Callable[[AccountId], ChannelAdapter | None]


PREFIX = "/webhooks/"


class _BodyTooLargeError(Exception):
    pass


class _DisconnectedError(Exception):
    pass


def webhook_app(
    adapters: Mapping[AccountId, ChannelAdapter] | AdapterLookup,
    inbox: Inbox,
    *,
    max_body: int = MAX_BODY,
) -> WebhookApp:
    """The webhook endpoint for the accounts `adapters` knows (a mapping, or a lookup
    that answers None for an unknown account)."""
    lookup = adapters.get if isinstance(adapters, Mapping) else adapters
    return WebhookApp(_Receiver(lookup, inbox, max_body))


class WebhookApp:
    """The ASGI app of `POST` (a delivery) and `GET` (a challenge) `/webhooks/{account}`.

    A plain ASGI callable, not a Starlette app: deliveries are the requests the engine
    receives most, and Starlette's router and middleware cost as much per request as
    uvicorn itself (measured: a bare ASGI app answered 10,900 requests/s here, the same
    answer through a Starlette route 5,700/s)."""

    def __init__(self, receiver: _Receiver) -> None:
        self._receiver = receiver

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return  # websockets: none served
        account = _account_of(scope["path"])
        method = scope["method"]
        if account is None:
            answer = _error(404, "no such route")
        elif method == "POST":
            answer = await self._receiver.receive(account, scope, receive)
        elif method == "GET":
            answer = await self._receiver.challenge(account, Request(scope))
        else:
            answer = _error(405, "method not allowed")
        await answer(scope, receive, send)


def _account_of(path: str) -> AccountId | None:
    """The account of a `/webhooks/{account}` path (one non-empty segment), else None."""
    if not path.startswith(PREFIX):
        return None
    account = path[len(PREFIX) :]
    return AccountId(account) if account and "/" not in account else None


async def _lifespan(receive: Receive, send: Send) -> None:
    # Nothing to start or stop: acknowledge both, as the ASGI lifespan protocol asks.
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


class _Receiver:
    def __init__(self, lookup: AdapterLookup, inbox: Inbox, max_body: int) -> None:
        self._lookup = lookup
        self._inbox = GroupPut(inbox)  # concurrent deliveries share a commit
        self._max_body = max_body

    async def receive(self, account: AccountId, scope: Scope, receive: Receive) -> JSONResponse:
        adapter = self._lookup(account)
        if adapter is None:
            return _error(404, "unknown account")
        verified = await self._verified(scope, receive, adapter)
        if isinstance(verified, JSONResponse):
            return verified
        fresh = [e for e in verified if not adapter.is_echo(e)]
        if any(e.account != account for e in fresh):
            return _error(400, "event for another account")
        try:
            stored = await self._inbox.put([channel_message(e) for e in fresh])
        except InvalidInputError as invalid:
            return _error(400, str(invalid))
        except StorageBusyError:
            return _error(503, "busy, retry later", retry_after=BUSY_RETRY_AFTER_S)
        accepted = sum(stored)
        return JSONResponse(
            {
                "accepted": accepted,
                "duplicates": len(stored) - accepted,
                "echoes": len(verified) - len(fresh),
            }
        )

    async def challenge(self, account: AccountId, request: Request) -> JSONResponse:
        """A platform proving the endpoint before it sends (eBay): answer its challenge."""
        adapter = self._lookup(account)
        if adapter is None:
            return _error(404, "unknown account")
        if not isinstance(adapter, AnswersChallenges):
            return _error(405, "method not allowed")
        code = request.query_params.get("challenge_code", "")
        if not code or len(code) > MAX_CHALLENGE:
            return _error(400, f"challenge_code: required, at most {MAX_CHALLENGE} characters")
        try:
            return JSONResponse(dict(adapter.answer_challenge(code)))
        except ConfigError as missing:
            # The account's setup, not the caller's fault: logged for the operator.
            return _error(503, f"not configured: {missing}")

    async def _verified(
        self, scope: Scope, receive: Receive, adapter: ChannelAdapter
    ) -> Sequence[ChannelEvent] | JSONResponse:
        """The delivery's events once its size and signature are checked, or the answer."""
        # First value of a repeated name, as Mapping access gives: the list reversed.
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in reversed(scope["headers"])}
        try:
            body = await self._read(headers, receive)
        except _BodyTooLargeError:
            return _error(413, f"body larger than {self._max_body} bytes")
        except _DisconnectedError:
            return _error(400, "client disconnected before the body was complete")
        try:
            if prepares_webhooks(adapter):
                await adapter.prepare_webhook(headers, body)
            return adapter.parse_webhook(headers, body)
        except ChannelError as unreachable:
            # The key to verify with could not be fetched: the platform will redeliver.
            return _error(503, f"cannot verify yet: {unreachable}", retry_after=BUSY_RETRY_AFTER_S)
        except WebhookRejectedError as rejected:
            return _error(rejected.status, rejected.reason)

    async def _read(self, headers: Mapping[str, str], receive: Receive) -> bytes:
        """The raw body, refused early by Content-Length and cut off while streaming."""
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self._max_body:
            raise _BodyTooLargeError
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _DisconnectedError
            body += message.get("body", b"")
            if len(body) > self._max_body:
                raise _BodyTooLargeError
            if not message.get("more_body", False):
                return bytes(body)


def _error(status: int, reason: str, *, retry_after: int | None = None) -> JSONResponse:
    headers = None if retry_after is None else {"retry-after": str(retry_after)}
    if status >= 500:
        logger.warning("webhook answered %d: %s", status, reason)
    return JSONResponse({"error": reason}, status_code=status, headers=headers)
