"""Amazon SP-API requests and answers, pure: listing addresses, the patch and feed bodies,
submission and processing-report outcomes and the error table. No I/O here."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import quote

from omnistock.adapters.base import ItemResult, ItemStatus, ListingRef, StockUpdate
from omnistock.domain.errors import (
    AuthFailedError,
    ChannelError,
    PermanentError,
    RateLimitedError,
    TransientError,
)
from omnistock.domain.ids import AccountId

LISTINGS_VERSION = "2021-08-01"
FEEDS_VERSION = "2021-06-30"
FEED_TYPE = "JSON_LISTINGS_FEED"
FEED_CONTENT_TYPE = "application/json; charset=UTF-8"
LWA_URL = "https://api.amazon.com/auth/o2/token"
NOTIFICATIONS_SCOPE = "sellingpartnerapi::notifications"  # grantless Notifications operations
LWA_PATH = "/auth/o2/token"
DEFAULT_CHANNEL = "DEFAULT"  # merchant-fulfilled (MFN) stock
FULFILLMENT_PATH = "/attributes/fulfillment_availability"
# ⚠️ "PRODUCT" is the generic product type Amazon accepts for offer-only updates; a ref
# may name its real one in external_ids["product_type"].
GENERIC_PRODUCT_TYPE = "PRODUCT"
SKU = "sku"
PRODUCT_TYPE = "product_type"
# searchListingsItems: `identifiers` takes at most 20 (the model's maxItems), `pageSize` too,
# so one call of 20 SKUs answers them all on one page.
SEARCH_MAX_SKUS = 20
# ⚠️ Amazon documents no retryable listing issue; an issue carrying the ErrorList code of
# an internal failure is read as "resubmit", every other ERROR as a data problem.
RETRYABLE_ISSUE_CODES = frozenset({"InternalFailure"})


def seller_sku(ref: ListingRef) -> str:
    return ref.external_ids.get(SKU) or str(ref.sku)


def listings_path(seller_id: str) -> str:
    """searchListingsItems' address; a listing's own is below it."""
    return f"/listings/{LISTINGS_VERSION}/items/{quote(seller_id, safe='')}"


def listing_path(seller_id: str, sku: str) -> str:
    return f"{listings_path(seller_id)}/{quote(sku, safe='')}"


def patch_body(ref: ListingRef, quantity: int) -> dict[str, object]:
    """`merge` updates only the quantity of the DEFAULT channel, keeping lead time and
    restock date (the `merge` op exists since 2025-06-16)."""
    return {
        "productType": ref.external_ids.get(PRODUCT_TYPE) or GENERIC_PRODUCT_TYPE,
        "patches": [
            {
                "op": "merge",
                "path": FULFILLMENT_PATH,
                "value": [{"fulfillment_channel_code": DEFAULT_CHANNEL, "quantity": quantity}],
            }
        ],
    }


# --- outcomes ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one listing's write (shared by the updates that named it)."""

    status: ItemStatus
    reason: str | None = None
    retry_after: float | None = None

    def result(self, update: StockUpdate) -> ItemResult:
        return ItemResult(
            listing=update.ref.listing,
            status=self.status,
            reason=self.reason,
            retry_after=self.retry_after,
        )


# Amazon took the write and applies it later: the dispatcher confirms it by a read-back
# after Capabilities.confirm_after_s, or the quantity-change notification confirms it.
ACCEPTED = Outcome(ItemStatus.ACCEPTED)


def issues_outcome(issues: Sequence[Mapping[str, object]]) -> Outcome:
    """ERROR issues of a refused submission or feed message: retryable only if every one
    is an internal failure; the text of the issues is the reason."""
    errors = [i for i in issues if i.get("severity") == "ERROR"] or list(issues)
    reason = "; ".join(f"{i.get('code')}: {i.get('message')}" for i in errors)[:300]
    transient = bool(errors) and all(i.get("code") in RETRYABLE_ISSUE_CODES for i in errors)
    status = ItemStatus.FAILED_RETRYABLE if transient else ItemStatus.FAILED_PERMANENT
    return Outcome(status, reason or "refused without issues")


def submission_outcome(payload: object) -> Outcome:
    """A ListingsItemSubmissionResponse: ACCEPTED is taken, not applied (Amazon processes
    submissions asynchronously); INVALID fails with its issues."""
    if not isinstance(payload, dict) or not isinstance(payload.get("status"), str):
        raise ValueError("not a ListingsItemSubmissionResponse")
    if payload["status"] == "ACCEPTED":
        return ACCEPTED
    issues = payload.get("issues")
    return issues_outcome(
        [i for i in issues if isinstance(i, dict)] if isinstance(issues, list) else []
    )


def failed_call_outcome(error: ChannelError) -> Outcome:
    """The item of a refused per-listing call: retry transient failures, not the rest."""
    if isinstance(error, TransientError):
        return Outcome(ItemStatus.FAILED_RETRYABLE, str(error), error.retry_after)
    return Outcome(ItemStatus.FAILED_PERMANENT, str(error))


# --- read --------------------------------------------------------------------------------


def search_batches(skus: Sequence[str]) -> tuple[list[list[str]], list[str]]:
    """The SKUs in searches of up to SEARCH_MAX_SKUS each, and those that must be fetched
    one by one: `identifiers` is a comma-delimited list with no escape (percent-encoding
    is undone before the split), so a SKU holding a comma cannot be searched for."""
    searchable = [s for s in skus if "," not in s]
    batches = [
        searchable[i : i + SEARCH_MAX_SKUS] for i in range(0, len(searchable), SEARCH_MAX_SKUS)
    ]
    return batches, [s for s in skus if "," in s]


def search_query(marketplace_id: str, skus: Sequence[str]) -> dict[str, str]:
    """searchListingsItems for one of `search_batches`, all on one page; fulfillmentAvailability
    is the only data set a read needs."""
    return {
        "marketplaceIds": marketplace_id,
        "identifiers": ",".join(skus),
        "identifiersType": "SKU",
        "includedData": "fulfillmentAvailability",
        "pageSize": str(SEARCH_MAX_SKUS),
    }


def searched_quantities(payload: object, skus: Sequence[str]) -> dict[str, int | None]:
    """Each searched SKU's shown quantity in an ItemSearchResults answer: None for a SKU
    Amazon left out (it has no such listing) or one without an MFN offer."""
    items = payload.get("items") if isinstance(payload, dict) else None
    if not isinstance(items, list):
        raise ValueError("not an ItemSearchResults")
    found: dict[str, int | None] = {}
    for item in items:
        sku = item.get("sku") if isinstance(item, dict) else None
        if not isinstance(sku, str):
            raise ValueError("a searched item without its sku")
        found[sku] = shown_quantity(item)
    return {sku: found.get(sku) for sku in skus}


def shown_quantity(payload: object) -> int | None:
    """The DEFAULT channel's quantity of a listings Item (getListingsItem's answer or one
    searched item); None: no MFN offer."""
    entries = payload.get("fulfillmentAvailability") if isinstance(payload, dict) else None
    if entries is None:
        return None
    if not isinstance(entries, list):
        raise ValueError("fulfillmentAvailability is not a list")
    for entry in entries:
        if isinstance(entry, dict) and entry.get("fulfillmentChannelCode") == DEFAULT_CHANNEL:
            quantity = entry.get("quantity")
            return quantity if isinstance(quantity, int) else None
    return None


# --- errors ------------------------------------------------------------------------------

_AUTH_CODES = frozenset({"Unauthorized", "AccessDenied", "InvalidSignature", "invalid_client"})
_AUTH_CODES_LWA = frozenset({"invalid_grant", "unauthorized_client"})


def error_class(status: int, code: str | None) -> type[ChannelError]:
    """Pure table from an SP-API or LWA failure (HTTP status, ErrorList/LWA code) to the
    error tree: 429 (QuotaExceeded) backs off; 401/403 and refused grants are credentials;
    5xx (InternalFailure, ServiceUnavailable) is transient; other 4xx are permanent."""
    if status == 429 or code == "QuotaExceeded":
        return RateLimitedError
    if status in (401, 403) or code in _AUTH_CODES or code in _AUTH_CODES_LWA:
        return AuthFailedError
    if status >= 500 or status == 408:
        return TransientError
    return PermanentError


@dataclass(frozen=True, slots=True)
class ApiError:
    code: str
    message: str
    details: str = ""


def api_error(body: bytes) -> ApiError | None:
    """The first error of an ErrorList, or an LWA `{error, error_description}` answer."""
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(doc, dict):
        return None
    errors = doc.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        return ApiError(
            str(first.get("code")), str(first.get("message", "")), str(first.get("details") or "")
        )
    if isinstance(doc.get("error"), str):
        return ApiError(doc["error"], str(doc.get("error_description", "")))
    return None


def expired_token(error: ApiError | None) -> bool:
    """Amazon's 403 for an access token past its hour (renew and resend, not a refusal)."""
    return error is not None and error.code == "Unauthorized" and "expired" in error.details.lower()


def call_error(
    status: int, body: bytes, retry_after: float | None, *, account: AccountId
) -> ChannelError:
    """The ChannelError of a failed answer, quoting Amazon's code and message only."""
    error = api_error(body)
    cls = error_class(status, error.code if error else None)
    message = f"{error.code}: {error.message}"[:300] if error else "answer without an ErrorList"
    if issubclass(cls, TransientError):
        return cls(message, account=account, status=status, retry_after=retry_after)
    return cls(message, account=account, status=status)


# --- LWA ---------------------------------------------------------------------------------


def lwa_url(base_url: str) -> str:
    """Login with Amazon lives on api.amazon.com for every SP-API region; a sandbox
    (any other host) serves it itself at /auth/o2/token."""
    if ".amazon.com" in base_url.split("://", 1)[-1].split("/", 1)[0]:
        return LWA_URL
    return base_url.rstrip("/") + LWA_PATH
