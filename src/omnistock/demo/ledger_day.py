"""The ledger demo behind `make demo` until the engine exists: a small shop's day.

Stock arrives, two WooCommerce stores take orders, one order is cancelled, one returned, one
oversells; the balances and every listing's desired quantity are shown after each step."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from omnistock.domain.allocation import AllocationPolicy
from omnistock.domain.balance import Balance
from omnistock.domain.bundles import Bundle, BundleComponent
from omnistock.domain.catalog import ChannelAccount, Item, Listing, Location
from omnistock.domain.events import (
    LedgerEvent,
    StockFulfilled,
    StockReceived,
    StockReleased,
    StockReserved,
    StockReturned,
)
from omnistock.domain.ids import AccountId, ListingId, LocationId, Sku
from omnistock.ledger.store import Store
from omnistock.ledger.sync_state import ListingSyncState

MAIN = LocationId("main")
SKUS = {Sku("TEE-S"): "T-shirt S", Sku("TEE-M"): "T-shirt M", Sku("MUG"): "Mug"}
GIFT = Sku("GIFT-SET")
ACCOUNTS = (
    ChannelAccount(
        id=AccountId("woo-eu"),
        platform="woocommerce",
        name="EU store",
        policy=AllocationPolicy(safety_buffer=1),
    ),
    ChannelAccount(
        id=AccountId("woo-us"),
        platform="woocommerce",
        name="US store",
        policy=AllocationPolicy(share=0.5, max_shown=20),
    ),
)


@dataclass
class DemoReport:
    steps: list[str] = field(default_factory=list)
    orders_accepted: int = 0
    orders_rejected: int = 0
    events_applied: int = 0
    balances: dict[Sku, dict[LocationId, Balance]] = field(default_factory=dict)
    listings: list[ListingSyncState] = field(default_factory=list)
    verified: bool = False

    def to_json(self) -> dict[str, object]:
        return {
            "steps": self.steps,
            "orders_accepted": self.orders_accepted,
            "orders_rejected": self.orders_rejected,
            "events_applied": self.events_applied,
            "balances": {
                sku: {
                    loc: {"on_hand": b.on_hand, "reserved": b.reserved, "available": b.available}
                    for loc, b in at.items()
                }
                for sku, at in self.balances.items()
            },
            "listings": {
                s.listing: {"desired": s.desired_qty, "priority": s.priority} for s in self.listings
            },
            "verified": self.verified,
        }


async def run_demo(store: Store, seed: int) -> DemoReport:
    """Seed the shop, play the day, and read back balances, listings and verification."""
    await seed_shop(store)
    report = DemoReport()
    await run_day(store, seed, report)
    report.balances = await store.ledger.balances([i.sku for i in await store.catalog.items()])
    ids = [x.id for x in await store.catalog.listings()]
    states = await store.sync.get(ids)
    report.listings = [states[i] for i in ids]
    report.verified = (await store.verify()).ok
    return report


async def seed_shop(store: Store) -> None:
    await store.catalog.put_location(Location(id=MAIN, name="Main warehouse"))
    await store.catalog.put_items([Item(sku=s, name=n) for s, n in SKUS.items()])
    await store.catalog.put_items([Item(sku=GIFT, name="Gift set (T-shirt M + mug)")])
    parts = (BundleComponent(Sku("TEE-M"), 1), BundleComponent(Sku("MUG"), 1))
    await store.catalog.put_bundle(Bundle(GIFT, parts))
    for account in ACCOUNTS:
        await store.catalog.put_account(account)
        await store.catalog.put_listings(
            [
                Listing(id=ListingId(f"{account.id}:{sku}"), account=account.id, sku=sku)
                for sku in [*SKUS, GIFT]
            ]
        )


class _Clock:
    def __init__(self) -> None:
        self._at = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)

    def tick(self) -> datetime:
        self._at += timedelta(minutes=7)
        return self._at


async def run_day(store: Store, seed: int, report: DemoReport) -> None:
    """Receive stock, then orders from both stores until the gift sets run out."""
    rng = random.Random(seed)
    clock = _Clock()
    receipts: list[LedgerEvent] = [
        StockReceived(
            idempotency_key=f"po-1001:{sku}",
            sku=sku,
            location=MAIN,
            quantity=qty,
            source="erp",
            occurred_at=clock.tick(),
        )
        for sku, qty in zip(SKUS, (10, 8, 12), strict=True)
    ]
    await _apply(store, report, "purchase order PO-1001 received", receipts)
    lines: list[StockReserved] = []
    for n in range(1, 13):
        account = rng.choice(ACCOUNTS).id
        sku = rng.choice([*SKUS, GIFT])
        order = StockReserved(
            idempotency_key=f"{account}:order-{n}:1",
            sku=sku,
            location=MAIN,
            quantity=rng.randint(1, 3),
            source=account,
            occurred_at=clock.tick(),
            order_line=f"{account}:order-{n}:1",
            account=account,
        )
        accepted = await _apply(
            store, report, f"{account} order {n}: {order.quantity} x {sku}", [order]
        )
        if accepted:
            lines.append(order)
    await _finish_orders(store, report, lines, clock)


async def _finish_orders(
    store: Store, report: DemoReport, lines: list[StockReserved], clock: _Clock
) -> None:
    if not lines:
        return
    cancelled, *rest = lines
    shipped = rest[: len(rest) // 2]  # the other half stays reserved, waiting to ship
    await _apply(
        store,
        report,
        f"order line {cancelled.order_line} cancelled",
        [_follow_up(StockReleased, cancelled, clock)],
    )
    await _apply(
        store,
        report,
        f"{len(shipped)} order lines shipped",
        [_follow_up(StockFulfilled, line, clock) for line in shipped],
    )
    if shipped:
        returned = StockReturned(
            idempotency_key=f"rma-{shipped[0].order_line}",
            sku=shipped[0].sku,
            location=MAIN,
            quantity=1,
            source=shipped[0].source,
            occurred_at=clock.tick(),
            restock=True,
            order_line=shipped[0].order_line,
        )
        await _apply(
            store, report, f"one unit of {returned.sku} returned and restocked", [returned]
        )


def _follow_up(
    cls: type[StockReleased] | type[StockFulfilled], line: StockReserved, clock: _Clock
) -> StockReleased | StockFulfilled:
    return cls(
        idempotency_key=f"{cls.type.value}:{line.order_line}",
        sku=line.sku,
        location=line.location,
        quantity=line.quantity,
        source=line.source,
        occurred_at=clock.tick(),
        order_line=line.order_line,
    )


async def _apply(store: Store, report: DemoReport, step: str, events: list[LedgerEvent]) -> bool:
    results = await store.ledger.append(events)
    rejections = [r.rejection for r in results if r.rejection is not None]
    if all(isinstance(e, StockReserved) for e in events):
        report.orders_accepted += len(results) - len(rejections)
        report.orders_rejected += len(rejections)
    report.events_applied += len(results) - len(rejections)
    outcome = f"  -> rejected: {rejections[0].message}" if rejections else ""
    report.steps.append(step + outcome)
    return not rejections
