"""Webhook ingestion over HTTP: `POST /webhooks/{account}` verifies, filters and persists.

Order of work: size limit, then the account adapter's signature check over the raw body
(before any parsing), then echo suppression, then the durable inbox, then 200. Bad input
gets a 4xx with its reason, never a 500; a busy store gets 503 so the platform retries."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse
from starlette.routing import Route

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


class _BodyTooLargeError(Exception):
    pass


def webhook_app(
    adapters: Mapping[AccountId, ChannelAdapter] | AdapterLookup,
    inbox: Inbox,
    *,
    max_body: int = MAX_BODY,
) -> Starlette:
    """The webhook endpoint for the accounts `adapters` knows (a mapping, or a lookup
    that answers None for an unknown account)."""
    lookup = adapters.get if isinstance(adapters, Mapping) else adapters
    receiver = _Receiver(lookup, inbox, max_body)
    return Starlette(
        routes=[
            Route("/webhooks/{account}", receiver.receive, methods=["POST"]),
            Route("/webhooks/{account}", receiver.challenge, methods=["GET"]),
        ],
        exception_handlers={404: _route_error, 405: _route_error},
    )


async def _route_error(request: Request, exc: Exception) -> JSONResponse:
    status = 405 if getattr(exc, "status_code", 404) == 405 else 404
    return _error(status, "method not allowed" if status == 405 else "no such route")


class _Receiver:
    def __init__(self, lookup: AdapterLookup, inbox: Inbox, max_body: int) -> None:
        self._lookup = lookup
        self._inbox = GroupPut(inbox)  # concurrent deliveries share a commit
        self._max_body = max_body

    async def receive(self, request: Request) -> JSONResponse:
        account = AccountId(request.path_params["account"])
        adapter = self._lookup(account)
        if adapter is None:
            return _error(404, "unknown account")
        verified = await self._verified(request, adapter)
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

    async def challenge(self, request: Request) -> JSONResponse:
        """A platform proving the endpoint before it sends (eBay): answer its challenge."""
        adapter = self._lookup(AccountId(request.path_params["account"]))
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
        self, request: Request, adapter: ChannelAdapter
    ) -> Sequence[ChannelEvent] | JSONResponse:
        """The delivery's events once its size and signature are checked, or the answer."""
        try:
            body = await self._read(request)
        except _BodyTooLargeError:
            return _error(413, f"body larger than {self._max_body} bytes")
        except ClientDisconnect:
            return _error(400, "client disconnected before the body was complete")
        # First value of a repeated name, as Mapping access gives; one pass over the list
        # (dict(request.headers) looks every name up again: 11% of a delivery's handling).
        headers = dict(reversed(request.headers.items()))
        try:
            if prepares_webhooks(adapter):
                await adapter.prepare_webhook(headers, body)
            return adapter.parse_webhook(headers, body)
        except ChannelError as unreachable:
            # The key to verify with could not be fetched: the platform will redeliver.
            return _error(503, f"cannot verify yet: {unreachable}", retry_after=BUSY_RETRY_AFTER_S)
        except WebhookRejectedError as rejected:
            return _error(rejected.status, rejected.reason)

    async def _read(self, request: Request) -> bytes:
        """The raw body, refused early by Content-Length and cut off while streaming."""
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self._max_body:
            raise _BodyTooLargeError
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > self._max_body:
                raise _BodyTooLargeError
        return bytes(body)


def _error(status: int, reason: str, *, retry_after: int | None = None) -> JSONResponse:
    headers = None if retry_after is None else {"retry-after": str(retry_after)}
    if status >= 500:
        logger.warning("webhook answered %d: %s", status, reason)
    return JSONResponse({"error": reason}, status_code=status, headers=headers)
