"""Sandbox-only admin endpoints under `/_sandbox/`: faults, calls, truth, stats, shoppers,
and, where the platform's store provides them, orders (place, cancel) and stock; the
listings with their external ids (where the sandbox's face names them); and at
`/_sandbox` itself, an index of them all.

They are what a benchmark or a test drives over HTTP; in-process tests may call the same
objects directly.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from omnistock.kit.sandbox.common.core import SandboxCore
from omnistock.kit.sandbox.common.faults import FaultSettings
from omnistock.kit.sandbox.common.middleware import ADMIN_PREFIX
from omnistock.kit.sandbox.common.storefront import StorefrontListing
from omnistock.kit.sandbox.common.truth import OrderLine

ExtraStats = Callable[[], dict[str, object]]
Stock = Callable[[], Mapping[str, int]]
Listings = Callable[[], Sequence[StorefrontListing]]
MAX_LISTINGS_PAGE = 1000


@runtime_checkable
class ListsListings(Protocol):
    """A sandbox whose face says what it sells with each listing's external ids."""

    def listings(self) -> list[StorefrontListing]: ...


def listings_of(sandbox: object) -> Listings | None:
    """The sandbox's listings, when it is a face that names them (the emulator alone,
    which never imports the adapters' id keys, does not)."""
    return sandbox.listings if isinstance(sandbox, ListsListings) else None


def index(routes: Sequence[BaseRoute]) -> Route:
    """`GET /_sandbox`: every admin route with its methods, as JSON."""
    entries: dict[str, set[str]] = {}
    for route in routes:
        if isinstance(route, Route) and route.path.startswith(ADMIN_PREFIX):
            entries.setdefault(route.path, set()).update(route.methods or ())
    entries[ADMIN_PREFIX] = {"GET"}
    body = {
        "routes": [
            {"path": path, "methods": sorted(m for m in methods if m != "HEAD")}
            for path, methods in sorted(entries.items())
        ]
    }

    async def get_index(request: Request) -> Response:
        return JSONResponse(body)

    return Route(ADMIN_PREFIX, get_index, methods=["GET"])


def listings_route(listings: Listings) -> Route:
    """`GET /_sandbox/listings?offset=&limit=`: the listings with their external ids."""

    async def get_listings(request: Request) -> Response:
        try:
            offset = int(request.query_params.get("offset", "0"))
            limit = int(request.query_params.get("limit", "100"))
        except ValueError:
            return bad_request("offset and limit are integers")
        if offset < 0 or not 1 <= limit <= MAX_LISTINGS_PAGE:
            return bad_request(f"offset >= 0 and 1 <= limit <= {MAX_LISTINGS_PAGE}")
        found = listings()
        page = [
            {"sku": x.sku, "external_ids": dict(x.external_ids)}
            for x in found[offset : offset + limit]
        ]
        return JSONResponse(
            {"count": len(found), "offset": offset, "limit": limit, "listings": page}
        )

    return Route(f"{ADMIN_PREFIX}/listings", get_listings, methods=["GET"])


@dataclass(frozen=True, slots=True)
class OrderDesk:
    """A platform store's order operations, as the admin order routes use them."""

    place: Callable[[list[OrderLine]], str]  # the new order's id
    cancel: Callable[[int], Mapping[str, object] | None]  # the answer; None: no such order
    out_of_stock: type[Exception]  # what `place` raises when a line cannot be filled


class AdminBadRequestError(ValueError):
    """An admin request body that cannot be used."""


async def read_json(request: Request) -> object:
    try:
        return json.loads(await request.body() or b"null")
    except json.JSONDecodeError as exc:
        raise AdminBadRequestError(f"body is not JSON: {exc.msg}") from exc


def bad_request(message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=400)


class AdminApi:
    """The shared admin routes; `extra_stats` adds the platform's own counters, `orders`
    the order routes, `stock` the route that shows what each SKU shows shoppers."""

    def __init__(
        self,
        core: SandboxCore,
        extra_stats: ExtraStats | None = None,
        *,
        orders: OrderDesk | None = None,
        stock: Stock | None = None,
        listings: Listings | None = None,
    ) -> None:
        self._core = core
        self._extra_stats = extra_stats
        self._orders = orders
        self._stock = stock
        self._listings = listings

    def routes(self, extra: Sequence[Route] = ()) -> list[Route]:
        """The shared routes, the platform's `extra` ones, and the index of them all."""
        found = [*self._shared_routes(), *extra]
        if self._listings is not None:
            found.append(listings_route(self._listings))
        return [*found, index(found)]

    def _shared_routes(self) -> list[Route]:
        p = ADMIN_PREFIX
        return [
            Route(f"{p}/faults", self.get_faults, methods=["GET"]),
            Route(f"{p}/faults", self.put_faults, methods=["PUT"]),
            Route(f"{p}/calls", self.get_calls, methods=["GET"]),
            Route(f"{p}/calls", self.clear_calls, methods=["DELETE"]),
            Route(f"{p}/truth", self.get_truth, methods=["GET"]),
            Route(f"{p}/truth", self.put_truth, methods=["PUT"]),
            Route(f"{p}/stats", self.get_stats, methods=["GET"]),
            Route(f"{p}/shoppers", self.get_shoppers, methods=["GET"]),
            Route(f"{p}/shoppers", self.put_shoppers, methods=["PUT"]),
            Route(f"{p}/shoppers/start", self.start_shoppers, methods=["POST"]),
            Route(f"{p}/shoppers/stop", self.stop_shoppers, methods=["POST"]),
            *self._order_routes(),
        ]

    def _order_routes(self) -> list[Route]:
        p, routes = ADMIN_PREFIX, []
        if self._orders is not None:
            desk = _OrderRoutes(self._core, self._orders)
            routes += [
                Route(f"{p}/orders", desk.place, methods=["POST"]),
                Route(f"{p}/orders/{{order_id:int}}/cancel", desk.cancel, methods=["POST"]),
            ]
        if self._stock is not None:
            stock = self._stock

            async def get_stock(request: Request) -> Response:
                return JSONResponse(dict(stock()))

            routes.append(Route(f"{p}/stock", get_stock, methods=["GET"]))
        return routes

    async def get_faults(self, request: Request) -> Response:
        return JSONResponse(self._core.faults.to_json())

    async def put_faults(self, request: Request) -> Response:
        try:
            settings = FaultSettings.model_validate(await read_json(request))
        except (ValidationError, AdminBadRequestError) as exc:
            return bad_request(str(exc))
        self._core.faults.apply(settings)
        return JSONResponse(self._core.faults.to_json())

    async def get_calls(self, request: Request) -> Response:
        calls = self._core.calls
        records = [c.to_json() for c in calls.records()]
        return JSONResponse({"calls": records, "by_operation": calls.by_operation()})

    async def clear_calls(self, request: Request) -> Response:
        self._core.calls.clear()
        return Response(status_code=204)

    async def get_truth(self, request: Request) -> Response:
        return JSONResponse(self._core.truth.snapshot())

    async def put_truth(self, request: Request) -> Response:
        try:
            levels = _levels(await read_json(request))
        except AdminBadRequestError as exc:
            return bad_request(str(exc))
        self._core.truth.set(levels)
        return JSONResponse(self._core.truth.snapshot())

    async def get_stats(self, request: Request) -> Response:
        extra = self._extra_stats() if self._extra_stats else {}
        return JSONResponse({**self._core.stats(), **extra})

    async def get_shoppers(self, request: Request) -> Response:
        return JSONResponse({"rate": self._core.shoppers.rate})

    async def put_shoppers(self, request: Request) -> Response:
        return await self._set_rate(request, default=None)

    async def start_shoppers(self, request: Request) -> Response:
        return await self._set_rate(request, default=1.0)

    async def stop_shoppers(self, request: Request) -> Response:
        self._core.shoppers.set_rate(0.0)
        return JSONResponse({"rate": 0.0})

    async def _set_rate(self, request: Request, default: float | None) -> Response:
        try:
            rate = _rate(await read_json(request), default)
        except AdminBadRequestError as exc:
            return bad_request(str(exc))
        self._core.shoppers.set_rate(rate)
        return JSONResponse({"rate": rate})


class _OrderRoutes:
    def __init__(self, core: SandboxCore, desk: OrderDesk) -> None:
        self._core = core
        self._desk = desk

    async def place(self, request: Request) -> Response:
        try:
            lines = _order_lines(await read_json(request))
            order_id = self._desk.place(lines)
        except self._desk.out_of_stock as exc:
            return JSONResponse({"error": str(exc)}, status_code=409)
        except (AdminBadRequestError, ValueError) as exc:
            return bad_request(str(exc))
        self._core.truth.accept(lines)
        return JSONResponse({"id": int(order_id)}, status_code=201)

    async def cancel(self, request: Request) -> Response:
        answer = self._desk.cancel(request.path_params["order_id"])
        if answer is None:
            return JSONResponse({"error": "no such order"}, status_code=404)
        return JSONResponse(dict(answer))


def _levels(body: object) -> dict[str, int]:
    if not isinstance(body, dict) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in body.values()
    ):
        raise AdminBadRequestError('expected {"SKU": integer, ...}')
    return {str(k): int(v) for k, v in body.items()}


def _rate(body: object, default: float | None) -> float:
    raw = body.get("rate", default) if isinstance(body, dict) else default
    if isinstance(raw, bool) or not isinstance(raw, int | float) or raw < 0:
        raise AdminBadRequestError('expected {"rate": orders per second >= 0}')
    return float(raw)


def _order_lines(body: object) -> list[OrderLine]:
    raw = body.get("lines") if isinstance(body, dict) else None
    if not isinstance(raw, list) or not raw:
        raise AdminBadRequestError('expected {"lines": [{"sku": str, "quantity": int}, ...]}')
    lines = []
    for entry in raw:
        sku, qty = (entry.get("sku"), entry.get("quantity")) if isinstance(entry, dict) else (0, 0)
        if not isinstance(sku, str) or not isinstance(qty, int) or qty < 1:
            raise AdminBadRequestError("each line needs a sku and a quantity >= 1")
        lines.append(OrderLine(sku=sku, quantity=qty))
    return lines
