"""Concurrent writers for the store contract: each opens its own store and appends at random.

Module-level so that multiprocessing can start it in a fresh interpreter."""

from __future__ import annotations

import asyncio
import random

from omnistock.domain.errors import StorageBusyError
from omnistock.domain.events import LedgerEvent
from omnistock.ledger.journal import AppendResult
from omnistock.ledger.store import Store
from tests.contract.builders import received, released, reserved

SKUS = ["H1", "H2", "H3"]


def _event(rng: random.Random, worker: int, n: int) -> LedgerEvent:
    sku = rng.choice(SKUS)
    k = f"w{worker}-{n}"
    kind = rng.random()
    if kind < 0.4:
        return received(sku, rng.randint(1, 3), k=k)
    if kind < 0.85:
        return reserved(sku, rng.randint(1, 3), k=k)
    return released(sku, 1, k=k)


async def _hammer(url: str, worker: int, batches: int) -> list[tuple[str, str, int]]:
    rng = random.Random(worker)
    store = await Store.open(url)
    applied: list[tuple[str, str, int]] = []
    try:
        for b in range(batches):
            events = [_event(rng, worker, b * 10 + i) for i in range(rng.randint(1, 5))]
            results = await _append_until_accepted(store, events)
            applied.extend(
                (e.type.value, e.sku, e.quantity)
                for e, r in zip(events, results, strict=True)
                if r.applied
            )
    finally:
        await store.close()
    return applied


async def _append_until_accepted(store: Store, events: list[LedgerEvent]) -> list[AppendResult]:
    # A busy store wrote nothing; the same events (same keys) are simply offered again,
    # as a real writer would after StorageBusyError.
    while True:
        try:
            return await store.ledger.append(events)
        except StorageBusyError:
            await asyncio.sleep(0.05)


def hammer(url: str, worker: int, batches: int) -> list[tuple[str, str, int]]:
    """Append `batches` random batches; return (type, sku, qty) of every applied event."""
    return asyncio.run(_hammer(url, worker, batches))
