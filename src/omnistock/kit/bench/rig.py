"""The benchmarks' shop: a merchant with a sandbox store on every platform (at the
platforms' default rate limits), the engine in this process on SQLite, and one of the
three systems writing to the channels — omnistock's dispatchers, or a baseline.

Everything runs on platform time (`ScaledTime`, the sandboxes at the same scale), so a
scenario can span rate-limit windows and periodic syncs in minutes of wall time. Every
system starts from the same state: catalog, opening stock and a first full sync."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from omnistock.clock import ScaledTime
from omnistock.domain.allocation import AllocationPolicy
from omnistock.domain.catalog import Listing
from omnistock.domain.ids import AccountId
from omnistock.engine import Engine, EngineSettings
from omnistock.ingest.pollers import PollInterval
from omnistock.kit.bench.baselines import PerEventSync, PeriodicSync
from omnistock.kit.merchant import PLATFORM_ORDER, Merchant, build_merchant, counted_nothing
from omnistock.kit.rig import Opening, open_shop
from omnistock.ledger.store import Store


class System(StrEnum):
    OMNISTOCK = "omnistock"
    PER_EVENT = "per_event"
    PERIODIC = "periodic"


@dataclass(frozen=True, slots=True, kw_only=True)
class RigOptions:
    skus: int
    seed: int = 7
    platforms: tuple[str, ...] = PLATFORM_ORDER
    time_scale: float = 1.0
    system: System = System.OMNISTOCK
    period_s: float = 900.0  # the periodic baseline's period, in platform seconds
    policy: AllocationPolicy | None = None
    polling: bool = True


@dataclass
class Rig:
    merchant: Merchant
    store: Store
    engine: Engine
    time: ScaledTime
    periodic: PeriodicSync | None
    per_event: PerEventSync | None
    _catalog: dict[AccountId, list[Listing]] = field(default_factory=dict)

    def write_calls(self) -> dict[AccountId, int]:
        """API calls that set stock since the first sync (or `clear_calls`), per account."""
        return self.merchant.write_calls()

    def clear_calls(self) -> None:
        self.merchant.clear_calls()

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """Neither omnistock's dispatchers nor the periodic baseline start a pass meanwhile
        (the per-event baseline forwards each change when it comes, by its definition)."""
        with contextlib.ExitStack() as stack:
            stack.enter_context(self.engine.held())
            if self.periodic is not None:
                stack.enter_context(self.periodic.held())
            yield

    def written_items(self) -> dict[AccountId, int]:
        return {
            s.account: sum(c.items for c in s.sandbox.core.calls.records() if s.sandbox.is_write(c))
            for s in self.merchant.stores
        }

    async def in_sync(self) -> bool:
        """Nothing left to process, and every store shows every listing's desired quantity."""
        if (await self.store.inbox.counts()).pending:
            return False
        for s in self.merchant.stores:
            # Not the dirty flags: they are omnistock's bookkeeping, which the baselines,
            # writing in their own way, never clear.
            shown = s.sandbox.shown()
            listings = await self._listings(s.account)
            states = await self.store.sync.get([x.id for x in listings])
            for listing in listings:
                if shown.get(listing.sku, 0) != states[listing.id].desired_qty:
                    return False
        return True

    async def quiet(self) -> None:
        """Wait until every notification the stores sent so far has been delivered and the
        engine has processed it (a scenario then starts from a shop at rest, not with the
        first sync's echoes still arriving, late by minutes of platform time)."""
        for s in self.merchant.stores:
            await s.sandbox.delivered()
        while (await self.store.inbox.counts()).pending:  # noqa: ASYNC110 - nothing signals it
            await asyncio.sleep(0.02)

    async def _listings(self, account: AccountId) -> list[Listing]:
        # The catalog does not change during a scenario: decode it once, not per check.
        if account not in self._catalog:
            self._catalog[account] = await self.store.catalog.listings(account)
        return self._catalog[account]


@contextlib.asynccontextmanager
async def running(
    options: RigOptions,
    workdir: Path,
    opening: Opening | None = None,
) -> AsyncIterator[Rig]:
    """The rig, synced once and running until the block ends; call records start empty.
    `opening` gives the opening stock (and tells the merchant's truth book); by default a
    count of none of anything, so that every listing's stock is known and the first sync
    writes each store to 0 (unknown stock would be held back, showing the store's own)."""
    merchant = build_merchant(
        options.platforms, options.skus, options.seed, time_scale=options.time_scale
    )
    time = ScaledTime(options.time_scale)
    settings = EngineSettings(
        poll=PollInterval(min_s=1.0, max_s=10.0, start_s=2.0),
        polling=options.polling,
        pushing=options.system is System.OMNISTOCK,
    )
    async with open_shop(
        merchant,
        f"sqlite:///{workdir / f'bench-{options.system}.db'}",
        clock=time,
        timer=time,
        settings=settings,
        policy=options.policy,
        opening=opening or (lambda shop: counted_nothing(shop, time.now())),
    ) as shop:
        merchant.clear_calls()
        rig = Rig(merchant, shop.store, shop.engine, time, None, None)
        stop = asyncio.Event()
        async with asyncio.TaskGroup() as tg:
            tg.create_task(shop.engine.run(stop))
            if options.system is System.PERIODIC:
                rig.periodic = PeriodicSync(
                    shop.store, shop.adapters, time, period_s=options.period_s
                )
                tg.create_task(rig.periodic.run(stop))
            elif options.system is System.PER_EVENT:
                rig.per_event = PerEventSync(shop.store, shop.adapters, time)
                await rig.per_event.start_at_end()
                tg.create_task(rig.per_event.run(stop))
            try:
                yield rig
            finally:
                stop.set()
