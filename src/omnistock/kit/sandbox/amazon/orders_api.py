"""Orders API v0: getOrders (the `payload` wrapper, LastUpdatedAfter/Before rules, NextToken)
and getOrderItems. Orders show only up to two minutes before now, as Amazon's do."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from omnistock.kit.sandbox.amazon.errors import standard_error
from omnistock.kit.sandbox.amazon.representation import iso, order_items_v0, order_v0
from omnistock.kit.sandbox.amazon.store import AmazonStore

ORDERS_PATH = "/orders/v0/orders"
# LastUpdatedBefore must be at least this far in the past; ⚠️ omitted, it defaults to it
# (MWS documented "now minus two minutes"; SP-API echoes the bound it used).
VISIBILITY_LAG_S = 120.0
MAX_PAGE = 100


class BadQueryError(ValueError):
    pass


def query_time(text: str) -> float:
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise BadQueryError(f"not an ISO 8601 date: {text}") from exc
    if parsed.tzinfo is None:
        raise BadQueryError(f"date without a zone: {text}")
    return parsed.timestamp()


class OrdersApi:
    def __init__(self, store: AmazonStore, marketplace_id: str) -> None:
        self._store = store
        self._marketplace = marketplace_id

    async def get_orders(self, request: Request) -> Response:
        try:
            after, before, position, size = self._window(request)
        except BadQueryError as exc:
            return standard_error(400, str(exc))
        # Keyset on (LastUpdateDate, id): an order updated while a client pages moves past
        # `before` instead of shifting the others onto a page already read.
        chosen = sorted(
            (
                o
                for o in self._store.orders.values()
                if after < o.updated <= before and (o.updated, o.id) > position
            ),
            key=lambda o: (o.updated, o.id),
        )
        page = chosen[:size]
        payload: dict[str, object] = {
            "Orders": [order_v0(o, self._marketplace) for o in page],
            "LastUpdatedBefore": iso(before),
        }
        if len(chosen) > size:
            last = page[-1]
            payload["NextToken"] = _token(after, before, (last.updated, last.id), size)
        return JSONResponse({"payload": payload})

    async def get_order_items(self, request: Request) -> Response:
        order = self._store.orders.get(request.path_params["order_id"])
        if order is None:
            return standard_error(404, "Invalid AmazonOrderId")
        return JSONResponse(order_items_v0(order))

    def _window(self, request: Request) -> tuple[float, float, tuple[float, str], int]:
        q = request.query_params
        if q.get("MarketplaceIds") != self._marketplace:
            raise BadQueryError("MarketplaceIds is required")
        if "NextToken" in q:
            return _untoken(q["NextToken"])
        created, updated = q.get("CreatedAfter"), q.get("LastUpdatedAfter")
        if (created is None) == (updated is None):
            raise BadQueryError("Exactly one of CreatedAfter and LastUpdatedAfter is required")
        if created is not None:
            raise BadQueryError("The sandbox serves LastUpdatedAfter queries only")
        latest = self._store.clock.now() - VISIBILITY_LAG_S
        after = query_time(updated or "")
        before = query_time(q["LastUpdatedBefore"]) if "LastUpdatedBefore" in q else latest
        if before > latest:
            raise BadQueryError("LastUpdatedBefore must be at least 2 minutes before now")
        if before < after:
            raise BadQueryError("LastUpdatedBefore must not be earlier than LastUpdatedAfter")
        raw_size = q.get("MaxResultsPerPage", str(MAX_PAGE))
        size = int(raw_size) if raw_size.isdigit() else 0
        if not 1 <= size <= MAX_PAGE:
            raise BadQueryError("MaxResultsPerPage must be 1-100")
        return after, before, (after, ""), size


def _token(after: float, before: float, position: tuple[float, str], size: int) -> str:
    doc = {"a": after, "b": before, "p": list(position), "s": size}
    return base64.urlsafe_b64encode(json.dumps(doc).encode()).decode()


def _untoken(token: str) -> tuple[float, float, tuple[float, str], int]:
    try:
        doc = json.loads(base64.urlsafe_b64decode(token.encode()))
        return (
            float(doc["a"]),
            float(doc["b"]),
            (float(doc["p"][0]), str(doc["p"][1])),
            int(doc["s"]),
        )
    except (ValueError, KeyError, TypeError, IndexError, binascii.Error) as exc:
        raise BadQueryError("Invalid NextToken") from exc
