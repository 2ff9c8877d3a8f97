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

from omnistock.adapters.base import ChannelAdapter, ChannelEvent
from omnistock.bus.inbox import Inbox
from omnistock.domain.errors import InvalidInputError, StorageBusyError, WebhookRejectedError
from omnistock.domain.ids import AccountId
from omnistock.ingest.codec import channel_message

logger = logging.getLogger(__name__)

MAX_BODY = 1_000_000  # bytes; WooCommerce orders are a few kB, Shopify caps at far less
BUSY_RETRY_AFTER_S = 5

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
        routes=[Route("/webhooks/{account}", receiver.receive, methods=["POST"])],
        exception_handlers={404: _route_error, 405: _route_error},
    )


async def _route_error(request: Request, exc: Exception) -> JSONResponse:
    status = 405 if getattr(exc, "status_code", 404) == 405 else 404
    return _error(status, "method not allowed" if status == 405 else "no such route")


class _Receiver:
    def __init__(self, lookup: AdapterLookup, inbox: Inbox, max_body: int) -> None:
        self._lookup = lookup
        self._inbox = inbox
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
        try:
            return adapter.parse_webhook(dict(request.headers), body)
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
