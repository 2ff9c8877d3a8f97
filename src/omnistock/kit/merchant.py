"""A merchant: one catalog sold through a store on each platform (sandboxes sharing one
warehouse), and the catalog, accounts, listings and opening stock that omnistock is given
for them. Every platform is driven through its Storefront; the demo, the benchmarks and
the end-to-end tests all set up shop here."""

from __future__ import annotations

import json
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

import httpx
from starlette.types import ASGIApp, Receive, Scope, Send

from omnistock.adapters.base import ChannelAdapter, RegistersNotifications, SubscriptionReport
from omnistock.adapters.http import DEFAULT_TIMEOUT
from omnistock.adapters.registry import PLATFORMS
from omnistock.adapters.secrets import Secret
from omnistock.clock import SystemTimer, Timer
from omnistock.domain.account_settings import AccountSettings
from omnistock.domain.allocation import AllocationPolicy
from omnistock.domain.catalog import ChannelAccount, Item, Listing, Location
from omnistock.domain.events import LedgerEvent, StockCounted, StockReceived
from omnistock.domain.ids import AccountId, ListingId, LocationId, Sku
from omnistock.kit.sandbox.common.faults import FaultSettings
from omnistock.kit.sandbox.common.keepalive import KeepAlivePoster
from omnistock.kit.sandbox.common.serve import SandboxOptions
from omnistock.kit.sandbox.common.storefront import Storefront, StorefrontListing
from omnistock.kit.sandbox.common.truth import TruthBook
from omnistock.kit.sandbox.registry import SANDBOXES
from omnistock.ledger.store import Store
from omnistock.security.vault import env_name

MAIN = LocationId("main")
ENGINE_URL = "http://omnistock.kit.demo"
# Every platform, in the order the demo and the benchmarks list them.
PLATFORM_ORDER = tuple(PLATFORMS)
SHORT_NAMES = {"woocommerce": "woo", "shopify": "shopify", "amazon": "amazon", "ebay": "ebay"}
# Notifications to an engine served elsewhere go as platforms send them, many at once per
# store (in process, one after another: the tests' deliveries stay in order), each store
# over keep-alive connections of its own written by hand (`sandbox.common.keepalive`):
# through httpx they took most of the simulated platforms' CPU (py-spy).
WEBHOOKS_IN_FLIGHT = 8
# Subscribed through the sandbox's back door rather than the platform's API. eBay proves a
# destination by a challenge the engine answers with the endpoint its adapter is configured
# with (`notification_endpoint`), and the rigs learn the engine's address (a free port, a
# process of its own) only after building its adapters.
THROUGH_THE_FACE = frozenset({"ebay"})


class LateApp:
    """An ASGI app that forwards to one set later: sandboxes need the engine's address
    before the engine (which needs the sandboxes' adapters) exists."""

    def __init__(self) -> None:
        self.app: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.app is None:
            raise RuntimeError("the engine is not up yet")
        await self.app(scope, receive, send)


@dataclass(frozen=True, slots=True)
class StoreInfo:
    """A store as omnistock's configuration sees it (plain data: it crosses processes when
    the stores run in one of their own)."""

    account: AccountId
    platform: str
    base_url: str  # the adapter's
    credentials: Mapping[str, str]
    listings: tuple[StorefrontListing, ...]
    settings: Mapping[str, str] = field(default_factory=dict)  # the platform's own

    def account_settings(self, location: LocationId | None = None) -> AccountSettings:
        """The account's settings as the platform's model reads them."""
        common = AccountSettings(base_url=self.base_url, location=location).encode()
        return PLATFORMS[self.platform].settings.of({**common, **self.settings})

    def adapter(
        self,
        timer: Timer,
        transport: httpx.AsyncBaseTransport | None,
        *,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    ) -> ChannelAdapter:
        """The account's adapter, built by the registry as `omnistock run` builds it."""
        secrets = {name: Secret(value) for name, value in self.credentials.items()}
        return PLATFORMS[self.platform].create_adapter(
            self.account,
            self.account_settings(),
            secrets,
            timer=timer,
            transport=transport,
            timeout=timeout,
        )


@dataclass
class MerchantStore:
    account: AccountId
    platform: str
    sandbox: Storefront
    address: str  # where the store is reached (in process: its own base URL)

    @property
    def base_url(self) -> str:
        return self.sandbox.connection().base_url(self.address)

    def info(self) -> StoreInfo:
        connection = self.sandbox.connection()
        return StoreInfo(
            self.account,
            self.platform,
            self.base_url,
            dict(connection.credentials),
            tuple(self.sandbox.listings()),
            dict(connection.settings),
        )


@dataclass
class Merchant:
    stores: list[MerchantStore]
    truth: TruthBook
    engine_app: LateApp
    webhook_client: httpx.AsyncClient
    engine_url: str = ENGINE_URL
    senders: list[KeepAlivePoster] = field(default_factory=list)  # to an engine served

    async def aclose(self) -> None:
        await self.webhook_client.aclose()
        for sender in self.senders:
            await sender.aclose()

    def adapters(
        self,
        timer: Timer,
        *,
        over_http: bool = False,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    ) -> dict[AccountId, ChannelAdapter]:
        """An adapter per store: in process, or over HTTP to stores served at their
        addresses."""
        return {
            s.account: s.info().adapter(
                timer,
                None if over_http else httpx.ASGITransport(app=s.sandbox.app),
                timeout=timeout,
            )
            for s in self.stores
        }

    def set_shoppers(self, rate: float) -> None:
        """Orders per second each store's shoppers place (0: none)."""
        for s in self.stores:
            s.sandbox.core.shoppers.set_rate(rate)

    def set_faults(self, settings: FaultSettings) -> None:
        """The same faults in every store (`FaultSettings()`: none)."""
        for s in self.stores:
            s.sandbox.core.faults.apply(settings)

    def infos(self) -> list[StoreInfo]:
        return [s.info() for s in self.stores]

    def clear_calls(self) -> None:
        """Start every store's call log afresh."""
        for s in self.stores:
            s.sandbox.core.calls.clear()

    def write_calls(self) -> dict[AccountId, int]:
        """API calls that set stock, per account, since the stores' call logs were cleared."""
        return {
            s.account: sum(s.sandbox.is_write(c) for c in s.sandbox.core.calls.records())
            for s in self.stores
        }

    def shown(self, account: AccountId) -> dict[str, int]:
        return next(s for s in self.stores if s.account == account).sandbox.shown()

    def skus(self) -> list[str]:
        return sorted(listing.sku for listing in self.stores[0].sandbox.listings())


def build_merchant(
    platforms: Sequence[str],
    skus: int,
    seed: int,
    *,
    time_scale: float = 1.0,
    variant_share: float = 0.2,
    addresses: Sequence[str] | None = None,
    engine_url: str | None = None,
    webhook_client: httpx.AsyncClient | None = None,
) -> Merchant:
    """A store per entry of `platforms` (a platform may repeat) over one catalog, sharing
    one truth book, on platform time running `time_scale` times faster than the wall
    clock. The stores and the engine are reached in process, unless `addresses` (one per
    store) and `engine_url` say where they are served, or the stores are served later
    (`serve_stores`) and send their notifications one at a time through `webhook_client`
    to wherever they are subscribed. Raises KeyError for an unknown platform."""
    truth = TruthBook()
    late = LateApp()
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=late), base_url=ENGINE_URL)
    senders: list[KeepAlivePoster] = []
    built = []
    counts: dict[str, int] = {}
    for n, platform in enumerate(platforms, start=1):
        counts[platform] = counts.get(platform, 0) + 1
        name = f"{SHORT_NAMES.get(platform, platform)}-{counts[platform]}"
        options = SandboxOptions(
            base_url=addresses[n - 1] if addresses else f"https://{name}.demo.test",
            seed=seed * 100 + n,
            skus=skus,
            time_scale=time_scale,
            catalog_seed=seed,
            variant_share=variant_share,
            webhook_client=webhook_client or (client if engine_url is None else None),
            webhook_poster=None if engine_url is None else _sender(senders),
            truth=truth,
            webhooks_in_flight=1 if engine_url is None else WEBHOOKS_IN_FLIGHT,
        )
        sandbox = SANDBOXES[platform](options)
        built.append(MerchantStore(AccountId(name), platform, sandbox, options.base_url))
    return Merchant(built, truth, late, client, engine_url or ENGINE_URL, senders)


def _sender(senders: list[KeepAlivePoster]) -> KeepAlivePoster:
    # Each store its own connections, as each platform sends from its own servers.
    senders.append(KeepAlivePoster())
    return senders[-1]


async def seed_catalog(
    store: Store,
    stores: Sequence[StoreInfo],
    policy: AllocationPolicy | None = None,
    *,
    listings: bool = True,
) -> None:
    """Location, SKUs, one account per store and (unless the stores are to be onboarded
    by discovery, `listings=False`) one listing per SKU and store, with the ids each
    store's face gives; every account on `policy` (default: show zero below 2 units)."""
    await store.catalog.put_location(Location(id=MAIN, name="Main warehouse"))
    skus = sorted({x.sku for s in stores for x in s.listings})
    await store.catalog.put_items([Item(sku=Sku(sku)) for sku in skus])
    for s in stores:
        policy = policy or AllocationPolicy(low_stock=2)
        settings = s.account_settings(MAIN).encode()
        await store.catalog.put_account(
            ChannelAccount(id=s.account, platform=s.platform, policy=policy, settings=settings)
        )
        if not listings:
            continue
        await store.catalog.put_listings(
            [
                Listing(
                    id=ListingId(f"{s.account}:{x.sku}"),
                    account=s.account,
                    sku=Sku(x.sku),
                    external_ids=dict(x.external_ids),
                )
                for x in s.listings
            ]
        )


def opening_stock(
    shop: Merchant, seed: int, at: datetime, *, low: int = 0, high: int = 12
) -> list[LedgerEvent]:
    """What the warehouse holds at the start, `low`..`high` units per SKU (also told to the
    sandboxes as the truth): a receipt of each SKU in stock, a count of zero for the others
    (a SKU no event tells of is held back from pushing, and its channels would keep
    showing the sandbox's own figure)."""
    rng = random.Random(seed)
    skus = shop.skus()
    levels = {sku: rng.randint(low, high) for sku in skus}
    shop.truth.set(levels)
    return [
        (StockReceived if qty > 0 else StockCounted)(
            idempotency_key=f"opening:{sku}",
            sku=Sku(sku),
            location=MAIN,
            quantity=qty,
            source="demo",
            occurred_at=at,
        )
        for sku, qty in levels.items()
    ]


def counted_nothing(shop: Merchant, at: datetime) -> list[LedgerEvent]:
    """A stock count that found none of any SKU: the ledger knows every SKU (the truth
    book is left as it is)."""
    return [
        StockCounted(
            idempotency_key=f"opening:{sku}",
            sku=Sku(sku),
            location=MAIN,
            quantity=0,
            source="bench",
            occurred_at=at,
        )
        for sku in shop.skus()
    ]


def restock(shop: Merchant, rng: random.Random, n: int, at: datetime) -> list[LedgerEvent]:
    """A delivery from a supplier: a few SKUs, told to the truth as well."""
    skus = shop.skus()
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


@runtime_checkable
class Bridged(Protocol):
    """A store whose notifications reach HTTPS only through the merchant's own bridge
    (Amazon: an SQS queue and an event bus, set up in the merchant's AWS account)."""

    @property
    def notification_queue(self) -> str: ...

    def bridge(self, queue_arn: str, url: str) -> None: ...


async def subscribe_webhooks(shop: Merchant) -> None:
    """Each store sends its notifications to the engine, as a merchant sets up: omnistock
    registers them through the platform's own API (`register_notifications`, as
    `omnistock accounts connect` does), but for the platforms in `THROUGH_THE_FACE`."""
    for s in shop.stores:
        url = f"{shop.engine_url}/webhooks/{s.account}"
        if s.platform in THROUGH_THE_FACE:
            await s.sandbox.connect(url)
        else:
            await register_notifications(s, url)


async def register_notifications(store: MerchantStore, url: str) -> SubscriptionReport:
    """The store's notifications to `url`, registered through its API by the account's
    adapter (an Amazon store's through its queue, which its bridge forwards to `url`)."""
    target = url
    if isinstance(store.sandbox, Bridged):
        target = store.sandbox.notification_queue
        store.sandbox.bridge(target, url)
    adapter = store.info().adapter(SystemTimer(), httpx.ASGITransport(app=store.sandbox.app))
    try:
        if not isinstance(adapter, RegistersNotifications):
            raise TypeError(f"{store.platform} adapters cannot register notifications")
        return await adapter.register_notifications(target)
    finally:
        await adapter.aclose()


def engine_toml(
    stores: Sequence[StoreInfo],
    *,
    database_url: str,
    listen: str,
    top: Mapping[str, str] | None = None,
    low_stock: int = 2,
) -> str:
    """The catalog `seed_catalog` writes, as the TOML `omnistock run --config` reads (with
    the `top`-level keys added, e.g. reservation_policy); the credentials go in the
    environment (`credential_env`)."""
    lines = [f"database_url = {_quoted(database_url)}", f"listen = {_quoted(listen)}"]
    lines += [f"{key} = {_quoted(value)}" for key, value in (top or {}).items()]
    lines.append(f"[[locations]]\nid = {_quoted(MAIN)}")
    skus = sorted({x.sku for s in stores for x in s.listings})
    lines += [f"[[items]]\nsku = {_quoted(sku)}" for sku in skus]
    for s in stores:
        lines.append(
            f"[[accounts]]\nid = {_quoted(s.account)}\nplatform = {_quoted(s.platform)}\n"
            f"base_url = {_quoted(s.base_url)}\nlocation = {_quoted(MAIN)}\n"
            f"policy = {{ low_stock = {low_stock} }}"
            + "".join(f"\n{k} = {_quoted(v)}" for k, v in s.settings.items())
        )
        for x in s.listings:
            ids = ", ".join(f"{k} = {_quoted(v)}" for k, v in x.external_ids.items())
            lines.append(
                f"[[listings]]\naccount = {_quoted(s.account)}\nsku = {_quoted(x.sku)}\n"
                f"external_ids = {{ {ids} }}"
            )
    return "\n".join(lines) + "\n"


def credential_env(stores: Sequence[StoreInfo]) -> dict[str, str]:
    """Each store's credentials as the environment variables `omnistock run` reads them from."""
    return {
        env_name(s.account, name): value for s in stores for name, value in s.credentials.items()
    }


def _quoted(value: str) -> str:
    # A TOML basic string is a JSON string for what the kit writes (no control characters).
    return json.dumps(value)
