"""A sandbox as a merchant's setup sees it, the same for every platform: what it sells,
what it shows, how an adapter reaches it, and where it sends its notifications.

The demo, the benchmarks and the end-to-end tests drive every platform through this, so a
new platform joins them by implementing it on its sandbox."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Protocol

from starlette.types import ASGIApp

from omnistock.kit.sandbox.common.calls import CallRecord
from omnistock.kit.sandbox.common.core import SandboxCore
from omnistock.kit.sandbox.common.serve import SandboxOptions


@dataclass(frozen=True, slots=True)
class StorefrontListing:
    """One sellable SKU and the ids an adapter addresses it by on this platform."""

    sku: str
    external_ids: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Connection:
    """What an account of this store is configured with: where the adapter's API root is
    under the store's address, the credentials, named as the platform's registry entry
    names them, and the platform's own account settings (e.g. Amazon's marketplace)."""

    api_path: str  # "" when the adapter is given the store's address itself
    credentials: Mapping[str, str]
    settings: Mapping[str, str] = field(default_factory=dict)

    def base_url(self, address: str) -> str:
        """The adapter's base URL for the store served at `address`."""
        return address.rstrip("/") + self.api_path


class Storefront(Protocol):
    @property
    def platform(self) -> str: ...

    def credentials(self) -> Mapping[str, str]:
        """Everything the sandbox issued (what `omnistock sandbox` prints)."""
        ...

    def running(self) -> AbstractAsyncContextManager[None]:
        """Shoppers and notification delivery run inside (the app's lifespan when served)."""
        ...

    @property
    def core(self) -> SandboxCore:
        """Shoppers, call records, faults and the clock."""
        ...

    @property
    def app(self) -> ASGIApp: ...

    def listings(self) -> list[StorefrontListing]:
        """Every sellable SKU, in a stable order."""
        ...

    def shown(self) -> dict[str, int]:
        """What each SKU shows to shoppers now (a SKU out of stock may be absent)."""
        ...

    def shown_of(self, sku: str) -> int:
        """What one SKU shows to shoppers now (0 when it is not on show): `shown` reads
        every listing, which a probe looking every few milliseconds cannot afford."""
        ...

    def connection(self) -> Connection: ...

    def is_write(self, call: CallRecord) -> bool:
        """Whether a recorded API call set stock (what the benchmarks count)."""
        ...

    async def connect(self, webhook_url: str) -> None:
        """Send order and stock notifications to `webhook_url`, as a merchant sets up."""
        ...

    async def delivered(self) -> None:
        """Return once every notification scheduled so far has been attempted."""
        ...


StorefrontFactory = Callable[[SandboxOptions], Storefront]
