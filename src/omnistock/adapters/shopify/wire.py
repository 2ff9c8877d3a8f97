"""Shopify Admin GraphQL 2026-04, pure: the documents omnistock sends, their planned cost,
request variables, and the classification of answers into results and ChannelErrors."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from omnistock.adapters.base import ItemResult, ItemStatus, ListingRef, StockUpdate
from omnistock.domain.errors import (
    AuthFailedError,
    ChannelError,
    PermanentError,
    RateLimitedError,
    TransientError,
)

API_VERSION = "2026-04"
GRAPHQL_PATH = f"/admin/api/{API_VERSION}/graphql.json"
TOKEN_PATH = "/admin/oauth/access_token"  # noqa: S105 - a path
INVENTORY_ITEM_ID = "inventory_item_id"  # external ids: numeric legacy ids, as strings
LOCATION_ID = "location_id"
VARIANT_ID = "variant_id"  # on order lines only: writes go by inventory item and location
STALE = "CHANGE_FROM_QUANTITY_STALE"
ORDERS_PAGE = 20
LINES_PAGE = 10

SET_QUANTITIES = """
mutation SetQuantities($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id }
    userErrors { field message code }
  }
}"""

READ_LEVELS = """
query ReadLevels($first: Int!, $query: String!, $location: ID!) {
  inventoryItems(first: $first, query: $query) {
    nodes {
      id
      inventoryLevel(locationId: $location) { quantities(names: ["available"]) { name quantity } }
    }
  }
}"""

ORDERS = """
query Orders($first: Int!, $after: String, $query: String!, $lines: Int!) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    nodes {
      id
      createdAt
      updatedAt
      cancelledAt
      lineItems(first: $lines) {
        nodes { id sku quantity variant { id inventoryItem { id } } }
      }
      fulfillmentOrders(first: 1) { nodes { assignedLocation { location { id } } } }
    }
    pageInfo { hasNextPage endCursor }
  }
}"""

CANCEL_ORDER = """
mutation CancelOrder($id: ID!) {
  orderCancel(orderId: $id, reason: OTHER, refund: false, restock: true, notifyCustomer: false) {
    job { id done }
    orderCancelUserErrors { field message code }
  }
}"""

DOCUMENTS = (SET_QUANTITIES, READ_LEVELS, ORDERS, CANCEL_ORDER)

# Planned requested cost (the sandbox's rules; Shopify's are the same in kind).
MUTATION_COST = 10


def read_cost(items: int) -> int:
    """inventoryItems connection (1) + per node: node, level, one quantity."""
    return 1 + 3 * items


def orders_cost(first: int = ORDERS_PAGE, lines: int = LINES_PAGE) -> int:
    """orders (1) + pageInfo (1) + per order: node, lineItems (1 + lines x 3), and
    fulfillmentOrders (1 + node, assignedLocation, location)."""
    return 2 + first * (1 + 1 + 3 * lines + 4)


def gid(kind: str, number: int | str) -> str:
    return f"gid://shopify/{kind}/{number}"


def legacy_id(value: object) -> str | None:
    """The numeric id at the end of a GID (None if `value` is not one)."""
    match = (
        re.fullmatch(r"gid://shopify/\w+/(\d+)(\?.*)?", value) if isinstance(value, str) else None
    )
    return match.group(1) if match else None


# --- targets and write plans -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Target:
    item: str  # numeric inventory item id
    location: str  # numeric location id

    @property
    def key(self) -> str:
        return f"{self.item}@{self.location}"


def target_of(ref: ListingRef) -> Target | None:
    item, location = ref.external_ids.get(INVENTORY_ITEM_ID), ref.external_ids.get(LOCATION_ID)
    if item is None or location is None or not item.isdigit() or not location.isdigit():
        return None
    return Target(item, location)


@dataclass(frozen=True, slots=True)
class Write:
    """One row of a set call; `indexes`: the updates it answers (a listing named twice)."""

    target: Target
    quantity: int
    change_from: int
    listing: str
    sequence: int
    indexes: tuple[int, ...]

    def row(self) -> dict[str, object]:
        return {
            "inventoryItemId": gid("InventoryItem", self.target.item),
            "locationId": gid("Location", self.target.location),
            "quantity": self.quantity,
            "changeFromQuantity": self.change_from,
        }


def plan_writes(
    updates: Sequence[StockUpdate], targets: Sequence[Target | None], current: Mapping[str, int]
) -> list[Write]:
    """One write per target, the last update naming it winning; the compare value is the
    update's `expected`, else the level read just now (`current`, by target key)."""
    last: dict[str, int] = {}
    indexes: dict[str, list[int]] = {}
    for i, target in enumerate(targets):
        if target is not None and (target.key in current or updates[i].expected is not None):
            last[target.key] = i
            indexes.setdefault(target.key, []).append(i)
    writes = []
    for key, i in last.items():
        update, target = updates[i], targets[i]
        if target is None:  # unreachable: only addressable updates are in `last`
            continue
        change_from = update.expected if update.expected is not None else current[key]
        writes.append(
            Write(
                target,
                update.quantity,
                change_from,
                str(update.ref.listing),
                update.sequence,
                tuple(indexes[key]),
            )
        )
    return writes


def set_variables(writes: Sequence[Write]) -> dict[str, object]:
    """Variables of SET_QUANTITIES; the idempotency key is derived from every row's listing,
    sequence and compare value, so a re-send of the same call replays and anything else
    is a new operation."""
    text = "|".join(f"{w.listing}:{w.sequence}:{w.quantity}:{w.change_from}" for w in writes)
    key = hashlib.sha256(text.encode()).hexdigest()
    rows = [w.row() for w in writes]
    return {
        "input": {
            "name": "available",
            "reason": "correction",
            "referenceDocumentUri": "omnistock://sync",
            "quantities": rows,
        },
        "key": key,
    }


@dataclass(frozen=True, slots=True)
class SetAnswer:
    applied: bool
    refused: Mapping[int, tuple[str, str]]  # row index -> (code, message)
    general: tuple[str, ...]  # user errors naming no row: every row failed


def set_answer(body: object, rows: int) -> SetAnswer:
    """Reads `data.inventorySetQuantities` (top-level errors are call_error's job)."""
    payload = _dig(body, "data", "inventorySetQuantities")
    if not isinstance(payload, dict):
        raise ValueError("no inventorySetQuantities payload")
    refused: dict[int, tuple[str, str]] = {}
    general: list[str] = []
    for error in payload.get("userErrors") or []:
        code, message = str(error.get("code")), str(error.get("message"))
        index = _row_index(error.get("field"))
        if index is not None and index < rows:
            refused[index] = (code, message)
        else:
            general.append(f"{code}: {message}")
    applied = payload.get("inventoryAdjustmentGroup") is not None and not refused and not general
    return SetAnswer(applied, refused, tuple(general))


def _row_index(field: object) -> int | None:
    if isinstance(field, list) and len(field) >= 3 and str(field[2]).isdigit():
        return int(field[2])
    return None


def refused_result(
    update: StockUpdate, code: str, message: str, observed: int | None
) -> ItemResult:
    status = ItemStatus.FAILED_RETRYABLE if code == STALE else ItemStatus.FAILED_PERMANENT
    return ItemResult(
        listing=update.ref.listing, status=status, reason=f"{code}: {message}", observed=observed
    )


def failed_result(update: StockUpdate, error: ChannelError) -> ItemResult:
    transient = isinstance(error, TransientError)
    return ItemResult(
        listing=update.ref.listing,
        status=ItemStatus.FAILED_RETRYABLE if transient else ItemStatus.FAILED_PERMANENT,
        reason=str(error),
        retry_after=error.retry_after if isinstance(error, TransientError) else None,
    )


# --- reads -----------------------------------------------------------------------------


def read_variables(targets: Sequence[Target]) -> dict[str, object]:
    query = " OR ".join(f"id:{t.item}" for t in targets)
    return {"first": len(targets), "query": query, "location": gid("Location", targets[0].location)}


def read_levels(body: object, location: str) -> dict[str, int]:
    """Target key -> available, for the items the answer holds (missing: not stocked)."""
    nodes = _dig(body, "data", "inventoryItems", "nodes")
    if not isinstance(nodes, list):
        raise ValueError("no inventoryItems nodes")
    found = {}
    for node in nodes:
        item = legacy_id(node.get("id"))
        level = node.get("inventoryLevel")
        quantities = level.get("quantities") if isinstance(level, dict) else None
        for q in quantities or []:
            if item is not None and q.get("name") == "available":
                found[f"{item}@{location}"] = int(q["quantity"])
    return found


# --- errors ----------------------------------------------------------------------------

_TRANSIENT: dict[str, type[TransientError]] = {
    "THROTTLED": RateLimitedError,
    "IDEMPOTENCY_CONCURRENT_REQUEST": TransientError,
    "INTERNAL_SERVER_ERROR": TransientError,
}


def call_error(
    status: int, body: object, retry_after: float | None, *, account: str
) -> ChannelError | None:
    """The ChannelError an answer means, or None when it carries data to read."""
    if status == 401:
        return AuthFailedError("access token refused", account=account, status=status)
    if status == 429 or status >= 500:
        kind = RateLimitedError if status == 429 else TransientError
        return kind(f"HTTP {status}", account=account, status=status, retry_after=retry_after)
    if status >= 400:
        return PermanentError(f"request refused: {_text(body)}", account=account, status=status)
    errors = body.get("errors") if isinstance(body, dict) else None
    if not errors:
        return None
    first = errors[0] if isinstance(errors, list) and errors else {}
    code = (first.get("extensions") or {}).get("code") if isinstance(first, dict) else None
    message = f"{code}: {first.get('message') if isinstance(first, dict) else errors}"
    transient = _TRANSIENT.get(str(code))
    if transient is not None:
        return transient(message, account=account, status=status, retry_after=retry_after)
    if code == "ACCESS_DENIED":
        return AuthFailedError(message, account=account, status=status)
    return PermanentError(message, account=account, status=status)


def _text(body: object) -> str:
    errors = body.get("errors") if isinstance(body, dict) else body
    return str(errors)[:200]


def _dig(body: object, *path: str) -> object:
    for name in path:
        if not isinstance(body, dict):
            return None
        body = body.get(name)
    return body
