"""Propagation, measured from outside the engine: from an order accepted by one store until
the ledger has it and every other store shows what the ledger wants it to show.

It watches the sandboxes' shoppers as a shopper would, and reads the store as an operator
would: the ledger's log and its incidents, followed incrementally."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from functools import partial

from omnistock.domain.events import StockReserved
from omnistock.domain.ids import AccountId, ListingId
from omnistock.kit.merchant import Merchant
from omnistock.kit.sandbox.common.truth import OrderLine
from omnistock.ledger.store import Store

GIVE_UP_S = 30.0


@dataclass(frozen=True, slots=True)
class _Pending:
    started: float
    account: AccountId
    order_id: str
    sku: str


@dataclass
class PropagationProbe:
    shop: Merchant
    store: Store
    pending: list[_Pending] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    given_up: int = 0
    _seen: set[tuple[str, str]] = field(default_factory=set)  # (account, order id) in the ledger
    _ledger_at: int = 0
    _incidents_at: int = 0

    def watch(self) -> None:
        for s in self.shop.stores:
            s.sandbox.core.shoppers.listeners.append(partial(self.record, s.account))

    def record(self, account: AccountId, order_id: str, line: OrderLine) -> None:
        self.pending.append(_Pending(time.perf_counter(), account, order_id, line.sku))

    async def check(self) -> None:
        """Settle every pending order whose change has reached all the other stores."""
        if not self.pending:
            return
        await self._follow_the_ledger()
        now = time.perf_counter()
        still = []
        for p in self.pending:
            if (p.account, p.order_id) in self._seen and await self._elsewhere_in_sync(p):
                self.latencies_ms.append((now - p.started) * 1000)
            elif now - p.started > GIVE_UP_S:
                self.given_up += 1
            else:
                still.append(p)
        self.pending = still

    async def _follow_the_ledger(self) -> None:
        """Orders the ledger has answered: reserved, or refused as an oversell."""
        while events := await self.store.ledger.read(self._ledger_at, 10_000):
            self._ledger_at = events[-1].position
            for stored in events:
                event = stored.event
                if isinstance(event, StockReserved) and event.account is not None:
                    order_id = event.order_line.removeprefix(f"{event.account}:").split(":")[0]
                    self._seen.add((event.account, order_id))
        while incidents := await self.store.inbox.incidents_after(self._incidents_at, 1000):
            self._incidents_at = incidents[-1].position or self._incidents_at
            self._seen.update(
                (i.account, i.order_id)
                for i in incidents
                if i.account is not None and i.order_id is not None
            )

    async def _elsewhere_in_sync(self, p: _Pending) -> bool:
        others = [s for s in self.shop.stores if s.account != p.account]
        ids = [ListingId(f"{s.account}:{p.sku}") for s in others]
        states = await self.store.sync.get(ids)
        for s, listing in zip(others, ids, strict=True):
            state = states.get(listing)
            shown = s.sandbox.shown().get(p.sku, 0)
            if state is None or shown != state.desired_qty:
                return False
        return True

    def percentiles(self) -> dict[str, float | None]:
        data = sorted(self.latencies_ms)
        if len(data) < 2:
            return {"p50": data[0] if data else None, "p95": None, "p99": None, "count": len(data)}
        cuts = statistics.quantiles(data, n=100, method="inclusive")
        return {
            "p50": round(cuts[49], 1),
            "p95": round(cuts[94], 1),
            "p99": round(cuts[98], 1),
            "count": len(data),
        }
