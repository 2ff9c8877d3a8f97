"""Sell Inventory API v1 handlers: inventory items (single, paged, bulk get, bulk replace),
bulk_update_price_quantity with 207 per-item answers, offers by SKU, item groups."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from omnistock.kit.sandbox.common.core import ITEMS_STATE_KEY
from omnistock.kit.sandbox.ebay import representation as rep
from omnistock.kit.sandbox.ebay.errors import (
    CONCURRENT,
    INVALID_VALUE,
    MISSING_LANGUAGE,
    NOT_FOUND,
    REVISION_LIMIT,
    SYSTEM_ERROR,
    USER_ERROR,
    EbayErrorKind,
    error_doc,
    error_response,
)
from omnistock.kit.sandbox.ebay.store import EbayStore, InventoryItem

MAX_BULK = 25
MAX_PAGE = 200
SKU_MAX = 50
Doc = dict[str, object]


class RequestError(ValueError):
    """The whole request is refused with `kind`."""

    def __init__(self, kind: EbayErrorKind, detail: str) -> None:
        super().__init__(detail)
        self.kind = kind


@dataclass(frozen=True, slots=True)
class QuantitySet:
    """One request of bulk_update_price_quantity, validated."""

    sku: str
    quantity: int | None
    by_location: dict[str, int]
    offers: list[Doc]


def count_items(request: Request, items: int) -> None:
    request.scope.setdefault("state", {})[ITEMS_STATE_KEY] = items


async def json_body(request: Request) -> object:
    if not request.headers.get("content-type", "").startswith("application/json"):
        raise RequestError(USER_ERROR, "Content-Type must be application/json")
    try:
        return await request.json()
    except ValueError:
        raise RequestError(USER_ERROR, "the body is not valid JSON") from None


def bulk_requests(body: object) -> list[Doc]:
    requests = body.get("requests") if isinstance(body, dict) else None
    if not isinstance(requests, list) or not requests or len(requests) > MAX_BULK:
        raise RequestError(INVALID_VALUE, f"requests: between 1 and {MAX_BULK} entries")
    if not all(isinstance(r, dict) for r in requests):
        raise RequestError(INVALID_VALUE, "requests: each entry must be an object")
    return requests


def bulk_answer(responses: Sequence[Doc]) -> JSONResponse:
    """200 when every item succeeded, else 207 Multi-Status."""
    ok = all(200 <= int(str(r["statusCode"])) < 300 for r in responses)
    return JSONResponse({"responses": list(responses)}, status_code=200 if ok else 207)


def item_error(sku: str, kind: EbayErrorKind, **extra: object) -> Doc:
    return {"statusCode": kind.status, "sku": sku, "errors": [error_doc(kind)], **extra}


def parse_quantity_set(raw: Doc) -> QuantitySet:
    sku = raw.get("sku")
    ship = raw.get("shipToLocationAvailability")
    offers = raw.get("offers") or []
    if not isinstance(sku, str) or not sku or not isinstance(offers, list):
        raise RequestError(INVALID_VALUE, "each request needs a sku")
    quantity, by_location = None, {}
    if isinstance(ship, dict):
        quantity = ship.get("quantity")
        for dist in ship.get("availabilityDistributions") or []:
            by_location[str(dist["merchantLocationKey"])] = int(dist["quantity"])
        if quantity is None and by_location:
            quantity = sum(by_location.values())
    if quantity is not None and (not isinstance(quantity, int) or quantity < 0):
        raise RequestError(INVALID_VALUE, f"{sku}: quantity must be an integer >= 0")
    return QuantitySet(sku, quantity, by_location, [o for o in offers if isinstance(o, dict)])


class InventoryApi:
    """The handlers; `write_hold_s` is how long (real seconds) a write holds its SKUs, so
    that overlapping writes to one SKU meet eBay's 25025."""

    def __init__(self, store: EbayStore, *, write_hold_s: float = 0.0) -> None:
        self.store = store
        self.write_hold_s = write_hold_s

    @contextmanager
    def _writing(self, skus: Sequence[str]) -> Iterator[None]:
        self.store.writing.update(skus)
        try:
            yield
        finally:
            self.store.writing.difference_update(skus)

    async def _hold(self) -> None:
        if self.write_hold_s > 0:
            await asyncio.sleep(self.write_hold_s)

    # --- bulk_update_price_quantity ---------------------------------------------------

    async def bulk_update_price_quantity(self, request: Request) -> Response:
        sets = [parse_quantity_set(r) for r in bulk_requests(await json_body(request))]
        count_items(request, len(sets))
        refused: dict[int, Doc] = {}
        seen: set[str] = set()
        for i, qs in enumerate(sets):
            kind = self._write_refusal(qs.sku, seen)
            seen.add(qs.sku)
            if kind is not None:
                refused[i] = item_error(qs.sku, kind)
        admitted = [qs.sku for i, qs in enumerate(sets) if i not in refused]
        with self._writing(admitted):
            await self._hold()
            return bulk_answer([refused.get(i) or self._apply_set(qs) for i, qs in enumerate(sets)])

    def _write_refusal(self, sku: str, seen: set[str]) -> EbayErrorKind | None:
        if sku not in self.store.items:
            return NOT_FOUND
        if sku in seen:
            return USER_ERROR  # the same SKU twice in one call
        if sku in self.store.writing:
            return CONCURRENT
        left = self.store.failing_writes.get(sku, 0)
        if left > 0:
            self.store.failing_writes[sku] = left - 1
            return SYSTEM_ERROR
        return None

    def _apply_set(self, qs: QuantitySet) -> Doc:
        item = self.store.items[qs.sku]
        changes = qs.quantity is not None and qs.quantity != item.quantity
        if (changes or qs.offers) and not self.store.revise(qs.sku):
            return item_error(qs.sku, REVISION_LIMIT)
        if qs.quantity is not None:
            self.store.set_quantity(item, qs.quantity, qs.by_location)
        for raw in qs.offers:
            offer = self.store.offers.get(str(raw.get("offerId")))
            if offer is None or offer.sku != qs.sku:
                return item_error(qs.sku, INVALID_VALUE, offerId=str(raw.get("offerId")))
            if isinstance(raw.get("availableQuantity"), int):
                offer.available_quantity = int(str(raw["availableQuantity"]))
            price = raw.get("price")
            if isinstance(price, dict):
                offer.price = {str(k): str(v) for k, v in price.items()}
        offer_id = next((o.offer_id for o in self.store.offers_of(qs.sku) if o.listing_id), None)
        answer: Doc = {"statusCode": 200, "sku": qs.sku, "errors": [], "warnings": []}
        if offer_id:
            answer["offerId"] = offer_id
        return answer

    # --- items ------------------------------------------------------------------------

    async def get_item(self, request: Request) -> Response:
        item = self.store.items.get(request.path_params["sku"])
        count_items(request, 1)
        if item is None:
            return error_response(NOT_FOUND)
        return JSONResponse(rep.inventory_item(item))

    async def list_items(self, request: Request) -> Response:
        limit, page = _int(request, "limit", 25), _int(request, "offset", 0)
        if not 1 <= limit <= MAX_PAGE or page < 0:
            return error_response(INVALID_VALUE, long_message="limit 1..200, offset >= 0")
        skus = sorted(self.store.items)
        chosen = skus[page * limit : (page + 1) * limit]  # offset is a page number
        count_items(request, len(chosen))
        base = str(request.url.remove_query_params(["limit", "offset"]))
        doc: Doc = {
            "href": f"{base}?limit={limit}&offset={page}",
            "limit": limit,
            "size": len(chosen),
            "total": len(skus),
            "inventoryItems": [rep.inventory_item(self.store.items[s]) for s in chosen],
        }
        if (page + 1) * limit < len(skus):
            doc["next"] = f"{base}?limit={limit}&offset={page + 1}"
        if page > 0:
            doc["prev"] = f"{base}?limit={limit}&offset={page - 1}"
        return JSONResponse(doc)

    async def bulk_get(self, request: Request) -> Response:
        requests = bulk_requests(await json_body(request))
        count_items(request, len(requests))
        responses = []
        for raw in requests:
            sku = str(raw.get("sku"))
            item = self.store.items.get(sku)
            if item is None:
                responses.append(item_error(sku, NOT_FOUND))
            else:
                responses.append(
                    {"statusCode": 200, "sku": sku, "inventoryItem": rep.inventory_item(item)}
                )
        return bulk_answer(responses)

    async def put_item(self, request: Request) -> Response:
        _require_language(request)
        sku = request.path_params["sku"]
        if len(sku) > SKU_MAX:
            return error_response(INVALID_VALUE, long_message="SKU longer than 50 characters")
        body = await json_body(request)
        count_items(request, 1)
        if sku in self.store.writing:
            return error_response(CONCURRENT)
        with self._writing([sku]):
            await self._hold()
            doc = self._replace(sku, body if isinstance(body, dict) else {}, request)
        return doc or Response(status_code=204)

    async def bulk_replace(self, request: Request) -> Response:
        _require_language(request)
        requests = bulk_requests(await json_body(request))
        count_items(request, len(requests))
        busy = {str(r.get("sku")) for r in requests} & self.store.writing
        free = [str(r.get("sku")) for r in requests if str(r.get("sku")) not in busy]
        responses: list[Doc] = []
        with self._writing(free):
            await self._hold()
            for raw in requests:
                sku = str(raw.get("sku"))
                if sku in busy:
                    responses.append(item_error(sku, CONCURRENT))
                    continue
                refused = self._replace(sku, raw, request)
                locale = str(raw.get("locale") or "en_US")
                responses.append(
                    {"statusCode": 200, "sku": sku, "locale": locale}
                    if refused is None
                    else item_error(sku, REVISION_LIMIT)
                )
        return bulk_answer(responses)

    def _replace(self, sku: str, body: Doc, request: Request) -> Response | None:
        """Full replacement: what the body omits is gone, availability included."""
        ship = _dig(body, "availability", "shipToLocationAvailability")
        quantity, by_location = 0, {}
        if isinstance(ship, dict):
            qs = parse_quantity_set({"sku": sku, "shipToLocationAvailability": ship})
            quantity, by_location = qs.quantity or 0, qs.by_location
        item = self.store.items.get(sku)
        if item is not None and item.quantity != quantity and not self.store.revise(sku):
            return error_response(REVISION_LIMIT)
        language = request.headers.get("content-language", "en-US")
        product = body.get("product")
        replaced = InventoryItem(
            sku=sku,
            locale=str(body.get("locale") or language.replace("-", "_")),
            condition=str(body["condition"]) if body.get("condition") else None,
            product=product if isinstance(product, dict) else {},
            quantity=quantity,
            distributions=by_location,
            group_keys=item.group_keys if item else [],
        )
        if not replaced.distributions and item is not None:
            replaced.distributions = dict.fromkeys(item.distributions, 0)
        self.store.items[sku] = replaced
        if by_location or quantity:
            self.store.set_quantity(replaced, quantity, by_location)
        return None

    # --- offers and groups ------------------------------------------------------------

    async def offers_by_sku(self, request: Request) -> Response:
        sku = request.query_params.get("sku")
        if not sku or sku not in self.store.items:
            return error_response(NOT_FOUND)
        offers = [rep.offer(o) for o in self.store.offers_of(sku)]
        count_items(request, len(offers))
        return JSONResponse(
            {
                "href": str(request.url),
                "limit": 100,
                "size": len(offers),
                "total": len(offers),
                "offers": offers,
            }
        )

    async def get_offer(self, request: Request) -> Response:
        offer = self.store.offers.get(request.path_params["offer_id"])
        if offer is None:
            return error_response(NOT_FOUND, long_message="offer not found")
        return JSONResponse(rep.offer(offer))

    async def get_group(self, request: Request) -> Response:
        group = self.store.groups.get(request.path_params["key"])
        if group is None:
            return error_response(NOT_FOUND, long_message="inventory item group not found")
        return JSONResponse(rep.item_group(group))

    async def put_group(self, request: Request) -> Response:
        _require_language(request)
        key = request.path_params["key"]
        body = await json_body(request)
        skus = body.get("variantSKUs") if isinstance(body, dict) else None
        if not isinstance(skus, list) or not all(s in self.store.items for s in skus):
            return error_response(INVALID_VALUE, long_message="variantSKUs must name items")
        old = self.store.groups.pop(key, None)
        for sku in old.variant_skus if old else []:
            self.store.items[sku].group_keys.remove(key)
        title = str(body.get("title") or key) if isinstance(body, dict) else key
        group = self.store.add_group(key, title, [str(s) for s in skus])
        if isinstance(body, dict) and isinstance(body.get("variesBy"), dict):
            group.varies_by = body["variesBy"]
        return Response(status_code=204)


def _require_language(request: Request) -> None:
    if not request.headers.get("content-language"):
        raise RequestError(MISSING_LANGUAGE, "Content-Language is required")


def _int(request: Request, name: str, default: int) -> int:
    text = request.query_params.get(name)
    if text is None:
        return default
    try:
        return int(text)
    except ValueError:
        raise RequestError(INVALID_VALUE, f"{name} must be an integer") from None


def _dig(body: object, *path: str) -> object:
    for name in path:
        body = body.get(name) if isinstance(body, dict) else None
    return body
