"""Products and variations: read, update, list by SKU, and the 100-object batch endpoints.

Writes follow WC_REST_Products_Controller: stock_quantity only counts while stock is managed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from omnistock.kit.sandbox.woocommerce.errors import WooApiError, invalid_id, invalid_param
from omnistock.kit.sandbox.woocommerce.http import count_items, json_body, listing, path_id
from omnistock.kit.sandbox.woocommerce.representation import (
    Json,
    Site,
    product_json,
    variation_json,
)
from omnistock.kit.sandbox.woocommerce.store import (
    Item,
    WooProduct,
    WooStore,
    WooVariation,
    WriteFailedError,
)
from omnistock.kit.sandbox.woocommerce.validation import StockPatch, as_integer, parse_patch

BATCH_LIMIT = 100  # filter woocommerce_rest_batch_items_limit
BATCH_ACTIONS = ("create", "update", "delete")
ItemT = TypeVar("ItemT", WooProduct, WooVariation)


def apply_patch(store: WooStore, item: Item, patch: StockPatch) -> None:
    """Apply a validated write, then save (which recomputes stock_status and fires webhooks)."""
    try:
        store.check_writable(item)
    except WriteFailedError as exc:
        # WordPress's own code and message when the database refuses the save.
        raise WooApiError(500, "db_update_error", "Could not update post in the database.") from exc
    if patch.sku is not None:
        _check_sku(store, item, patch.sku)
        item.sku = patch.sku
    if patch.name is not None and isinstance(item, WooProduct):
        item.name = patch.name
    if patch.manage_stock is not None:
        item.manage_stock = patch.manage_stock
    if patch.backorders is not None:
        item.backorders = patch.backorders
    if item.manage_stock and patch.stock_quantity is not None:
        item.stock_quantity = patch.stock_quantity
    if not item.manage_stock:
        item.stock_quantity = None
        item.stock_status = patch.stock_status or item.stock_status
    store.touch(item)


def _check_sku(store: WooStore, item: Item, sku: str) -> None:
    owner = store.find_sku(sku) if sku else None
    if owner is not None and owner is not item:
        raise WooApiError(400, "product_invalid_sku", "Invalid or duplicated SKU.")


def batch_size(body: Mapping[str, object]) -> int:
    """Objects across create, update and delete; over BATCH_LIMIT the whole call is refused."""
    size = sum(len(v) for k in BATCH_ACTIONS if isinstance(v := body.get(k), list))
    if size > BATCH_LIMIT:
        raise WooApiError(
            413,
            "woocommerce_rest_request_entity_too_large",
            f"Unable to accept more than {BATCH_LIMIT} items for this request.",
        )
    return size


def item_error(item_id: object, err: WooApiError) -> Json:
    data = err.body()
    return {"id": item_id, "error": {k: data[k] for k in ("code", "message", "data")}}


class ProductsApi:
    """Handlers for /products and /products/{id}/variations."""

    def __init__(self, store: WooStore, site: Site) -> None:
        self._store = store
        self._site = site

    def _product(self, request: Request, status: int = 404) -> WooProduct:
        product = self._store.products.get(path_id(request, "product_id", "product"))
        if product is None:
            raise invalid_id("product", status)
        return product

    def _variation(self, request: Request, status: int = 404) -> WooVariation:
        product = self._product(request, status)
        variation = self._store.variations.get(path_id(request, "variation_id", "product"))
        if variation is None or variation.parent_id != product.id:
            raise invalid_id("product_variation", status)
        return variation

    def _product_json(self, product: WooProduct) -> Json:
        return product_json(self._site, self._store, product)

    def _variation_json(self, variation: WooVariation) -> Json:
        return variation_json(self._site, self._store, variation)

    async def list_products(self, request: Request) -> Response:
        products = _filter_include(request, list(self._store.products.values()))
        products = _filter_sku(request, products)
        products.sort(key=lambda p: (p.created, p.id), reverse=_descending(request))
        return listing(request, products, self._product_json)

    async def get_product(self, request: Request) -> Response:
        count_items(request, 1)
        return JSONResponse(self._product_json(self._product(request)))

    async def update_product(self, request: Request) -> Response:
        product = self._product(request, status=400)
        apply_patch(self._store, product, parse_patch(await json_body(request), variation=False))
        count_items(request, 1)
        return JSONResponse(self._product_json(product))

    async def list_variations(self, request: Request) -> Response:
        parent = self._product(request)
        variations = [self._store.variations[v] for v in parent.variation_ids]
        variations = _filter_sku(request, _filter_include(request, variations))
        variations.sort(key=lambda v: (v.created, v.id), reverse=_descending(request))
        return listing(request, variations, self._variation_json)

    async def get_variation(self, request: Request) -> Response:
        count_items(request, 1)
        return JSONResponse(self._variation_json(self._variation(request)))

    async def update_variation(self, request: Request) -> Response:
        variation = self._variation(request, status=400)
        apply_patch(self._store, variation, parse_patch(await json_body(request), variation=True))
        count_items(request, 1)
        return JSONResponse(self._variation_json(variation))

    async def batch_products(self, request: Request) -> Response:
        lookup = self._store.products.get
        return await self._batch(request, lookup, variation=False)

    async def batch_variations(self, request: Request) -> Response:
        parent = self._product(request)

        def lookup(vid: int) -> Item | None:
            variation = self._store.variations.get(vid)
            return variation if variation and variation.parent_id == parent.id else None

        return await self._batch(request, lookup, variation=True)

    async def _batch(
        self, request: Request, lookup: Callable[[int], Item | None], *, variation: bool
    ) -> Response:
        body = await json_body(request)
        count_items(request, batch_size(body))
        result: dict[str, list[Json]] = {}
        for action in BATCH_ACTIONS:
            entries = body.get(action)
            if isinstance(entries, list):
                result[action] = [self._batch_one(action, e, lookup, variation) for e in entries]
        return JSONResponse(result)

    def _batch_one(
        self, action: str, entry: object, lookup: Callable[[int], Item | None], variation: bool
    ) -> Json:
        resource = "product_variation" if variation else "product"
        entry_id = entry.get("id", 0) if isinstance(entry, dict) else entry
        try:
            if action != "update" or not isinstance(entry, dict):
                raise _unsupported(action)
            item = lookup(entry_id) if isinstance(entry_id, int) else None
            if item is None:
                raise invalid_id(resource, 400)
            apply_patch(self._store, item, parse_patch(entry, variation=variation))
        except WooApiError as err:
            return item_error(entry_id, err)
        if isinstance(item, WooVariation):
            return self._variation_json(item)
        return self._product_json(item)


def _unsupported(action: str) -> WooApiError:
    # The sandbox serves inventory sync: creating and deleting catalog items is not emulated.
    return WooApiError(501, "sandbox_not_implemented", f"The sandbox does not {action} items.")


def _filter_sku(request: Request, items: Sequence[ItemT]) -> list[ItemT]:
    """`sku` is a comma-separated list of exact SKUs."""
    wanted = request.query_params.get("sku")
    if not wanted:
        return list(items)
    skus = set(wanted.split(","))
    return [item for item in items if item.sku in skus]


def _filter_include(request: Request, items: Sequence[ItemT]) -> list[ItemT]:
    """`include`: a comma list (or repeated `include[]`) of ids; unknown ids are ignored."""
    raw = [
        part
        for key in ("include", "include[]")
        for value in request.query_params.getlist(key)
        for part in value.split(",")
        if part
    ]
    if not raw:
        return list(items)
    wanted = {as_integer("include", part) for part in raw}
    return [item for item in items if item.id in wanted]


def _descending(request: Request) -> bool:
    order = request.query_params.get("order", "desc")
    if order not in ("asc", "desc"):
        raise invalid_param("order", "order is not one of asc, desc.")
    return order == "desc"
