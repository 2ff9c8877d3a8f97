"""Never two writes to one SKU in flight: eBay refuses the second with 25025, and a write
that raced another could land last with an older quantity."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager


class SkuGate:
    """Holds sets of SKUs; a holder waits until none of its SKUs is held by another.

    Sets are taken whole (never one SKU at a time), so two writers can never each hold
    part of what the other needs: no deadlock, whatever the order of the SKUs."""

    def __init__(self) -> None:
        self._held: set[str] = set()
        self._changed = asyncio.Condition()

    @asynccontextmanager
    async def holding(self, skus: Collection[str]) -> AsyncIterator[None]:
        wanted = set(skus)
        async with self._changed:
            await self._changed.wait_for(lambda: not (wanted & self._held))
            self._held |= wanted
        try:
            yield
        finally:
            async with self._changed:
                self._held -= wanted
                self._changed.notify_all()

    def held(self, sku: str) -> bool:
        return sku in self._held
