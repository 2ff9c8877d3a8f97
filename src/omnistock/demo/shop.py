"""The demo's shop: WooCommerce stores (sandboxes) selling one catalog, and the catalog,
accounts, listings and opening stock that omnistock is given for them."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime

import httpx
from starlette.types import ASGIApp, Receive, Scope, Send

from omnistock.adapters.base import ChannelAdapter
from omnistock.adapters.secrets import Secret
from omnistock.adapters.woocommerce import PRODUCT_ID, VARIATION_ID, create_adapter
from omnistock.clock import Timer
from omnistock.domain.allocation import AllocationPolicy
from omnistock.domain.catalog import ChannelAccount, Item, Listing, Location
from omnistock.domain.events import LedgerEvent, StockReceived
from omnistock.domain.ids import AccountId, ListingId, LocationId, Sku
from omnistock.ledger.store import Store
from omnistock.sandbox.common.truth import TruthBook
from omnistock.sandbox.woocommerce.app import WooConfig, WooSandbox
from omnistock.sandbox.woocommerce.store import WooProduct, WooVariation

MAIN = LocationId("main")
WEBHOOK_SECRET = "demo-webhook-secret"  # noqa: S105 - a sandbox-only value
ENGINE_URL = "http://omnistock.demo"
TOPICS = ("order.created", "order.updated", "product.updated")


class LateApp:
    """An ASGI app that forwards to one set later: sandboxes need the engine's address
    before the engine (which needs the sandboxes' adapters) exists."""

    def __init__(self) -> None:
        self.app: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.app is None:
            raise RuntimeError("the engine is not up yet")
        await self.app(scope, receive, send)


@dataclass
class DemoStore:
    account: AccountId
    sandbox: WooSandbox


@dataclass
class DemoShop:
    stores: list[DemoStore]
    truth: TruthBook
    engine_app: LateApp
    webhook_client: httpx.AsyncClient

    def adapters(self, timer: Timer) -> dict[AccountId, ChannelAdapter]:
        return {s.account: _adapter(s, timer) for s in self.stores}

    def shown(self, account: AccountId) -> dict[str, int]:
        return next(s for s in self.stores if s.account == account).sandbox.store.shown()


def build_shop(stores: int, skus: int, seed: int) -> DemoShop:
    """`stores` WooCommerce sandboxes over one catalog, sharing one truth book."""
    truth = TruthBook()
    late = LateApp()
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=late), base_url=ENGINE_URL)
    built = []
    for n in range(1, stores + 1):
        config = WooConfig(
            seed=seed * 100 + n,
            catalog_seed=seed,
            skus=skus,
            variant_share=0.2,
            base_url=f"http://woo-{n}.demo",
        )
        sandbox = WooSandbox(config, webhook_client=client, truth=truth)
        built.append(DemoStore(AccountId(f"woo-{n}"), sandbox))
    return DemoShop(built, truth, late, client)


async def seed_catalog(store: Store, shop: DemoShop) -> None:
    """Location, SKUs, one account per store, one listing per SKU and store."""
    await store.catalog.put_location(Location(id=MAIN, name="Main warehouse"))
    first = shop.stores[0].sandbox
    await store.catalog.put_items([Item(sku=Sku(i.sku)) for i in first.store.sellable()])
    for s in shop.stores:
        policy = AllocationPolicy(low_stock=2)
        settings = {"location": MAIN, "base_url": s.sandbox.base_url}
        await store.catalog.put_account(
            ChannelAccount(id=s.account, platform="woocommerce", policy=policy, settings=settings)
        )
        await store.catalog.put_listings(
            [
                Listing(
                    id=ListingId(f"{s.account}:{i.sku}"),
                    account=s.account,
                    sku=Sku(i.sku),
                    external_ids=_ids(i),
                )
                for i in s.sandbox.store.sellable()
            ]
        )


def opening_stock(shop: DemoShop, seed: int, at: datetime) -> list[LedgerEvent]:
    """What the warehouse holds at the start (also told to the sandboxes as the truth)."""
    rng = random.Random(seed)
    skus = sorted(i.sku for i in shop.stores[0].sandbox.store.sellable())
    levels = {sku: rng.randint(0, 12) for sku in skus}
    shop.truth.set(levels)
    return [
        StockReceived(
            idempotency_key=f"opening:{sku}",
            sku=Sku(sku),
            location=MAIN,
            quantity=qty,
            source="demo",
            occurred_at=at,
        )
        for sku, qty in levels.items()
        if qty > 0
    ]


def restock(shop: DemoShop, rng: random.Random, n: int, at: datetime) -> list[LedgerEvent]:
    """A delivery from a supplier: a few SKUs, told to the truth as well."""
    skus = sorted(i.sku for i in shop.stores[0].sandbox.store.sellable())
    chosen = rng.sample(skus, k=min(3, len(skus)))
    events: list[LedgerEvent] = []
    for sku in chosen:
        qty = rng.randint(3, 10)
        shop.truth.set({sku: (shop.truth.available(sku) or 0) + qty})
        events.append(
            StockReceived(
                idempotency_key=f"restock:{n}:{sku}",
                sku=Sku(sku),
                location=MAIN,
                quantity=qty,
                source="demo",
                occurred_at=at,
            )
        )
    return events


async def subscribe_webhooks(shop: DemoShop) -> None:
    """Each store sends its order and product webhooks to the engine, as a merchant sets up."""
    for s in shop.stores:
        transport = httpx.ASGITransport(app=s.sandbox.app)
        creds = s.sandbox.credentials()
        async with httpx.AsyncClient(
            transport=transport,
            base_url=s.sandbox.base_url,
            auth=(creds["consumer_key"], creds["consumer_secret"]),
        ) as http:
            for topic in TOPICS:
                response = await http.post(
                    "/wp-json/wc/v3/webhooks",
                    json={
                        "name": f"omnistock {topic}",
                        "topic": topic,
                        "status": "active",
                        "delivery_url": f"{ENGINE_URL}/webhooks/{s.account}",
                        "secret": WEBHOOK_SECRET,
                    },
                )
                response.raise_for_status()


def _adapter(s: DemoStore, timer: Timer) -> ChannelAdapter:
    creds = s.sandbox.credentials()
    secrets = {
        "consumer_key": Secret(creds["consumer_key"]),
        "consumer_secret": Secret(creds["consumer_secret"]),
        "webhook_secret": Secret(WEBHOOK_SECRET),
    }
    transport = httpx.ASGITransport(app=s.sandbox.app)
    return create_adapter(
        s.account, f"{s.sandbox.base_url}/wp-json/wc/v3/", secrets, timer=timer, transport=transport
    )


def _ids(item: WooProduct | WooVariation) -> dict[str, str]:
    if isinstance(item, WooProduct):
        return {PRODUCT_ID: str(item.id)}
    return {PRODUCT_ID: str(item.parent_id), VARIATION_ID: str(item.id)}
