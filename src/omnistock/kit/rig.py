"""The one rig: a merchant's sandbox stores, the ledger that knows their catalog, and the
engine over them, composed the same way for the demo, the benchmarks and the tests.

`open_shop` seeds the catalog (and the opening stock), runs the stores (their shoppers and
notification delivery), builds an adapter per store through the adapters' registry, serves
the engine's HTTP app where the stores send their notifications, subscribes them, runs the
first sync and, when asked, the engine. What differs between users is a parameter: the
time (system or scaled), the engine's settings, the opening stock, how the stores are
subscribed, whether they and the engine are reached in process or over loopback sockets,
and whether the engine runs."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

import httpx
from starlette.types import ASGIApp

from omnistock.adapters.base import ChannelAdapter, DiscoversListings
from omnistock.adapters.http import DEFAULT_TIMEOUT
from omnistock.clock import Clock, Timer
from omnistock.domain.allocation import AllocationPolicy
from omnistock.domain.events import LedgerEvent
from omnistock.domain.ids import AccountId, Sku
from omnistock.engine import Engine, EngineSettings
from omnistock.kit.merchant import Merchant, seed_catalog, subscribe_webhooks
from omnistock.kit.serving import served as serve
from omnistock.ledger.store import Store
from omnistock.onboarding.discovery import DiscoveryRunner
from omnistock.onboarding.links import apply_links, link_account

Subscribe = Callable[[Merchant], Awaitable[None]]
Opening = Callable[[Merchant], Sequence[LedgerEvent]]


@dataclass(frozen=True, slots=True)
class Shop:
    """A merchant set up: its stores running, the engine composed over them."""

    merchant: Merchant
    store: Store
    engine: Engine
    adapters: dict[AccountId, ChannelAdapter]


@contextlib.asynccontextmanager
async def open_shop(
    merchant: Merchant,
    database_url: str,
    *,
    clock: Clock,
    timer: Timer,
    settings: EngineSettings | None = None,
    policy: AllocationPolicy | None = None,
    opening: Opening | None = None,
    subscribe: Subscribe = subscribe_webhooks,
    run: bool = False,
    served: bool = False,
    call_timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    onboard: bool = False,
) -> AsyncIterator[Shop]:
    """The shop, first-synced (and, with `run`, the engine running until the block ends).
    In process, or `served`: the stores (already served, `serve_stores`) are reached over
    HTTP and the engine is served on a loopback socket. `call_timeout` bounds each
    adapter call. With `onboard`, each store's listings are not given from its face's
    ids but discovered from the store and linked by SKU, as a merchant onboards a shop.
    The store, the adapters and the merchant's notification client are closed after."""
    store = await Store.open(database_url)
    try:
        await seed_catalog(store, merchant.infos(), policy, listings=not onboard)
        if opening is not None:
            await store.ledger.append(opening(merchant))
        async with contextlib.AsyncExitStack() as stack:
            adapters = merchant.adapters(timer, over_http=served, timeout=call_timeout)
            for adapter in adapters.values():
                stack.push_async_callback(adapter.aclose)
            # Entered after: the stores stop (delivering what they still send) before the
            # adapters, which verifying those deliveries may need, are closed.
            if not served:
                for s in merchant.stores:
                    await stack.enter_async_context(s.sandbox.running())
            if onboard:
                await onboard_stores(store, merchant, adapters, clock=clock, timer=timer)
            notify = merchant.webhook_client
            if served:
                notify = await stack.enter_async_context(httpx.AsyncClient())
            engine = await stack.enter_async_context(
                engine_over(
                    store,
                    adapters,
                    clock=clock,
                    timer=timer,
                    notify_client=notify,
                    settings=settings,
                    publish=lambda app: (_on_socket if served else _late)(merchant, app),
                    subscribe=lambda: subscribe(merchant),
                )
            )
            shop = Shop(merchant, store, engine, adapters)
            if not run:
                yield shop
                return
            stop = asyncio.Event()
            task = asyncio.create_task(engine.run(stop))
            try:
                yield shop
            finally:
                stop.set()
                await task
    finally:
        await store.close()
        await merchant.webhook_client.aclose()


@contextlib.asynccontextmanager
async def engine_over(
    store: Store,
    adapters: dict[AccountId, ChannelAdapter],
    *,
    clock: Clock,
    timer: Timer,
    notify_client: httpx.AsyncClient,
    settings: EngineSettings | None,
    publish: Callable[[ASGIApp], AbstractAsyncContextManager[object]],
    subscribe: Callable[[], Awaitable[None]],
) -> AsyncIterator[Engine]:
    """The engine over a ledger that already holds the shop's catalog: its HTTP app
    published where the stores send their notifications (`publish`: in process, or served
    on a socket), the stores subscribed, the first sync run. The stores may run in this
    process or in another (the latency benchmark's split)."""
    engine = Engine(
        store, adapters, clock=clock, timer=timer, notify_client=notify_client, settings=settings
    )
    async with publish(engine.http_app()):
        await subscribe()
        await engine.first_sync(dry_run=False)
        yield engine


async def onboard_stores(
    store: Store,
    merchant: Merchant,
    adapters: dict[AccountId, ChannelAdapter],
    *,
    clock: Clock,
    timer: Timer,
) -> None:
    """What `omnistock listings discover` and `listings link --apply` do, for every store:
    its listings read from the store itself and linked to the catalog's SKUs."""
    skus = [Sku(sku) for sku in merchant.skus()]
    for s in merchant.stores:
        adapter = adapters[s.account]
        if not isinstance(adapter, DiscoversListings):
            raise TypeError(f"the {s.platform} adapter does not discover listings")
        await DiscoveryRunner(store=store, clock=clock, timer=timer).run(s.account, adapter)
        report, _ = await link_account(store, s.account, skus)
        await apply_links(store, s.account, report)


@contextlib.asynccontextmanager
async def serve_stores(merchant: Merchant) -> AsyncIterator[None]:
    """Every store running and served on a loopback socket of its own (its address set to
    it) until the block ends, as a merchant's stores are reached over the network."""
    async with contextlib.AsyncExitStack() as stack:
        for s in merchant.stores:
            await stack.enter_async_context(s.sandbox.running())
            s.address = await stack.enter_async_context(serve(s.sandbox.app))
        yield


@contextlib.asynccontextmanager
async def _late(merchant: Merchant, app: ASGIApp) -> AsyncIterator[None]:
    merchant.engine_app.app = app  # the stores' in-process notification client reaches it
    yield


@contextlib.asynccontextmanager
async def _on_socket(merchant: Merchant, app: ASGIApp) -> AsyncIterator[None]:
    async with serve(app) as url:
        merchant.engine_url = url  # where the stores are subscribed to send
        yield
