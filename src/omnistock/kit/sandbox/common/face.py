"""The one face a platform sandbox offers: what a merchant's setup sees (Storefront) and
what the adapter contract suite, the fidelity tests and the push benchmarks drive (seed
listings, read what it holds, inject faults, count calls, catch webhooks, place orders).

Each platform implements it once, on its `XSandbox` class in `<platform>/face.py`; the
emulator underneath (`<platform>/app.py`) knows nothing of the adapters, the face alone
speaks in their `ListingRef`s and external-id keys."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from omnistock.adapters.base import ListingRef
from omnistock.clock import Timer
from omnistock.kit.sandbox.common.face_records import Call, Delivery
from omnistock.kit.sandbox.common.storefront import Storefront

__all__ = ["Call", "Delivery", "SandboxFace"]


class SandboxFace(Storefront, Protocol):
    @property
    def timer(self) -> Timer:
        """The adapter's timer: sleeping on it moves the sandbox's clock."""
        ...

    def api_url(self, server_url: str | None = None) -> str:
        """The adapter's base URL, on `server_url` when served, else the sandbox's own."""
        ...

    async def seed(
        self, count: int, *, variants: bool = False, quantity: int = 5
    ) -> list[ListingRef]:
        """Add `count` sellable listings (variants of one product when `variants`)."""
        ...

    def unknown_listing(self) -> ListingRef:
        """A ref to a listing the platform does not have."""
        ...

    async def held(self, ref: ListingRef) -> int | None:
        """The quantity the platform holds for `ref` (None: missing or not tracked)."""
        ...

    async def change_externally(self, ref: ListingRef, quantity: int) -> None:
        """The merchant edits the quantity in the platform's own admin."""
        ...

    def fail_item_writes(self, ref: ListingRef, times: int = 1) -> None:
        """The next `times` writes of this one item fail on their own, retryably."""
        ...

    def fail_next(self, status: int, retry_after: float | None = None) -> None: ...
    def storm_429(self, seconds: float, retry_after: float) -> None: ...
    def error_rate(self, status: int, rate: float) -> None: ...
    def timeouts(self, rate: float) -> None: ...
    def outage(self, seconds: float) -> None: ...
    def duplicate_webhooks(self) -> None: ...
    def clear_faults(self) -> None: ...

    def calls(self) -> Sequence[Call]:
        """The API calls so far, as the contract counts them."""
        ...

    def reset_calls(self) -> None: ...

    def expire_token(self) -> bool:
        """Invalidate the adapter's access token; False when the platform has none."""
        ...

    async def subscribe_webhooks(self, topics: Sequence[str] = ...) -> None:
        """Send the platform's notifications on `topics` to the in-memory receiver."""
        ...

    async def deliveries(self) -> Sequence[Delivery]:
        """Every notification sent since the last call, once delivery has gone idle."""
        ...

    async def place_orders(
        self, refs: Sequence[ListingRef], count: int, *, per_second: int
    ) -> list[str]:
        """`count` paid orders of one unit each, `per_second` in each platform second."""
        ...
