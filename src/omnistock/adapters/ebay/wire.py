"""eBay Sell Inventory v1 and OAuth, pure: paths, request bodies, per-item answers of the
bulk calls, and the tables that classify eBay errors into results and ChannelErrors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from omnistock.adapters.base import ItemResult, ItemStatus, StockUpdate
from omnistock.domain.errors import (
    AuthFailedError,
    ChannelError,
    PermanentError,
    RateLimitedError,
    TransientError,
)

TOKEN_PATH = "/identity/v1/oauth2/token"  # noqa: S105 - a path
INVENTORY = "/sell/inventory/v1"
BULK_UPDATE = f"{INVENTORY}/bulk_update_price_quantity"
BULK_GET = f"{INVENTORY}/bulk_get_inventory_item"
ORDERS = "/sell/fulfillment/v1/order"
CANCEL = "/post-order/v2/cancellation"
RATE_LIMIT = "/developer/analytics/v1_beta/rate_limit/"
PUBLIC_KEY = "/commerce/notification/v1/public_key/{kid}"
MAX_BULK = 25
LISTING_ID = "listing_id"  # external ids of a listing: the eBay ItemID
VARIATION_ID = "variation_id"  # and, in a multi-variation listing, the legacy variation id
SKU = "sku"  # the inventory item's SKU, which is what stock is written against
USER_SCOPES = (
    "https://api.ebay.com/oauth/api_scope/sell.inventory "
    "https://api.ebay.com/oauth/api_scope/sell.fulfillment"
)
APP_SCOPE = "https://api.ebay.com/oauth/api_scope"
NOTIFICATION_SCOPE = "https://api.ebay.com/oauth/api_scope/commerce.notification.subscription"

# errorIds with a meaning of their own: eBay documents 25025 for concurrent access to one
# SKU or item group and 25001 for a system error; 25099 for the revision limit is not
# confirmed by eBay's documentation (it is the number our sandbox answers).
CONCURRENT_ACCESS = 25025
SYSTEM_ERROR = 25001
REVISION_LIMIT = 25099
INVALID_TOKEN = 1001
INSUFFICIENT_PERMISSIONS = 1100
TOO_MANY_REQUESTS = 2001


class Outcome(StrEnum):
    """What became of one request of a bulk call."""

    DONE = "done"
    CONTENDED = "contended"  # 25025: another write held the SKU; resend it, never fail it
    RETRY = "retry"  # the item failed on its own; another attempt may succeed
    REVISIONS_EXHAUSTED = "revisions_exhausted"  # the listing's 250 revisions are spent
    FAILED = "failed"  # the same write will fail the same way


@dataclass(frozen=True, slots=True)
class Write:
    """One request of bulk_update_price_quantity; `indexes`: the updates it answers (the
    same SKU may be named twice in one push: the last update wins)."""

    sku: str
    quantity: int
    indexes: tuple[int, ...]

    def request(self) -> dict[str, object]:
        return {"sku": self.sku, "shipToLocationAvailability": {"quantity": self.quantity}}


def plan_writes(updates: Sequence[StockUpdate]) -> list[Write]:
    """One write per SKU, in order of first mention, carrying the last quantity."""
    last: dict[str, int] = {}
    indexes: dict[str, list[int]] = {}
    for i, update in enumerate(updates):
        last[update.ref.sku] = i
        indexes.setdefault(update.ref.sku, []).append(i)
    return [Write(sku, updates[i].quantity, tuple(indexes[sku])) for sku, i in last.items()]


def bulk_update_body(writes: Sequence[Write]) -> dict[str, object]:
    return {"requests": [w.request() for w in writes]}


def bulk_get_body(skus: Sequence[str]) -> dict[str, object]:
    return {"requests": [{"sku": sku} for sku in skus]}


@dataclass(frozen=True, slots=True)
class ItemAnswer:
    outcome: Outcome
    reason: str | None = None


def item_outcome(response: Mapping[str, object]) -> ItemAnswer:
    """Pure table: one entry of `responses` of a bulk call."""
    status = _int(response.get("statusCode"))
    errors = response.get("errors")
    first = errors[0] if isinstance(errors, list) and errors else None
    error_id = _error_id(first if isinstance(first, dict) else None)
    if 200 <= status < 300 and error_id is None:
        return ItemAnswer(Outcome.DONE)
    reason = _describe(first, status)
    if error_id == CONCURRENT_ACCESS:
        return ItemAnswer(Outcome.CONTENDED, reason)
    if error_id == REVISION_LIMIT:
        return ItemAnswer(Outcome.REVISIONS_EXHAUSTED, reason)
    if status >= 500 or error_id == SYSTEM_ERROR:
        return ItemAnswer(Outcome.RETRY, reason)
    return ItemAnswer(Outcome.FAILED, reason)


def answers_by_sku(body: object) -> dict[str, Mapping[str, object]]:
    """The `responses` of a bulk answer keyed by SKU. Raises ValueError if there are none."""
    responses = body.get("responses") if isinstance(body, dict) else None
    if not isinstance(responses, list):
        raise ValueError("no responses in the bulk answer")
    return {str(r.get("sku")): r for r in responses if isinstance(r, dict)}


def observed_quantity(response: Mapping[str, object]) -> int | None:
    """shipToLocationAvailability.quantity of one bulk_get answer (None: not found)."""
    if not 200 <= _int(response.get("statusCode")) < 300:
        return None
    item = response.get("inventoryItem")
    availability = item.get("availability") if isinstance(item, dict) else None
    ship = (
        availability.get("shipToLocationAvailability") if isinstance(availability, dict) else None
    )
    quantity = ship.get("quantity") if isinstance(ship, dict) else None
    return quantity if isinstance(quantity, int) else 0


def result_for(update: StockUpdate, answer: ItemAnswer, retry_after: float | None) -> ItemResult:
    """The ItemResult of one update whose write got `answer`."""
    if answer.outcome is Outcome.DONE:
        return ItemResult(
            listing=update.ref.listing, status=ItemStatus.SUCCEEDED, observed=update.quantity
        )
    permanent = answer.outcome is Outcome.FAILED
    return ItemResult(
        listing=update.ref.listing,
        status=ItemStatus.FAILED_PERMANENT if permanent else ItemStatus.FAILED_RETRYABLE,
        reason=answer.reason,
        retry_after=None if permanent else retry_after,
    )


def failed_result(update: StockUpdate, error: ChannelError) -> ItemResult:
    transient = isinstance(error, TransientError)
    return ItemResult(
        listing=update.ref.listing,
        status=ItemStatus.FAILED_RETRYABLE if transient else ItemStatus.FAILED_PERMANENT,
        reason=str(error),
        retry_after=error.retry_after if isinstance(error, TransientError) else None,
    )


# --- whole-call errors -------------------------------------------------------------------


def call_error(
    status: int, body: object, retry_after: float | None, *, account: str
) -> ChannelError | None:
    """Pure table: the ChannelError an answer means, or None when it carries data
    (2xx, including 207 whose items are read one by one)."""
    if 200 <= status < 300:
        return None
    first = first_error(body)
    error_id = _error_id(first)
    text = _describe(first, status)
    if status == 401 or error_id == INVALID_TOKEN:
        return AuthFailedError(text, account=account, status=status)
    if status == 403:
        return AuthFailedError(text, account=account, status=status)
    if status == 429 or error_id == TOO_MANY_REQUESTS:
        return RateLimitedError(text, account=account, status=status, retry_after=retry_after)
    if status >= 500 or error_id == CONCURRENT_ACCESS:
        return TransientError(text, account=account, status=status, retry_after=retry_after)
    return PermanentError(text, account=account, status=status)


def token_error(
    status: int, body: object, retry_after: float | None, *, account: str
) -> ChannelError:
    """Pure table for the token endpoint's `{"error","error_description"}` answers."""
    code = body.get("error") if isinstance(body, dict) else None
    if status == 429:
        return RateLimitedError(
            "token quota", account=account, status=status, retry_after=retry_after
        )
    if status >= 500:
        return TransientError(
            "token endpoint", account=account, status=status, retry_after=retry_after
        )
    if code in ("invalid_client", "invalid_grant", "unauthorized_client") or status == 401:
        return AuthFailedError(f"OAuth {code}", account=account, status=status)
    return PermanentError(f"OAuth {code}", account=account, status=status)


def first_error(body: object) -> Mapping[str, object] | None:
    errors = body.get("errors") if isinstance(body, dict) else None
    first = errors[0] if isinstance(errors, list) and errors else None
    return first if isinstance(first, dict) else None


def _describe(error: Mapping[str, object] | None, status: int) -> str:
    if error is None:
        return f"HTTP {status}"
    return f"{error.get('errorId')} {error.get('message')}"


def _error_id(error: Mapping[str, object] | None) -> int | None:
    value = error.get("errorId") if error is not None else None
    return value if isinstance(value, int) else None


def _int(value: object) -> int:
    try:
        return int(str(value))
    except ValueError:
        return 0
