"""WooCommerce REST API v3 on the wire, pure: the payload models, batch and read requests and
their answers, and the error tables. No I/O happens here (orders and webhooks: events.py).

Listing ids: `ListingRef.external_ids["product_id"]`, plus `["variation_id"]` for a variation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from omnistock.adapters.base import (
    ItemResult,
    ItemStatus,
    ListingRef,
    ObservedLevel,
    StockUpdate,
)
from omnistock.domain.errors import (
    AuthFailedError,
    ChannelError,
    PermanentError,
    RateLimitedError,
    TransientError,
)
from omnistock.domain.ids import AccountId

PRODUCT_ID = "product_id"
VARIATION_ID = "variation_id"
PER_PAGE = 100  # WordPress caps per_page at 100

# --- payload models: only the fields sync reads; everything else is ignored -------------


class _Payload(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class WooErrorData(_Payload):
    status: int | None = None


class WooError(_Payload):
    """WooCommerce's error body: `{"code", "message", "data": {"status"}}`."""

    code: str = ""
    message: str = ""
    data: WooErrorData | None = None


class StockRow(_Payload):
    """A product or variation as the REST API (or a product.updated webhook) shows it."""

    id: int
    type: str | None = None  # "variation" when a variation is served by /products/{id}
    parent_id: int = 0
    manage_stock: bool | str | None = None  # a variation may say "parent"
    stock_quantity: int | None = None
    date_modified_gmt: str | None = None
    error: WooError | None = None  # set instead of the fields on a failed batch item

    def shown(self) -> int | None:
        """The quantity shoppers see, or None when stock is not managed."""
        return self.stock_quantity if self.manage_stock in (True, "parent") else None


class BatchResponse(_Payload):
    update: list[StockRow] = []


_ROWS = TypeAdapter(list[StockRow])


class WooLineItem(_Payload):
    id: int
    product_id: int = 0
    variation_id: int = 0
    sku: str | None = None
    quantity: int


class WooOrder(_Payload):
    id: int
    status: str
    date_modified_gmt: str
    line_items: list[WooLineItem] = []


# --- listing ids ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, order=True)
class Target:
    """Where a listing's stock is written: a product, or a variation of `product_id`."""

    product_id: int
    variation_id: int | None = None

    @property
    def key(self) -> str:
        """The platform id webhooks report for this listing (echo filter key)."""
        return str(self.variation_id or self.product_id)

    @property
    def collection(self) -> str:
        if self.variation_id is None:
            return "products"
        return f"products/{self.product_id}/variations"

    @property
    def item_id(self) -> int:
        return self.variation_id or self.product_id

    def external_ids(self) -> dict[str, str]:
        """The ids as ListingRef.external_ids spells them."""
        ids = {PRODUCT_ID: str(self.product_id)}
        if self.variation_id is not None:
            ids[VARIATION_ID] = str(self.variation_id)
        return ids


def target_of(ref: ListingRef) -> Target | None:
    """The ids in `ref.external_ids`, or None when they are missing or not positive integers."""
    product = _positive(ref.external_ids.get(PRODUCT_ID))
    variation_raw = ref.external_ids.get(VARIATION_ID)
    variation = _positive(variation_raw)
    if product is None or (variation_raw not in (None, "", "0") and variation is None):
        return None
    return Target(product, variation)


def _positive(raw: str | None) -> int | None:
    return int(raw) if raw is not None and raw.isdigit() and int(raw) > 0 else None


# --- push: planning, outcomes ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Write:
    """One object of a batch: the last quantity asked for `target`, answering `indexes`."""

    target: Target
    quantity: int
    indexes: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class BatchCall:
    """One POST to `{collection}/batch` with at most max_batch updates."""

    collection: str
    writes: tuple[Write, ...]

    @property
    def path(self) -> str:
        return f"{self.collection}/batch"

    def body(self) -> dict[str, object]:
        # manage_stock with the quantity: an unmanaged item would otherwise drop the number.
        updates = [
            {"id": w.target.item_id, "manage_stock": True, "stock_quantity": w.quantity}
            for w in self.writes
        ]
        return {"update": updates}


@dataclass(frozen=True, slots=True)
class PushPlan:
    calls: tuple[BatchCall, ...]
    unaddressable: tuple[int, ...]  # indexes whose ref lacks usable platform ids


def plan_push(updates: Sequence[StockUpdate], max_batch: int) -> PushPlan:
    """Group writes by collection, then split at `max_batch`. An item named twice is written
    once, with its last quantity, so one push never applies an item twice."""
    latest: dict[Target, tuple[int, list[int]]] = {}
    bad: list[int] = []
    for index, update in enumerate(updates):
        target = target_of(update.ref)
        if target is None:
            bad.append(index)
            continue
        indexes = latest[target][1] if target in latest else []
        latest[target] = (update.quantity, [*indexes, index])
    groups: dict[str, list[Write]] = {}
    for target, (quantity, indexes) in latest.items():
        groups.setdefault(target.collection, []).append(Write(target, quantity, tuple(indexes)))
    calls = [
        BatchCall(collection, tuple(writes[i : i + max_batch]))
        for collection, writes in groups.items()
        for i in range(0, len(writes), max_batch)
    ]
    return PushPlan(tuple(calls), tuple(bad))


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """What became of one write; becomes the ItemResult of every index it answers."""

    status: ItemStatus
    reason: str | None = None
    observed: int | None = None
    retry_after: float | None = None

    def result(self, update: StockUpdate) -> ItemResult:
        """This outcome as the ItemResult of `update`."""
        return ItemResult(
            listing=update.ref.listing,
            status=self.status,
            reason=self.reason,
            observed=self.observed,
            retry_after=self.retry_after,
        )


UNADDRESSABLE = Outcome(
    status=ItemStatus.FAILED_PERMANENT,
    reason=f"listing has no usable external_ids[{PRODUCT_ID!r}] / [{VARIATION_ID!r}]",
)

# Per-item batch errors, by Woo code: a missing item or a refused value fails the same way
# again; anything unlisted falls back to its data.status (see item_status).
_PERMANENT_ITEM_CODES = frozenset(
    {
        "woocommerce_rest_product_invalid_id",
        "woocommerce_rest_product_variation_invalid_id",
        "woocommerce_rest_invalid_product_id",
        "woocommerce_rest_product_invalid_type",
        "woocommerce_rest_cannot_edit",
        "woocommerce_rest_cannot_update",
        "rest_invalid_param",
        "product_invalid_sku",
    }
)
_RETRYABLE_ITEM_STATUSES = frozenset({408, 409, 425, 429})


def item_status(error: WooError) -> ItemStatus:
    """Pure table: FAILED_PERMANENT or FAILED_RETRYABLE for one failed batch item."""
    if error.code in _PERMANENT_ITEM_CODES:
        return ItemStatus.FAILED_PERMANENT
    status = error.data.status if error.data else None
    if status is None or status >= 500 or status in _RETRYABLE_ITEM_STATUSES:
        return ItemStatus.FAILED_RETRYABLE
    return ItemStatus.FAILED_PERMANENT


def batch_outcomes(call: BatchCall, payload: object) -> tuple[Outcome, ...]:
    """One Outcome per write of `call`, from the batch response body (matched by id)."""
    rows = {row.id: row for row in _batch_rows(payload)}
    return tuple(_write_outcome(w, rows.get(w.target.item_id)) for w in call.writes)


def _batch_rows(payload: object) -> list[StockRow]:
    try:
        return BatchResponse.model_validate(payload).update
    except ValidationError as exc:
        raise ValueError("batch response is not {update: [...]}") from exc


def _write_outcome(write: Write, row: StockRow | None) -> Outcome:
    if row is None:
        return Outcome(status=ItemStatus.FAILED_RETRYABLE, reason="missing from batch response")
    if row.error is not None:
        return Outcome(status=item_status(row.error), reason=_describe(row.error))
    if row.stock_quantity != write.quantity:
        reason = f"channel kept stock_quantity {row.stock_quantity}, sent {write.quantity}"
        return Outcome(status=ItemStatus.FAILED_RETRYABLE, reason=reason, observed=row.shown())
    return Outcome(status=ItemStatus.SUCCEEDED, observed=row.stock_quantity)


def failed_call_outcome(error: ChannelError) -> Outcome:
    """The outcome of every write of a batch call that failed as a whole."""
    if isinstance(error, TransientError):
        return Outcome(
            status=ItemStatus.FAILED_RETRYABLE, reason=str(error), retry_after=error.retry_after
        )
    return Outcome(status=ItemStatus.FAILED_PERMANENT, reason=str(error))


# --- whole-call failures -------------------------------------------------------------------

_AUTH_CODES = frozenset(
    {
        "woocommerce_rest_authentication_error",
        "woocommerce_rest_cannot_view",
        "woocommerce_rest_cannot_edit",
        "woocommerce_rest_cannot_batch",
        "rest_forbidden",
    }
)
_TRANSIENT_STATUSES = frozenset({408, 425})  # and every 5xx


def error_class(status: int, code: str | None, retry_after: float | None) -> type[ChannelError]:
    """Pure table from an HTTP failure (status, Woo error code, Retry-After) to the error tree.

    429, and 503 or a WAF's 403 that carry Retry-After, are the host pacing us; 401/403
    otherwise are refused keys; 5xx and timeouts are transient; other 4xx are permanent."""
    if status == 429 or (status in (403, 503) and retry_after is not None):
        return RateLimitedError
    if status in (401, 403) or code in _AUTH_CODES:
        return AuthFailedError
    if status >= 500 or status in _TRANSIENT_STATUSES:
        return TransientError
    return PermanentError


def call_error(
    status: int, body: bytes, retry_after: float | None, *, account: AccountId
) -> ChannelError:
    """The ChannelError for a failed HTTP answer. Woo JSON bodies give the code and message;
    host pages (HTML) are not quoted, and neither are credentials (none are in a body)."""
    error = woo_error(body)
    code = error.code if error else None
    cls = error_class(status, code, retry_after)
    message = _describe(error) if error else "host answered without a WooCommerce error body"
    if issubclass(cls, TransientError):
        return cls(message, account=account, status=status, retry_after=retry_after)
    return cls(message, account=account, status=status)


def woo_error(body: bytes) -> WooError | None:
    try:
        error = WooError.model_validate_json(body)
    except ValidationError:
        return None
    return error if error.code else None


def _describe(error: WooError) -> str:
    return f"{error.code}: {error.message}"[:300]


# --- read --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReadCall:
    """GET `{collection}?include=…`: at most PER_PAGE ids of one collection."""

    collection: str
    ids: tuple[int, ...]

    def params(self) -> dict[str, str]:
        return {"include": ",".join(map(str, self.ids)), "per_page": str(PER_PAGE)}


def plan_read(targets: Iterable[Target | None]) -> tuple[ReadCall, ...]:
    """One call per collection and PER_PAGE distinct ids, in first-seen order."""
    groups: dict[str, dict[int, None]] = {}
    for target in targets:
        if target is not None:
            groups.setdefault(target.collection, {})[target.item_id] = None
    return tuple(
        ReadCall(collection, tuple(ids)[i : i + PER_PAGE])
        for collection, ids in groups.items()
        for i in range(0, len(ids), PER_PAGE)
    )


Found = Mapping[tuple[str, int], int | None]  # (collection, id) → shown quantity


def shown_levels(call: ReadCall, payload: object) -> dict[tuple[str, int], int | None]:
    """(collection, id) → shown quantity, from the listing answered to `call`."""
    try:
        rows = _ROWS.validate_python(payload)
    except ValidationError as exc:
        raise ValueError("unexpected product listing") from exc
    return {(call.collection, row.id): row.shown() for row in rows}


def observed_levels(
    refs: Sequence[ListingRef], targets: Sequence[Target | None], found: Found
) -> list[ObservedLevel]:
    """One level per ref, in order; None for refs that are missing or unmanaged."""
    return [
        ObservedLevel(
            listing=ref.listing,
            quantity=None if t is None else found.get((t.collection, t.item_id)),
        )
        for ref, t in zip(refs, targets, strict=True)
    ]
