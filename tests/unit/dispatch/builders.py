"""Due listings for the pure dispatch tests."""

from __future__ import annotations

from omnistock.domain.ids import AccountId, ListingId, Sku
from omnistock.domain.planning import Priority
from omnistock.ledger.sync_state import DueListing, ListingSyncState


def due(
    name: str,
    desired: int,
    *,
    pushed: int | None = None,
    priority: int = Priority.INCREASE,
    seq: int = 1,
    attempts: int = 0,
) -> DueListing:
    state = ListingSyncState(
        ListingId(name),
        AccountId("shop"),
        desired_qty=desired,
        desired_seq=seq,
        priority=priority,
        pushed_qty=pushed,
        attempts=attempts,
    )
    return DueListing(state, Sku(f"SKU-{name}"), {"product_id": "7"})
