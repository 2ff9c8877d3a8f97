"""Orders API 2026-01-01: searchOrders (createdAfter or lastUpdatedAfter windows ending at
least two minutes ago, filters, paginationToken) and getOrder, camelCase and unwrapped."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from omnistock.kit.sandbox.amazon.errors import error_list, standard_error
from omnistock.kit.sandbox.amazon.orders_api import VISIBILITY_LAG_S, BadQueryError, query_time
from omnistock.kit.sandbox.amazon.representation import FULFILLMENT_STATUS, iso, order_v2026
from omnistock.kit.sandbox.amazon.store import AmazonStore, Order

ORDERS_PATH = "/orders/2026-01-01/orders"
MAX_PAGE = 100
TOKEN_TTL_S = 24 * 3600.0  # "The token will expire after 24 hours."
MAX_MARKETPLACES = 50
INCLUDED_DATA = frozenset(
    {
        "BUYER",
        "RECIPIENT",
        "PROCEEDS",
        "EXPENSE",
        "PROMOTION",
        "CANCELLATION",
        "FULFILLMENT",
        "PACKAGES",
        "TAX",
        "PAYMENT",
        "FULFILLMENT_ORDERS",
    }
)
FULFILLED_BY = frozenset({"MERCHANT", "AMAZON"})
# Parameters a paginationToken request must repeat unchanged (all but these two).
_FREE_ON_PAGES = frozenset({"maxResultsPerPage", "includedData", "paginationToken"})


def _values(query: QueryParams, name: str) -> list[str]:
    """A Swagger 2.0 array parameter: csv (the default collectionFormat) or repeated."""
    return [v for raw in query.getlist(name) for v in raw.split(",") if v]


def _enum(query: QueryParams, name: str, allowed: frozenset[str]) -> list[str]:
    values = _values(query, name)
    wrong = [v for v in values if v not in allowed]
    if wrong:
        raise BadQueryError(f"Invalid {name}: {', '.join(wrong)}")
    return values


@dataclass(frozen=True, slots=True)
class Search:
    """One searchOrders query: by creation or by update time, within [after, before]."""

    by_update: bool
    after: float
    before: float
    statuses: frozenset[str]
    fulfilled_by: frozenset[str]
    marketplaces: frozenset[str]

    def selects(self, order: Order, marketplace: str) -> bool:
        moment = order.updated if self.by_update else order.created
        return (
            self.after <= moment <= self.before
            and (not self.statuses or FULFILLMENT_STATUS[order.status] in self.statuses)
            and (not self.fulfilled_by or "MERCHANT" in self.fulfilled_by)
            and (not self.marketplaces or marketplace in self.marketplaces)
        )

    def key(self, order: Order) -> tuple[float, str]:
        return (order.updated if self.by_update else order.created, order.id)


class OrdersV2026Api:
    """`enabled=False` plays an application without access to the new API: 403."""

    def __init__(self, store: AmazonStore, marketplace_id: str, *, enabled: bool = True) -> None:
        self._store = store
        self._marketplace = marketplace_id
        self.enabled = enabled

    async def search_orders(self, request: Request) -> Response:
        if not self.enabled:
            return _denied()
        query = request.query_params
        try:
            size = _page_size(query)
            included = _enum(query, "includedData", INCLUDED_DATA)
            token = self._resumed(query)
            search = self._search(query, None if token is None else token.before)
            if token is not None and token.fingerprint != _fingerprint(query):
                raise BadQueryError("paginationToken does not match the request parameters")
        except BadQueryError as exc:
            return standard_error(400, str(exc))
        position = (float("-inf"), "") if token is None else token.position
        chosen = sorted(
            (
                o
                for o in self._store.orders.values()
                if search.selects(o, self._marketplace) and search.key(o) > position
            ),
            key=search.key,
        )
        page = chosen[:size]
        body: dict[str, object] = {
            "orders": [order_v2026(o, self._marketplace, included) for o in page],
            "lastUpdatedBefore" if search.by_update else "createdBefore": iso(search.before),
        }
        if len(chosen) > size:
            body["pagination"] = {"nextToken": self._token(query, search, search.key(page[-1]))}
        return JSONResponse(body)

    async def get_order(self, request: Request) -> Response:
        if not self.enabled:
            return _denied()
        try:
            included = _enum(request.query_params, "includedData", INCLUDED_DATA)
        except BadQueryError as exc:
            return standard_error(400, str(exc))
        order = self._store.orders.get(request.path_params["order_id"])
        if order is None:
            return error_list(404, "NotFound", "The resource specified does not exist.")
        return JSONResponse({"order": order_v2026(order, self._marketplace, included)})

    # --- the query ---------------------------------------------------------------------

    def _search(self, query: QueryParams, pinned_before: float | None) -> Search:
        """The query's window; on later pages an omitted 'before' is the first page's."""
        created, updated = query.get("createdAfter"), query.get("lastUpdatedAfter")
        if (created is None) == (updated is None):
            raise BadQueryError("Exactly one of createdAfter and lastUpdatedAfter is required")
        by_update = updated is not None
        other = ("createdAfter", "createdBefore") if by_update else ("lastUpdatedBefore",)
        if any(name in query for name in other):
            raise BadQueryError("createdAfter/Before and lastUpdatedAfter/Before do not mix")
        bound = query.get("lastUpdatedBefore" if by_update else "createdBefore")
        latest = self._store.clock.now() - VISIBILITY_LAG_S
        after = query_time(updated if updated is not None else created or "")
        before = query_time(bound) if bound is not None else pinned_before
        before = latest if before is None else before
        if before > latest:
            raise BadQueryError("The 'before' date must be at least 2 minutes before now")
        if before < after:
            raise BadQueryError("The 'before' date must not be earlier than the 'after' date")
        marketplaces = _values(query, "marketplaceIds")
        if len(marketplaces) > MAX_MARKETPLACES:
            raise BadQueryError(f"At most {MAX_MARKETPLACES} marketplaceIds")
        return Search(
            by_update,
            after,
            before,
            frozenset(_enum(query, "fulfillmentStatuses", frozenset(FULFILLMENT_STATUS.values()))),
            frozenset(_enum(query, "fulfilledBy", FULFILLED_BY)),
            frozenset(marketplaces),
        )

    def _resumed(self, query: QueryParams) -> _Token | None:
        raw = query.get("paginationToken")
        if raw is None:
            return None
        token = _untoken(raw)
        if self._store.clock.now() > token.issued + TOKEN_TTL_S:
            raise BadQueryError("The paginationToken has expired")
        return token

    def _token(self, query: QueryParams, search: Search, position: tuple[float, str]) -> str:
        token = _Token(position, _fingerprint(query), self._store.clock.now(), search.before)
        doc = {"p": list(token.position), "f": token.fingerprint, "i": token.issued}
        doc["b"] = token.before
        return base64.urlsafe_b64encode(json.dumps(doc).encode()).decode()


@dataclass(frozen=True, slots=True)
class _Token:
    """Where the next page starts, the parameters it was issued for, when, and the
    window's end (an omitted 'before' stays the first page's, though "now" moved)."""

    position: tuple[float, str]
    fingerprint: str
    issued: float
    before: float


def _fingerprint(query: QueryParams) -> str:
    """The parameters a later page must repeat: all but maxResultsPerPage, includedData."""
    kept = sorted((k, v) for k, v in query.multi_items() if k not in _FREE_ON_PAGES)
    return hashlib.sha256(json.dumps(kept).encode()).hexdigest()[:32]


def _untoken(raw: str) -> _Token:
    try:
        doc = json.loads(base64.urlsafe_b64decode(raw.encode()))
        return _Token(
            (float(doc["p"][0]), str(doc["p"][1])), str(doc["f"]), float(doc["i"]), float(doc["b"])
        )
    except (ValueError, KeyError, TypeError, IndexError, binascii.Error) as exc:
        raise BadQueryError("Invalid paginationToken") from exc


def _page_size(query: QueryParams) -> int:
    raw = query.get("maxResultsPerPage", str(MAX_PAGE))
    size = int(raw) if raw.isdigit() else 0
    if not 1 <= size <= MAX_PAGE:
        raise BadQueryError("maxResultsPerPage must be 1-100")
    return size


def _denied() -> Response:
    return error_list(403, "Unauthorized", "Access to requested resource is denied.")
