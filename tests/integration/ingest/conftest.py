"""Ingestion fixtures: a real store (SQLite file or PostgreSQL), and a WooCommerce sandbox with
an adapter talking to it in process, plus the catalog that links the two."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from omnistock.adapters.base import ChannelEvent, ListingRef
from omnistock.adapters.http import account_client
from omnistock.adapters.secrets import Secret
from omnistock.adapters.woocommerce import WooCommerceAdapter
from omnistock.bus.inbox import (
    Decide,
    Inbox,
    InboxCounts,
    InboxItem,
    InboxMessage,
    Incident,
    KnownKeys,
    Settled,
)
from omnistock.domain.catalog import ChannelAccount, Item, Listing, Location
from omnistock.domain.events import StockReceived
from omnistock.domain.ids import AccountId, ListingId, LocationId
from omnistock.ingest.codec import channel_message
from omnistock.kit.sandbox.woocommerce import WooSandbox
from omnistock.ledger.store import Store
from tests.contract.builders import T0, seed

WEBHOOK_SECRET = "ingest-webhook-secret"  # noqa: S105 - test key
ACCOUNT = AccountId("woo-1")
WH = LocationId("wh1")
ORDER_TOPICS = ("order.created", "order.updated")


class DelegatingInbox:
    """An Inbox passing every call to a real one; a test overrides the call it breaks."""

    def __init__(self, inner: Inbox) -> None:
        self.inner = inner

    async def put(self, messages: Sequence[InboxMessage]) -> list[bool]:
        return await self.inner.put(messages)

    async def take(self, limit: int, lease: float = 30.0) -> list[InboxItem]:
        return await self.inner.take(limit, lease)

    async def ack(self, ids: Collection[int]) -> None:
        await self.inner.ack(ids)

    async def fail(self, item_id: int, error: str, retry_at: datetime) -> bool:
        return await self.inner.fail(item_id, error, retry_at)

    async def parked(self, limit: int = 100) -> list[InboxItem]:
        return await self.inner.parked(limit)

    async def counts(self) -> InboxCounts:
        return await self.inner.counts()

    async def known(self, keys: Collection[str]) -> KnownKeys:
        return await self.inner.known(keys)

    async def settle(self, keys: Collection[str], decide: Decide) -> Settled:
        return await self.inner.settle(keys, decide)

    async def cursor(self, account: AccountId) -> str | None:
        return await self.inner.cursor(account)

    async def save_cursor(self, account: AccountId, cursor: str) -> None:
        await self.inner.save_cursor(account, cursor)

    async def incidents(self, limit: int = 100) -> list[Incident]:
        return await self.inner.incidents(limit)

    async def incidents_after(self, position: int, limit: int = 100) -> list[Incident]:
        return await self.inner.incidents_after(position, limit)


@pytest.fixture(params=["sqlite", "postgres"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'ledger.db'}"
    else:
        url = request.getfixturevalue("pg_url")
    opened = await Store.open(url)
    yield opened
    await opened.close()


@pytest.fixture
def url(tmp_path: Path) -> str:
    """A SQLite store with location wh1, SKUs A and B and their listings on `shop`, for the
    import commands run in process (which open the store themselves)."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"

    async def build() -> None:
        store = await Store.open(url)
        try:
            await seed(store, ["A", "B"])
        finally:
            await store.close()

    asyncio.run(build())
    return url


@dataclass
class Woo:
    harness: WooSandbox
    adapter: WooCommerceAdapter

    async def events(self) -> list[ChannelEvent]:
        """Every webhook delivered since the last call, verified and normalised."""
        deliveries = await self.harness.deliveries()
        return [e for d in deliveries for e in self.adapter.parse_webhook(d.headers, d.body)]

    def cancel(self, order_id: str) -> None:
        self.set_status(order_id, "cancelled")

    def set_status(self, order_id: str, status: str) -> None:
        store = self.harness.store
        store.set_order_status(store.orders[int(order_id)], status)
        self.harness.manual_clock.advance(1)


@pytest.fixture
async def woo() -> AsyncIterator[Woo]:
    harness = WooSandbox.on_manual_clock(webhook_secret=WEBHOOK_SECRET)
    creds = harness.credentials()
    async with harness.running():
        transport = httpx.ASGITransport(app=harness.app)
        adapter = WooCommerceAdapter(
            ACCOUNT,
            account_client(harness.api_url(), transport=transport),
            consumer_key=Secret(creds["consumer_key"]),
            consumer_secret=Secret(creds["consumer_secret"]),
            webhook_secret=Secret(WEBHOOK_SECRET),
            timer=harness.timer,
        )
        yield Woo(harness, adapter)
        await adapter.aclose()


async def link(store: Store, refs: Sequence[ListingRef], *, stock: int) -> None:
    """Catalog the sandbox's listings under ACCOUNT (selling from WH) and receive `stock`."""
    await store.catalog.put_location(Location(id=WH, name="Main"))
    await store.catalog.put_items([Item(sku=ref.sku) for ref in refs])
    account = ChannelAccount(id=ACCOUNT, platform="woocommerce", settings={"location": WH})
    await store.catalog.put_account(account)
    await store.catalog.put_listings(
        [
            Listing(
                id=ListingId(ref.listing),
                account=ACCOUNT,
                sku=ref.sku,
                external_ids=ref.external_ids,
            )
            for ref in refs
        ]
    )
    await store.ledger.append(
        [
            StockReceived(
                idempotency_key=f"seed:{ref.sku}",
                sku=ref.sku,
                location=WH,
                quantity=stock,
                source="test",
                occurred_at=T0,
            )
            for ref in refs
            if stock
        ]
    )


async def deliver(store: Store, events: Sequence[ChannelEvent]) -> list[bool]:
    """What the webhook endpoint does once a delivery is verified: persist to the inbox."""
    return await store.inbox.put([channel_message(e) for e in events])
