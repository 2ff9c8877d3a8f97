"""Small builders for catalog entities and events used by the store contract tests."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

from omnistock.domain.allocation import AllocationPolicy
from omnistock.domain.catalog import ChannelAccount, Item, Listing, Location
from omnistock.domain.events import (
    StockAdjusted,
    StockCounted,
    StockFulfilled,
    StockReceived,
    StockReleased,
    StockReserved,
    StockReturned,
)
from omnistock.domain.ids import AccountId, ListingId, LocationId, Sku
from omnistock.ledger.store import Store

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
WH = LocationId("wh1")
_keys = itertools.count()


def key(prefix: str = "k") -> str:
    return f"{prefix}-{next(_keys)}"


def received(sku: str, qty: int, *, k: str | None = None, loc: str = WH) -> StockReceived:
    return StockReceived(
        idempotency_key=key() if k is None else k,
        sku=Sku(sku),
        location=LocationId(loc),
        quantity=qty,
        source="test",
        occurred_at=T0,
    )


def reserved(sku: str, qty: int, *, k: str | None = None, loc: str = WH) -> StockReserved:
    line = key("line") if k is None else k
    return StockReserved(
        idempotency_key=line,
        sku=Sku(sku),
        location=LocationId(loc),
        quantity=qty,
        source="test",
        occurred_at=T0,
        order_line=line,
        account=AccountId("shop"),
    )


def released(sku: str, qty: int, *, k: str | None = None) -> StockReleased:
    return StockReleased(
        idempotency_key=key() if k is None else k,
        sku=Sku(sku),
        location=WH,
        quantity=qty,
        source="test",
        occurred_at=T0,
        order_line="line",
    )


def fulfilled(sku: str, qty: int) -> StockFulfilled:
    return StockFulfilled(
        idempotency_key=key(),
        sku=Sku(sku),
        location=WH,
        quantity=qty,
        source="test",
        occurred_at=T0,
        order_line="line",
    )


def adjusted(sku: str, delta: int) -> StockAdjusted:
    return StockAdjusted(
        idempotency_key=key(),
        sku=Sku(sku),
        location=WH,
        quantity=delta,
        source="test",
        occurred_at=T0,
        reason="damaged",
    )


def counted(sku: str, qty: int) -> StockCounted:
    return StockCounted(
        idempotency_key=key(),
        sku=Sku(sku),
        location=WH,
        quantity=qty,
        source="test",
        occurred_at=T0,
    )


def returned(sku: str, qty: int, *, restock: bool) -> StockReturned:
    return StockReturned(
        idempotency_key=key(),
        sku=Sku(sku),
        location=WH,
        quantity=qty,
        source="test",
        occurred_at=T0,
        restock=restock,
    )


async def seed(store: Store, skus: list[str], *, policy: AllocationPolicy | None = None) -> None:
    """Location wh1, the SKUs, one account `shop` and one listing `shop:SKU` per SKU."""
    await store.catalog.put_location(Location(id=WH, name="Main"))
    await store.catalog.put_items([Item(sku=Sku(s)) for s in skus])
    account = ChannelAccount(
        id=AccountId("shop"), platform="woocommerce", policy=policy or AllocationPolicy()
    )
    await store.catalog.put_account(account)
    await store.catalog.put_listings(
        [Listing(id=ListingId(f"shop:{s}"), account=account.id, sku=Sku(s)) for s in skus]
    )


async def desired(store: Store, sku: str) -> int:
    states = await store.sync.get([ListingId(f"shop:{sku}")])
    return states[ListingId(f"shop:{sku}")].desired_qty
