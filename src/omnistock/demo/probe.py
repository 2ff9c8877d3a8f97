"""Propagation, measured from outside the engine: from an order accepted by one store until
the ledger has it and every other store shows what the ledger wants it to show.

It watches the sandboxes as a shopper would, and reads the store as an operator would."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field

from omnistock.demo.shop import DemoShop
from omnistock.domain.ids import AccountId, ListingId
from omnistock.ingest.orders import LineAction, LineRef
from omnistock.ledger.store import Store
from omnistock.sandbox.woocommerce.store import Item, WooOrder

GIVE_UP_S = 30.0


@dataclass(frozen=True, slots=True)
class _Pending:
    started: float
    account: AccountId
    sku: str
    key: str  # the ledger key of the line's reservation


@dataclass
class PropagationProbe:
    shop: DemoShop
    store: Store
    pending: list[_Pending] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    given_up: int = 0

    def watch(self) -> None:
        for s in self.shop.stores:
            s.sandbox.store.observers.append(_OrderWatcher(self, s.account))

    def record(self, account: AccountId, order: WooOrder) -> None:
        for line in order.line_items:
            ref = LineRef(
                order_id=str(order.id),
                line_id=str(line.id),
                order_line=f"{account}:{order.id}:{line.id}",
                quantity=line.quantity,
            )
            self.pending.append(
                _Pending(time.perf_counter(), account, line.sku, ref.key(LineAction.RESERVED))
            )

    async def check(self) -> None:
        """Settle every pending order whose change has reached all the other stores."""
        if not self.pending:
            return
        known = await self.store.inbox.known([p.key for p in self.pending])
        now = time.perf_counter()
        still = []
        for p in self.pending:
            if p.key in known and await self._elsewhere_in_sync(p):
                self.latencies_ms.append((now - p.started) * 1000)
            elif now - p.started > GIVE_UP_S:
                self.given_up += 1
            else:
                still.append(p)
        self.pending = still

    async def _elsewhere_in_sync(self, p: _Pending) -> bool:
        others = [s for s in self.shop.stores if s.account != p.account]
        ids = [ListingId(f"{s.account}:{p.sku}") for s in others]
        states = await self.store.sync.get(ids)
        for s, listing in zip(others, ids, strict=True):
            state = states.get(listing)
            shown = s.sandbox.store.shown().get(p.sku, 0)
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


class _OrderWatcher:
    """A store observer (as WordPress hooks are): sees each order when it is created."""

    def __init__(self, probe: PropagationProbe, account: AccountId) -> None:
        self._probe = probe
        self._account = account

    def product_saved(self, item: Item) -> None:
        return None

    def order_saved(self, order: WooOrder, *, created: bool) -> None:
        if created:
            self._probe.record(self._account, order)
