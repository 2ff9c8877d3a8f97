"""An engine in process against sandboxes selling one catalog, for the engine's tests."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from omnistock.clock import SystemClock, SystemTimer
from omnistock.engine import Engine, EngineSettings
from omnistock.kit.merchant import Merchant, build_merchant, opening_stock, subscribe_webhooks
from omnistock.kit.rig import Subscribe, open_shop
from omnistock.ledger.store import Store


@contextlib.asynccontextmanager
async def engine_rig(
    tmp_path: Path, platforms: Sequence[str], subscribe: Subscribe = subscribe_webhooks
) -> AsyncIterator[tuple[Store, Merchant, Engine]]:
    """A store per platform (6 SKUs, seed 11), the ledger stocked, the engine not polling
    and first-synced; `subscribe` connects the stores' notifications to it."""
    async with open_shop(
        build_merchant(platforms, skus=6, seed=11),
        f"sqlite:///{tmp_path / 'engine.db'}",
        clock=SystemClock(),
        timer=SystemTimer(),
        settings=EngineSettings(polling=False),
        opening=lambda shop: opening_stock(shop, 11, SystemClock().now()),
        subscribe=subscribe,
    ) as shop:
        yield shop.store, shop.merchant, shop.engine
