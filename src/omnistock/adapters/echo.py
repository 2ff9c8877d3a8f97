"""Echo suppression: recognise a platform's webhook that only reports omnistock's own write.

Remembers the last quantity written per listing for a while, in bounded memory."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from omnistock.clock import Timer


@dataclass(frozen=True, slots=True)
class _Write:
    quantity: int
    at: float


class EchoFilter:
    """Last write per listing key, forgotten after `ttl` seconds or when memory is full.

    A webhook that reports exactly the quantity omnistock last set is an echo even if it
    comes twice (platforms redeliver) or after an unrelated edit brought the level back
    to that value: either way the channel already shows what omnistock wants."""

    def __init__(self, timer: Timer, *, ttl: float = 300.0, max_entries: int = 100_000) -> None:
        if ttl <= 0 or max_entries < 1:
            raise ValueError("ttl must be > 0 and max_entries >= 1")
        self._timer = timer
        self._ttl = ttl
        self._max = max_entries
        # Ordered oldest write first: expiry and eviction both pop from the front.
        self._writes: OrderedDict[str, _Write] = OrderedDict()

    def wrote(self, key: str, quantity: int) -> None:
        """Record that omnistock just set `key` (a platform listing id) to `quantity`."""
        now = self._timer.monotonic()
        self._writes.pop(key, None)  # re-inserting moves the key to the newest end
        self._writes[key] = _Write(quantity, now)
        self._forget_expired(now)
        while len(self._writes) > self._max:
            self._writes.popitem(last=False)

    def is_echo(self, key: str, quantity: int) -> bool:
        """Whether the latest unexpired write to `key` set exactly `quantity`."""
        now = self._timer.monotonic()
        self._forget_expired(now)
        write = self._writes.get(key)
        return write is not None and write.quantity == quantity

    def __len__(self) -> int:
        return len(self._writes)

    def _forget_expired(self, now: float) -> None:
        while self._writes:
            oldest = next(iter(self._writes.values()))
            if now - oldest.at < self._ttl:
                return
            self._writes.popitem(last=False)
