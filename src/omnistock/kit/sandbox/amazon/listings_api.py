"""Listings Items API 2021-08-01: get, patch, put, delete and search. Writes answer ACCEPTED
with a submissionId at once and apply after `apply_delay_s` (Amazon is eventually
consistent); bad input is INVALID with issues, or 400 when the request cannot be parsed."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from omnistock.kit.sandbox.amazon.errors import error_list, standard_error
from omnistock.kit.sandbox.amazon.representation import listing_view
from omnistock.kit.sandbox.amazon.store import MAX_QUANTITY, AmazonStore
from omnistock.kit.sandbox.common.core import ITEMS_STATE_KEY

PREFIX = "/listings/2021-08-01/items"
FULFILLMENT = "fulfillment_availability"
OPS = frozenset({"add", "replace", "merge", "delete"})
# ⚠️ Sandbox issue codes: Amazon's numeric codes for these cases are not published as a set.
INVALID_VALUE = "4000001"
INTERNAL = "InternalFailure"  # the ErrorList code, used as the issue of a failed write
SEARCH_MAX_PAGE = 20
SEARCH_MAX_IDENTIFIERS = 20


class InvalidRequestError(ValueError):
    """A request Amazon rejects with 400 InvalidInput before looking at the listing."""


@dataclass(frozen=True, slots=True)
class Issue:
    code: str
    message: str
    categories: tuple[str, ...] = ("INVALID_ATTRIBUTE",)  # the model requires the list

    def to_json(self) -> dict[str, object]:
        return {
            "code": self.code,
            "message": self.message,
            "severity": "ERROR",
            "attributeNames": [FULFILLMENT],
            "categories": list(self.categories),
        }


def _missing(sku: str) -> Issue:
    """A write to a SKU the seller does not have: the models declare no 404 for patch or
    delete, so it is an INVALID submission (⚠️ the code is the sandbox's)."""
    return Issue(INVALID_VALUE, f"SKU '{sku}' does not exist; create it with a PUT first.", ())


class ListingsApi:
    def __init__(self, store: AmazonStore, marketplace_id: str, apply_delay_s: float) -> None:
        self._store = store
        self._marketplace = marketplace_id
        self._delay = apply_delay_s

    async def get(self, request: Request) -> Response:
        problem = self._check_address(request)
        if problem is not None:
            return problem
        sku = request.path_params["sku"]
        listing = self._store.listings.get(sku)
        if listing is None:
            return error_list(
                404, "NOT_FOUND", f"SKU '{sku}' not found in marketplace {self._marketplace}"
            )
        included = request.query_params.get("includedData", "summaries").split(",")
        return JSONResponse(listing_view(listing, self._marketplace, included))

    async def patch(self, request: Request) -> Response:
        request.state.__setattr__(ITEMS_STATE_KEY, 1)
        problem = self._check_address(request)
        if problem is not None:
            return problem
        sku = request.path_params["sku"]
        try:
            quantity, issues = _patched_quantity(await _body(request))
        except InvalidRequestError as exc:
            return standard_error(400, str(exc))
        if sku not in self._store.listings:
            return self._answer(sku, "INVALID", [_missing(sku)])
        return self._submit(sku, quantity, issues)

    async def put(self, request: Request) -> Response:
        request.state.__setattr__(ITEMS_STATE_KEY, 1)
        problem = self._check_address(request)
        if problem is not None:
            return problem
        sku = request.path_params["sku"]
        try:
            body = await _body(request)
            attributes = body.get("attributes")
            if not isinstance(body.get("productType"), str) or not isinstance(attributes, dict):
                raise InvalidRequestError("productType and attributes are required")
            quantity, issues = _quantity_of(attributes.get(FULFILLMENT))
        except InvalidRequestError as exc:
            return standard_error(400, str(exc))
        if sku not in self._store.listings and not issues:
            self._store.add_listing(sku, None, product_type=str(body["productType"]))
        return self._submit(sku, quantity, issues)

    async def delete(self, request: Request) -> Response:
        problem = self._check_address(request)
        if problem is not None:
            return problem
        sku = request.path_params["sku"]
        if sku not in self._store.listings:
            return self._answer(sku, "INVALID", [_missing(sku)])
        self._store.later(self._delay, lambda: self._store.remove(sku))
        return self._answer(sku, "ACCEPTED", [])

    async def search(self, request: Request) -> Response:
        if request.path_params["seller_id"] != self._store.seller_id:
            return standard_error(403, "The seller is not authorised for this application.")
        query = request.query_params
        try:
            start, size = _page(query, self._marketplace)
            wanted = _identifiers(query)
        except InvalidRequestError as exc:
            return standard_error(400, str(exc))
        skus = (
            sorted(self._store.listings)
            if wanted is None
            else [s for s in wanted if s in self._store.listings]
        )
        page = skus[start : start + size]
        included = query.get("includedData", "summaries").split(",")
        body: dict[str, object] = {
            "numberOfResults": len(skus),
            "items": [
                listing_view(self._store.listings[s], self._marketplace, included) for s in page
            ],
        }
        if start + size < len(skus):
            body["pagination"] = {"nextToken": str(start + size)}
        return JSONResponse(body)

    def _check_address(self, request: Request) -> Response | None:
        if request.path_params["seller_id"] != self._store.seller_id:
            return standard_error(403, "The seller is not authorised for this application.")
        if request.query_params.get("marketplaceIds") != self._marketplace:
            return standard_error(400, f"marketplaceIds must be {self._marketplace}")
        return None

    def _submit(self, sku: str, quantity: int | None, issues: list[Issue]) -> Response:
        if not issues and self._store.take_failure(sku):
            issues = [
                Issue(
                    INTERNAL,
                    "An internal error occurred while processing the submission. Resubmit it.",
                    (),
                )
            ]
        if issues:
            return self._answer(sku, "INVALID", issues)
        if quantity is not None:
            self._store.later(self._delay, lambda: self._store.set_quantity(sku, quantity))
        return self._answer(sku, "ACCEPTED", [])

    def _answer(self, sku: str, status: str, issues: list[Issue]) -> Response:
        return JSONResponse(
            {
                "sku": sku,
                "status": status,
                "submissionId": uuid.uuid4().hex,
                "issues": [i.to_json() for i in issues],
            }
        )


async def _body(request: Request) -> dict[str, object]:
    try:
        body = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidRequestError("body is not JSON") from exc
    if not isinstance(body, dict):
        raise InvalidRequestError("body is not an object")
    return body


def _page(query: QueryParams, marketplace_id: str) -> tuple[int, int]:
    """(start, size) of a search; the marketplace must be the sandbox's."""
    try:
        size = int(query.get("pageSize", "10"))
        start = int(query.get("pageToken") or 0)
    except ValueError:
        raise InvalidRequestError("pageSize and pageToken must be numbers") from None
    if not 1 <= size <= SEARCH_MAX_PAGE or query.get("marketplaceIds") != marketplace_id:
        raise InvalidRequestError("marketplaceIds and pageSize 1-20 are required")
    return start, size


def _identifiers(query: QueryParams) -> list[str] | None:
    """The distinct SKUs a search names (None: it names none), held to the model's rules:
    identifiers and identifiersType together, at most 20. ⚠️ Only SKU, the type the
    adapter uses, is served: a search by ASIN, EAN, ... is refused, not modelled."""
    raw, kind = query.get("identifiers"), query.get("identifiersType")
    if raw is None and kind is None:
        return None
    if raw is None or kind is None:
        raise InvalidRequestError("identifiers and identifiersType must be given together")
    if kind != "SKU":
        raise InvalidRequestError(f"identifiersType {kind!r}: the sandbox supports SKU only")
    wanted = [s for s in raw.split(",") if s]
    if not 1 <= len(wanted) <= SEARCH_MAX_IDENTIFIERS:
        raise InvalidRequestError(f"identifiers takes 1 to {SEARCH_MAX_IDENTIFIERS} values")
    return list(dict.fromkeys(wanted))


def _patched_quantity(body: dict[str, object]) -> tuple[int | None, list[Issue]]:
    """The DEFAULT quantity a ListingsItemPatchRequest sets (None: it sets none)."""
    patches = body.get("patches")
    if not isinstance(body.get("productType"), str) or not isinstance(patches, list) or not patches:
        raise InvalidRequestError("productType and at least one patch are required")
    quantity: int | None = None
    for patch in patches:
        if (
            not isinstance(patch, dict)
            or patch.get("op") not in OPS
            or not isinstance(patch.get("path"), str)
        ):
            raise InvalidRequestError("each patch needs op (add|replace|merge|delete) and path")
        if patch["path"] != f"/attributes/{FULFILLMENT}" or patch["op"] == "delete":
            continue  # other attributes are accepted and not modelled
        found, issues = _quantity_of(patch.get("value"))
        if issues:
            return None, issues
        quantity = found if found is not None else quantity
    return quantity, []


def _quantity_of(value: object) -> tuple[int | None, list[Issue]]:
    if value is None:
        return None, []
    if not isinstance(value, list) or not value:
        return None, [Issue(INVALID_VALUE, f"'{FULFILLMENT}' must be a non-empty list.")]
    quantity: int | None = None
    for entry in value:
        code = entry.get("fulfillment_channel_code") if isinstance(entry, dict) else None
        qty = entry.get("quantity") if isinstance(entry, dict) else None
        if code != "DEFAULT":
            return None, [
                Issue(INVALID_VALUE, f"Fulfillment channel '{code}' cannot be set by the seller.")
            ]
        if isinstance(qty, bool) or not isinstance(qty, int) or not 0 <= qty <= MAX_QUANTITY:
            return None, [
                Issue(INVALID_VALUE, f"'quantity' must be an integer from 0 to {MAX_QUANTITY}.")
            ]
        quantity = qty
    return quantity, []
