"""Fulfillment API v1 `GET /order` (filter lastmodifieddate / creationdate, limit ≤200,
record offset, orderIds ≤50) and `GET /order/{orderId}`; Post-Order cancellation."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from omnistock.kit.sandbox.ebay import representation as rep
from omnistock.kit.sandbox.ebay.errors import (
    FULFILLMENT_FILTER,
    FULFILLMENT_LIMIT,
    INVALID_TOKEN,
    ORDER_NOT_FOUND,
    error_response,
)
from omnistock.kit.sandbox.ebay.inventory_api import count_items
from omnistock.kit.sandbox.ebay.oauth import TokenBook, TokenKind
from omnistock.kit.sandbox.ebay.store import EbayStore, Order

MAX_LIMIT = 200
DEFAULT_LIMIT = 50
MAX_IDS = 50
DEFAULT_DAYS = 90
MAX_SPAN = 2 * 365 * 86_400.0
_RANGE = re.compile(r"(lastmodifieddate|creationdate):\[(.*?)\.\.(.*?)\]")


@dataclass(frozen=True, slots=True)
class DateFilter:
    field: str  # "creationdate" | "lastmodifieddate"
    start: float | None
    end: float | None


def parse_filter(text: str | None) -> DateFilter | None:
    """Pure: the date range of a getOrders filter. creationdate wins when both are given;
    other criteria (orderfulfillmentstatus) are accepted and ignored. Raises ValueError."""
    if not text:
        return None
    found = {m.group(1): (m.group(2), m.group(3)) for m in _RANGE.finditer(text)}
    if not found and "date" in text:
        raise ValueError(f"unreadable date filter: {text}")
    name = "creationdate" if "creationdate" in found else "lastmodifieddate"
    if name not in found:
        return None
    start, end = found[name]
    return DateFilter(name, _time(start), _time(end))


def _time(text: str) -> float | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def select(orders: list[Order], when: DateFilter | None, now: float) -> list[Order]:
    """Orders in range, oldest change first (⚠️ eBay's default order is unstated)."""
    if when is None:  # no filter: the last 90 days
        when = DateFilter("creationdate", now - DEFAULT_DAYS * 86_400, None)
    start = when.start if when.start is not None else now - MAX_SPAN
    end = when.end if when.end is not None else now + 1
    if end - start > MAX_SPAN:
        raise ValueError("the date range may span at most 2 years")
    chosen = [
        o
        for o in orders
        if start <= (o.created if when.field == "creationdate" else o.modified) <= end
    ]
    return sorted(chosen, key=lambda o: (o.modified, o.order_id))


class FulfillmentApi:
    def __init__(self, store: EbayStore, tokens: TokenBook) -> None:
        self.store = store
        self.tokens = tokens
        self._cancels: dict[str, str] = {}

    async def get_orders(self, request: Request) -> Response:
        params = request.query_params
        try:
            limit = int(params.get("limit", DEFAULT_LIMIT))
            offset = int(params.get("offset", 0))
        except ValueError:
            return error_response(FULFILLMENT_LIMIT)
        if not 1 <= limit <= MAX_LIMIT or offset < 0:
            return error_response(FULFILLMENT_LIMIT)
        try:
            orders = self._orders(params.get("orderIds"), params.get("filter"))
        except ValueError as exc:
            return error_response(FULFILLMENT_FILTER, long_message=str(exc))
        page = orders[offset : offset + limit]
        count_items(request, len(page))
        base = str(request.url.remove_query_params(["offset"]))
        sep = "&" if "?" in base else "?"
        doc: dict[str, object] = {
            "href": f"{base}{sep}offset={offset}",
            "limit": limit,
            "offset": offset,
            "total": len(orders),
            "orders": [rep.order(o, base) for o in page],
        }
        if offset + limit < len(orders):
            doc["next"] = f"{base}{sep}offset={offset + limit}"
        if offset > 0:
            doc["prev"] = f"{base}{sep}offset={max(offset - limit, 0)}"
        return JSONResponse(doc)

    def _orders(self, ids: str | None, filter_text: str | None) -> list[Order]:
        if ids:  # orderIds overrides every filter
            wanted = [i for i in ids.split(",") if i]
            if len(wanted) > MAX_IDS:
                raise ValueError(f"at most {MAX_IDS} orderIds")
            return [self.store.orders[i] for i in wanted if i in self.store.orders]
        when = parse_filter(filter_text)
        return select(list(self.store.orders.values()), when, self.store.clock.now())

    async def get_order(self, request: Request) -> Response:
        order = self.store.orders.get(request.path_params["order_id"])
        if order is None:
            return error_response(ORDER_NOT_FOUND)
        return JSONResponse(rep.order(order, str(request.base_url)))

    async def cancel(self, request: Request) -> Response:
        """Post-Order v2 `POST /cancellation` (Authorization: IAF <user token>): the seller
        cancels an unshipped order at once; asking again returns the same cancelId ⚠️."""
        auth = request.headers.get("authorization", "")
        bearer = "Bearer " + auth.removeprefix("IAF ").strip() if auth.startswith("IAF ") else None
        if self.tokens.kind_of(bearer) is not TokenKind.USER:
            return error_response(INVALID_TOKEN)
        body = await request.json()
        order_id = str(body.get("legacyOrderId")) if isinstance(body, dict) else ""
        order = self.store.orders.get(order_id)
        if order is None:
            return error_response(ORDER_NOT_FOUND)
        count_items(request, 1)
        if order_id in self._cancels:
            return JSONResponse({"cancelId": self._cancels[order_id]})
        self.store.cancel(order)
        self._cancels[order_id] = str(5_000_000_000 + len(self._cancels) + 1)
        return JSONResponse({"cancelId": self._cancels[order_id]}, status_code=201)

    def cancel_now(self, order: Order) -> None:
        """The buyer or eBay cancelled (the harness's way in)."""
        self.store.cancel(order)
