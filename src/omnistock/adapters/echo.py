"""Echo suppression: recognise a platform's webhook that only reports omnistock's own write.

Remembers the last few quantities written per listing for a while, in bounded memory."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from omnistock.clock import Timer


@dataclass(frozen=True, slots=True)
class _Writes:
    quantities: tuple[int, ...]  # the most recent last
    at: float  # of the most recent


class EchoFilter:
    """The last few writes per listing key, forgotten `ttl` seconds after the key's latest
    write or when memory is full.

    A webhook that reports a quantity omnistock recently set is an echo, even if it comes
    twice (platforms redeliver), late (after a later write: deliveries are not ordered),
    or after an unrelated edit brought the level back to that value. Taking a late echo
    for an external change would mark the listing drifted and push it again for nothing;
    a real edit that happens to equal a recent write is left to reconciliation."""

    def __init__(
        self,
        timer: Timer,
        *,
        ttl: float = 300.0,
        max_entries: int = 100_000,
        depth: int = 4,
    ) -> None:
        if ttl <= 0 or max_entries < 1 or depth < 1:
            raise ValueError("ttl must be > 0, max_entries >= 1 and depth >= 1")
        self._timer = timer
        self._ttl = ttl
        self._max = max_entries
        self._depth = depth
        # Ordered by latest write, oldest first: expiry and eviction both pop from the front.
        self._writes: OrderedDict[str, _Writes] = OrderedDict()

    def wrote(self, key: str, quantity: int) -> None:
        """Record that omnistock just set `key` (a platform listing id) to `quantity`."""
        now = self._timer.monotonic()
        self._forget_expired(now)
        before = self._writes.pop(key, None)  # re-inserting moves the key to the newest end
        recent = (*(before.quantities if before else ()), quantity)[-self._depth :]
        self._writes[key] = _Writes(recent, now)
        while len(self._writes) > self._max:
            self._writes.popitem(last=False)

    def is_echo(self, key: str, quantity: int) -> bool:
        """Whether an unexpired recent write to `key` set exactly `quantity`."""
        self._forget_expired(self._timer.monotonic())
        writes = self._writes.get(key)
        return writes is not None and quantity in writes.quantities

    def __len__(self) -> int:
        return len(self._writes)

    def _forget_expired(self, now: float) -> None:
        while self._writes:
            oldest = next(iter(self._writes.values()))
            if now - oldest.at < self._ttl:
                return
            self._writes.popitem(last=False)
