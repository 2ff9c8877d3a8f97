"""Orders: list with date filters and pagination, read one, and status changes.

`modified_after` is exclusive and dates have one-second resolution, as in WordPress.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from omnistock.kit.sandbox.woocommerce.errors import invalid_id, invalid_param
from omnistock.kit.sandbox.woocommerce.http import count_items, json_body, listing, path_id
from omnistock.kit.sandbox.woocommerce.representation import Json, Site, order_json
from omnistock.kit.sandbox.woocommerce.store import ORDER_STATUSES, WooOrder, WooStore
from omnistock.kit.sandbox.woocommerce.validation import as_boolean, as_enum, parse_iso_date

ORDERBY = ("date", "id", "include", "title", "slug", "modified")
OrderFilter = Callable[[WooOrder], bool]


def status_filter(raw: str | None) -> OrderFilter:
    """`status`: a comma list; `any` (the default) means every status except trash."""
    wanted = set((raw or "any").split(","))
    unknown = wanted - ORDER_STATUSES - {"any"}
    if unknown:
        raise invalid_param("status", f"status[0] is not one of any, {', '.join(ORDER_STATUSES)}.")
    if "any" in wanted:
        return lambda order: order.status != "trash"
    return lambda order: order.status in wanted


def sort_key(orderby: str) -> Callable[[WooOrder], tuple[int, int]]:
    """Ties on equal timestamps break by id, so pages are stable (MySQL does not promise it)."""
    if orderby == "modified":
        return lambda order: (order.modified, order.id)
    if orderby == "date":
        return lambda order: (order.created, order.id)
    return lambda order: (order.id, order.id)


class OrdersApi:
    """Handlers for /orders."""

    def __init__(self, store: WooStore, site: Site) -> None:
        self._store = store
        self._site = site

    def _order_json(self, order: WooOrder) -> Json:
        return order_json(self._site, order)

    def _order(self, request: Request, status: int = 404) -> WooOrder:
        order = self._store.orders.get(path_id(request, "order_id", "shop_order"))
        if order is None:
            raise invalid_id("shop_order", status)
        return order

    async def list_orders(self, request: Request) -> Response:
        filters = [status_filter(request.query_params.get("status")), *self._date_filters(request)]
        orders = [o for o in self._store.orders.values() if all(f(o) for f in filters)]
        orderby = as_enum("orderby", request.query_params.get("orderby", "date"), ORDERBY)
        order = as_enum("order", request.query_params.get("order", "desc"), ("asc", "desc"))
        orders.sort(key=sort_key(orderby), reverse=order == "desc")
        return listing(request, orders, self._order_json)

    def _date_filters(self, request: Request) -> list[OrderFilter]:
        params = request.query_params
        gmt = as_boolean("dates_are_gmt", params.get("dates_are_gmt", "false"))
        offset = 0 if gmt else self._site.utc_offset_s
        bounds = {
            name: parse_iso_date(name, params[name], assume_offset_s=offset)
            for name in ("after", "before", "modified_after", "modified_before")
            if name in params
        }
        return [_date_filter(name, bound) for name, bound in bounds.items()]

    async def get_order(self, request: Request) -> Response:
        count_items(request, 1)
        return JSONResponse(self._order_json(self._order(request)))

    async def update_order(self, request: Request) -> Response:
        order = self._order(request, status=400)
        body = await json_body(request)
        if "status" in body:
            status = as_enum("status", body["status"], tuple(sorted(ORDER_STATUSES)))
            self._store.set_order_status(order, status)
        count_items(request, 1)
        return JSONResponse(self._order_json(order))


def _date_filter(name: str, bound: int) -> OrderFilter:
    # WordPress's date_query `after`/`before` are exclusive.
    if name == "after":
        return lambda order: order.created > bound
    if name == "before":
        return lambda order: order.created < bound
    if name == "modified_after":
        return lambda order: order.modified > bound
    return lambda order: order.modified < bound
