"""Which due listings go first and how they are packed into the platform's batches.

Pure: risk orders decreases to zero or low stock before mere increases, which may linger."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from omnistock.adapters.base import ListingRef, StockUpdate
from omnistock.domain.planning import Priority
from omnistock.ledger.sync_state import DueListing, ListingSyncState

T = TypeVar("T")


def risk(state: ListingSyncState) -> int:
    """How urgent pushing the desired quantity is (a Priority: lower goes first).

    The ledger ranks out-of-stock and low-stock levels; a drop below what the channel
    shows now (the last push) outranks an increase, since the channel oversells meanwhile."""
    lower = state.pushed_qty is not None and state.desired_qty < state.pushed_qty
    return min(state.priority, Priority.DECREASE if lower else Priority.INCREASE)


def by_risk(due: Sequence[DueListing]) -> list[DueListing]:
    """Most urgent first. Among drops of the shown stock, the fewest units really left
    first, then the most units shown that are gone: where a shopper is likeliest to buy
    what is not there. Otherwise the oldest change first."""
    return sorted(due, key=_urgency)


def _urgency(due: DueListing) -> tuple[int, int, int, int, str]:
    state = due.state
    level = risk(state)
    if level == Priority.INCREASE:
        return (level, 0, 0, state.desired_seq, state.listing)
    shown_gone = (state.pushed_qty or 0) - state.desired_qty
    return (level, state.desired_qty, -shown_gone, state.desired_seq, state.listing)


def pack(items: Sequence[T], size: int) -> list[list[T]]:
    """Consecutive batches of at most `size` items, in order."""
    if size < 1:
        raise ValueError(f"batch size must be >= 1, got {size}")
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def pack_grouped(items: Sequence[T], size: int, group: Callable[[T], str]) -> list[list[T]]:
    """Batches of at most `size` items of one group each (a platform that writes groups
    through separate calls), as few as the groups allow. Batches come in the order of their
    first item, so the most urgent item still goes first; items of its group ride along,
    which costs no extra call."""
    if size < 1:
        raise ValueError(f"batch size must be >= 1, got {size}")
    batches: list[list[T]] = []
    open_batch: dict[str, list[T]] = {}
    for item in items:
        key = group(item)
        batch = open_batch.get(key)
        if batch is None or len(batch) >= size:
            batch = open_batch[key] = []
            batches.append(batch)
        batch.append(item)
    return batches


def may_linger(due: Sequence[DueListing], max_batch: int) -> bool:
    """Whether waiting briefly for a fuller batch costs nothing but a little latency:
    the listings due would not fill one batch and none of them lowers the shown stock."""
    if not due or len(due) >= max_batch:
        return False
    return all(risk(d.state) == Priority.INCREASE for d in due)


def ref_of(due: DueListing) -> ListingRef:
    """The listing as its adapter addresses it."""
    return ListingRef(listing=due.state.listing, sku=due.sku, external_ids=due.external_ids)


def update_of(due: DueListing) -> StockUpdate:
    """The write of the listing's latest desired quantity (all earlier ones coalesced),
    expecting the channel to show what was last pushed (or what it last said it shows):
    a platform with compare-and-set then needs no read first."""
    state = due.state
    return StockUpdate(
        ref=ref_of(due),
        quantity=state.desired_qty,
        sequence=state.desired_seq,
        expected=state.pushed_qty,
    )
