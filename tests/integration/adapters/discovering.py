"""Reading a whole discovery through an adapter, for the platforms' discovery tests."""

from __future__ import annotations

from omnistock.adapters.base import DiscoveredListing, DiscoversListings


async def discover_all(
    adapter: DiscoversListings, cursor: str | None = None
) -> tuple[list[DiscoveredListing], int]:
    """Every listing from `cursor` (None: the start) to the end, in order, and how many
    calls it took."""
    found: list[DiscoveredListing] = []
    calls = 0
    while True:
        page = await adapter.discover(cursor)
        found.extend(page.listings)
        calls += 1
        if page.cursor is None:
            return found, calls
        cursor = page.cursor
