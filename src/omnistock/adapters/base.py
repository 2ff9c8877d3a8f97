"""The one protocol every channel adapter implements, and the values it speaks in.

Capabilities and rate models are data; per-item results are values (a batch can
half-succeed); an exception means the whole call failed (see domain.errors)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol, TypeAlias, TypeGuard, runtime_checkable

from omnistock.domain.ids import AccountId, ListingId, Sku


@dataclass(frozen=True, slots=True)
class CostBucket:
    """Shopify GraphQL: query-cost points in a leaky bucket, restored per second."""

    capacity: int
    restore_per_s: float


@dataclass(frozen=True, slots=True)
class RateBurst:
    """Amazon SP-API: a token bucket per operation (rate per second and burst)."""

    per_s: float
    burst: int


@dataclass(frozen=True, slots=True)
class DailyQuota:
    """eBay: a number of calls per day for the API used, and the calls it takes at once."""

    calls: int
    max_in_flight: int = 1


@dataclass(frozen=True, slots=True)
class ServerPaced:
    """WooCommerce: no published limit; the site answers 429/503 with Retry-After."""

    max_in_flight: int


RateModel: TypeAlias = CostBucket | RateBurst | DailyQuota | ServerPaced


@dataclass(frozen=True, slots=True, kw_only=True)
class Capabilities:
    max_batch: int  # listings per write call
    rate: RateModel
    bulk_feed_from: int | None = None  # backlog from which a bulk feed beats single writes
    compare_and_set: bool = False  # the platform can refuse a write if the level moved
    # Seconds after which an ACCEPTED write should show: the dispatcher reads it back then.
    confirm_after_s: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ListingRef:
    """A listing as the adapter addresses it: omnistock's id and the platform's ids."""

    listing: ListingId
    sku: Sku
    external_ids: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class StockUpdate:
    """Set the shown quantity of one listing to `quantity` (absolute, never a delta)."""

    ref: ListingRef
    quantity: int
    sequence: int  # the ledger sequence the quantity reflects
    expected: int | None = None  # what omnistock last saw on the channel, for compare-and-set


class ItemStatus(StrEnum):
    SUCCEEDED = "succeeded"
    # Taken, to be applied later (Amazon answers ACCEPTED): confirmed by a read-back after
    # Capabilities.confirm_after_s, or by the platform's quantity-change notification.
    ACCEPTED = "accepted"
    FAILED_RETRYABLE = "failed_retryable"
    FAILED_PERMANENT = "failed_permanent"


@dataclass(frozen=True, slots=True, kw_only=True)
class ItemResult:
    """What became of one update of a batch."""

    listing: ListingId
    status: ItemStatus
    reason: str | None = None
    observed: int | None = None  # the quantity the channel reported back, when it did
    retry_after: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ObservedLevel:
    """What the channel shows for a listing (None: not found or stock not managed)."""

    listing: ListingId
    quantity: int | None


class ChannelEventType(StrEnum):
    ORDER_PLACED = "order_placed"
    ORDER_CANCELLED = "order_cancelled"
    ORDER_REFUNDED = "order_refunded"
    ORDER_FULFILLED = "order_fulfilled"
    QUANTITY_CHANGED = "quantity_changed"


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderLine:
    line_id: str
    quantity: int
    sku: Sku | None = None
    external_ids: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelEvent:
    """A fact reported by a channel, normalised; `dedupe_key` is stable across redelivery."""

    kind: ChannelEventType
    account: AccountId
    dedupe_key: str
    occurred_at: datetime
    order_id: str | None = None
    lines: tuple[OrderLine, ...] = ()
    restock: bool | None = None  # refunds and returns: whether the units go back on sale
    external_ids: Mapping[str, str] = field(default_factory=dict)  # quantity changes
    quantity: int | None = None  # quantity changes: the level the channel now shows


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderPage:
    events: tuple[ChannelEvent, ...]
    cursor: str | None  # pass back to continue; persisted by the poller
    more: bool  # another page is ready now


class ChannelAdapter(Protocol):
    @property
    def capabilities(self) -> Capabilities: ...

    async def push(self, updates: Sequence[StockUpdate]) -> Sequence[ItemResult]:
        """Set shown quantities. Exactly one result per update, in order; splits batches
        at `capabilities.max_batch`. Raises ChannelError only when the whole call failed."""
        ...

    async def read(self, refs: Sequence[ListingRef]) -> Sequence[ObservedLevel]:
        """What the channel shows now, one level per ref, in order (for reconciliation)."""
        ...

    async def poll_orders(self, cursor: str | None) -> OrderPage:
        """Orders changed since `cursor` (None: from the adapter's configured start), with an
        overlap window so that equal timestamps and clock skew never lose one; duplicates
        are expected and removed downstream by `dedupe_key`."""
        ...

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> Sequence[ChannelEvent]:
        """Pure: verify the signature over the raw body, then normalise.
        Raises WebhookRejectedError (forged, unsigned, stale, malformed)."""
        ...

    async def cancel_order(self, order_id: str, reason: str) -> bool:
        """Cancel a whole order on the channel (an oversell the merchant will not fill).
        False when the platform does not let a seller cancel it; raises ChannelError when
        the call failed. Idempotent: cancelling a cancelled order succeeds."""
        ...

    def is_echo(self, event: ChannelEvent) -> bool:
        """Whether a QUANTITY_CHANGED event only reports a write this adapter made
        recently (the platform's webhook echoing omnistock's own push)."""
        ...

    async def aclose(self) -> None:
        """Release the account's HTTP client."""
        ...


@runtime_checkable
class PreparesWebhooks(Protocol):
    """An adapter whose webhook check needs something fetched first (eBay: the public key a
    notification names). The webhook route awaits it before the synchronous parse_webhook."""

    async def prepare_webhook(self, headers: Mapping[str, str], body: bytes) -> None:
        """Fetch and cache what verifying this delivery needs; nothing if cached or if the
        delivery is malformed (parse_webhook rejects it). Raises ChannelError on failure."""
        ...


def prepares_webhooks(adapter: object) -> TypeGuard[PreparesWebhooks]:
    """isinstance(adapter, PreparesWebhooks), answered once per class: on a runtime-checkable
    protocol isinstance walks the protocol's members every time (a quarter of the webhook
    route's own work, per delivery)."""
    known = _PREPARES_WEBHOOKS.get(type(adapter))
    if known is None:
        known = _PREPARES_WEBHOOKS[type(adapter)] = isinstance(adapter, PreparesWebhooks)
    return known


_PREPARES_WEBHOOKS: dict[type, bool] = {}


@runtime_checkable
class GroupsWrites(Protocol):
    """An adapter whose platform writes listings in separate groups: one call never mixes
    two groups (WooCommerce writes variations through their parent product's endpoint).
    The dispatcher packs each batch from one group, so a batch is one call."""

    def write_group(self, ref: ListingRef) -> str:
        """The group `ref` is written in (any string; an unaddressable ref any group)."""
        ...


@runtime_checkable
class AnswersChallenges(Protocol):
    """An adapter whose platform proves the endpoint before sending to it (eBay's
    `GET endpoint?challenge_code=...`)."""

    def answer_challenge(self, challenge_code: str) -> Mapping[str, str]:
        """The JSON body that answers the challenge. Raises ConfigError when the account
        lacks what the answer needs."""
        ...


# --- onboarding: what a channel has, and the notifications it sends -------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class DiscoveredListing:
    """One listing as the channel has it, read by discovery: what linking matches (its SKU)
    and what a link stores (its external ids, as a ListingRef of it carries them)."""

    key: str  # the channel's own id for it, unique on the account (stable across reads)
    sku: str | None  # the channel's SKU; None or "" when the listing has none
    external_ids: Mapping[str, str]
    managed: bool  # the channel tracks its stock (omnistock may write it)
    quantity: int | None = None  # what it shows now (None: not managed, or not said)
    title: str = ""
    location: str | None = None  # the channel's location, where stock is per location


@dataclass(frozen=True, slots=True, kw_only=True)
class DiscoveryPage:
    listings: tuple[DiscoveredListing, ...]
    cursor: str | None  # pass back for the next page; None: every listing has been read
    total: int | None = None  # how many the channel says it has, when it says


@runtime_checkable
class DiscoversListings(Protocol):
    """An adapter that can read every listing of its account, page by page, within the
    platform's rate limits (the same limiter as its other calls)."""

    async def discover(self, cursor: str | None) -> DiscoveryPage:
        """The page after `cursor` (None: the first). A cursor stays valid across restarts,
        so an interrupted discovery resumes where it stopped. Raises ChannelError."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Subscription:
    """A notification subscription on the channel: what it sends, and where."""

    topic: str  # the platform's name for it (e.g. "orders/create", "order.updated")
    target: str  # where it is delivered (a URL; an SQS ARN or EventBridge for Amazon)
    id: str  # the channel's id for the subscription


@dataclass(frozen=True, slots=True, kw_only=True)
class SubscriptionReport:
    created: tuple[Subscription, ...] = ()
    kept: tuple[Subscription, ...] = ()  # already there as omnistock needs them
    removed: tuple[Subscription, ...] = ()


@runtime_checkable
class RegistersNotifications(Protocol):
    """An adapter that subscribes its account to the notifications omnistock needs through
    the platform's own API, idempotently."""

    async def register_notifications(self, target: str) -> SubscriptionReport:
        """Ensure every topic omnistock needs is delivered to `target`: create what is
        missing, keep what is there (calling twice creates nothing the second time)."""
        ...

    async def remove_notifications(self, target: str) -> SubscriptionReport:
        """Remove the subscriptions that deliver to `target` (the account is disconnected)."""
        ...
