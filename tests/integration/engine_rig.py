"""An engine in process against sandboxes selling one catalog, for the engine's tests."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path

from omnistock.clock import SystemClock, SystemTimer
from omnistock.engine import Engine, EngineSettings
from omnistock.kit.merchant import (
    Merchant,
    build_merchant,
    opening_stock,
    seed_catalog,
    subscribe_webhooks,
)
from omnistock.ledger.store import Store

Subscribe = Callable[[Merchant], Awaitable[None]]


@contextlib.asynccontextmanager
async def engine_rig(
    tmp_path: Path, platforms: Sequence[str], subscribe: Subscribe = subscribe_webhooks
) -> AsyncIterator[tuple[Store, Merchant, Engine]]:
    """A store per platform (6 SKUs, seed 11), the ledger stocked, the engine not polling
    and first-synced; `subscribe` connects the stores' notifications to it."""
    shop = build_merchant(platforms, skus=6, seed=11)
    store = await Store.open(f"sqlite:///{tmp_path / 'engine.db'}")
    await seed_catalog(store, shop.infos())
    await store.ledger.append(opening_stock(shop, 11, SystemClock().now()))
    async with contextlib.AsyncExitStack() as stack:
        for s in shop.stores:
            await stack.enter_async_context(s.sandbox.running())
        engine = Engine(
            store,
            shop.adapters(SystemTimer()),
            clock=SystemClock(),
            timer=SystemTimer(),
            notify_client=shop.webhook_client,
            settings=EngineSettings(polling=False),
        )
        shop.engine_app.app = engine.http_app()
        await subscribe(shop)
        await engine.first_sync(dry_run=False)
        yield store, shop, engine
    await store.close()
    await shop.webhook_client.aclose()
