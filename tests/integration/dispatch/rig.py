"""A dispatcher wired to the real WooCommerce sandbox (in process) and a real store: one
account of the kit's merchant, without the engine around its dispatcher.

The sandbox's manual clock drives everything: the adapter's and the dispatcher's timer,
and the wall clock the store's retry times are written in, so backoffs pass in no time."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx

from omnistock.adapters.base import (
    Capabilities,
    ChannelAdapter,
    ChannelEvent,
    ItemResult,
    ListingRef,
    ObservedLevel,
    OrderPage,
    StockUpdate,
)
from omnistock.adapters.ratelimit import RateLimiter
from omnistock.adapters.woocommerce import WooCommerceAdapter
from omnistock.clock import Timer
from omnistock.dispatch import AccountDispatcher, DispatchSettings
from omnistock.domain.catalog import ChannelAccount, Item, Listing, Location
from omnistock.domain.ids import AccountId, ListingId, Sku
from omnistock.kit.merchant import MerchantStore
from omnistock.kit.sandbox.woocommerce import WooSandbox
from omnistock.ledger.store import Store
from tests.contract.builders import WH, counted

ACCOUNT = AccountId("woo")
WEBHOOK_SECRET = "dispatch-webhook-secret"  # noqa: S105 - test key


class TimerClock:
    """Wall time read off a Timer whose monotonic seconds are Unix time (the sandbox's)."""

    def __init__(self, timer: Timer) -> None:
        self._timer = timer

    def now(self) -> datetime:
        return datetime.fromtimestamp(self._timer.monotonic(), UTC)


class RecordingAdapter:
    """The real adapter, plus the list of updates of every push (to see batch order) and
    how many pushes were under way at once."""

    def __init__(self, inner: ChannelAdapter) -> None:
        self._inner = inner
        self.pushes: list[list[StockUpdate]] = []
        self.in_flight = 0
        self.most_in_flight = 0  # pushes under way at once, at most

    @property
    def capabilities(self) -> Capabilities:
        return self._inner.capabilities

    async def push(self, updates: Sequence[StockUpdate]) -> Sequence[ItemResult]:
        self.pushes.append(list(updates))
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            return await self._inner.push(updates)
        finally:
            self.in_flight -= 1

    async def read(self, refs: Sequence[ListingRef]) -> Sequence[ObservedLevel]:
        return await self._inner.read(refs)

    async def poll_orders(self, cursor: str | None) -> OrderPage:
        return await self._inner.poll_orders(cursor)

    def parse_webhook(self, headers: Mapping[str, str], body: bytes) -> Sequence[ChannelEvent]:
        return self._inner.parse_webhook(headers, body)

    async def cancel_order(self, order_id: str, reason: str) -> bool:
        return await self._inner.cancel_order(order_id, reason)

    def is_echo(self, event: ChannelEvent) -> bool:
        return self._inner.is_echo(event)

    async def aclose(self) -> None:
        await self._inner.aclose()


class GroupedRecordingAdapter(RecordingAdapter):
    """A RecordingAdapter around WooCommerce's, which writes listings in groups."""

    def __init__(self, inner: WooCommerceAdapter) -> None:
        super().__init__(inner)
        self._groups = inner

    def write_group(self, ref: ListingRef) -> str:
        return self._groups.write_group(ref)


@dataclass
class Rig:
    harness: WooSandbox
    store: Store
    adapter: GroupedRecordingAdapter
    limiter: RateLimiter
    refs: list[ListingRef] = field(default_factory=list)

    @property
    def clock(self) -> TimerClock:
        return TimerClock(self.harness.timer)

    def dispatcher(self, settings: DispatchSettings | None = None) -> AccountDispatcher:
        return AccountDispatcher(
            ACCOUNT,
            self.adapter,
            self.store,
            self.harness.timer,
            self.clock,
            settings=settings or DispatchSettings(),
            limiter=self.limiter,
            rng=random.Random(7),
        )

    async def add_listings(
        self, count: int, quantity: int = 5, *, variants: bool = False
    ) -> list[ListingRef]:
        """Sandbox products (or variations, five to a parent) shown at `quantity`, listed in
        the store, with stock `quantity`."""
        refs = await self.harness.seed(count, quantity=quantity, variants=variants)
        await self.store.catalog.put_items([Item(sku=r.sku) for r in refs])
        await self.store.catalog.put_listings([listing_of(r) for r in refs])
        await self.set_stock({r.sku: quantity for r in refs})
        self.refs.extend(refs)
        return refs

    async def set_stock(self, levels: dict[Sku, int]) -> None:
        await self.store.ledger.append([counted(sku, qty) for sku, qty in levels.items()])

    async def desired(self) -> dict[ListingId, int]:
        states = await self.store.sync.get([r.listing for r in self.refs])
        return {listing: s.desired_qty for listing, s in states.items()}

    async def shown(self) -> dict[ListingId, int | None]:
        return {r.listing: await self.harness.held(r) for r in self.refs}

    async def converged(self) -> bool:
        clean = not await self.store.sync.dirty(ACCOUNT)
        return clean and await self.shown() == await self.desired()

    def writes(self) -> int:
        return sum(c.write and c.status == 200 for c in self.harness.calls())

    async def run_until_converged(self, dispatcher: AccountDispatcher, seconds: float = 10) -> None:
        """Run the dispatcher's loop until the channel shows the ledger (real-time bound)."""
        stop = asyncio.Event()
        async with asyncio.timeout(seconds), asyncio.TaskGroup() as tasks:
            tasks.create_task(dispatcher.run(stop))
            # Polled: neither the store nor the sandbox signals convergence.
            while not await self.converged():  # noqa: ASYNC110
                await asyncio.sleep(0.005)
            stop.set()


def listing_of(ref: ListingRef) -> Listing:
    return Listing(id=ref.listing, account=ACCOUNT, sku=ref.sku, external_ids=ref.external_ids)


async def open_rig(harness: WooSandbox, store: Store) -> Rig:
    """The account's adapter built as the kit's merchant builds every store's (through the
    registry), on the sandbox's clock, sharing its limiter with the dispatcher."""
    info = MerchantStore(ACCOUNT, "woocommerce", harness, harness.base_url).info()
    adapter = info.adapter(harness.timer, httpx.ASGITransport(app=harness.app))
    assert isinstance(adapter, WooCommerceAdapter)
    await store.catalog.put_location(Location(id=WH, name="Main"))
    await store.catalog.put_account(ChannelAccount(id=ACCOUNT, platform="woocommerce"))
    return Rig(harness, store, GroupedRecordingAdapter(adapter), adapter.limiter)
