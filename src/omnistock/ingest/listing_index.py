"""Which listing a channel's report names: by the platform ids it carries."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from omnistock.clock import Timer
from omnistock.domain.catalog import Listing
from omnistock.domain.ids import AccountId, ListingId
from omnistock.ledger.store import Store


class ListingIndex:
    """An account's listing by the ids its channel reports, loaded once per account and
    again on a miss (a listing added since), at most every `reload_s`: a webhook naming a
    product omnistock does not sync must not reload the catalog each time.

    A report may name fewer ids than the listing holds (Amazon's notifications name the
    seller SKU; the listing also keeps its ASIN): it matches the one listing holding all of
    them, and none when several do (a WooCommerce parent's id names all its variations)."""

    def __init__(self, store: Store, timer: Timer, *, reload_s: float = 5.0) -> None:
        self._store = store
        self._timer = timer
        self._reload_s = reload_s
        self._by_account: dict[AccountId, _AccountListings] = {}
        self._loaded_at: dict[AccountId, float] = {}

    async def find(self, account: AccountId, external_ids: Mapping[str, str]) -> ListingId | None:
        index = self._by_account.get(account)
        if index is not None and (found := index.find(external_ids)) is not None:
            return found
        now = self._timer.monotonic()
        if index is None or now - self._loaded_at[account] >= self._reload_s:
            index = _AccountListings(await self._store.catalog.listings(account))
            self._by_account[account] = index
            self._loaded_at[account] = now
        return index.find(external_ids)


class _AccountListings:
    def __init__(self, listings: Sequence[Listing]) -> None:
        self._exact = {frozenset(x.external_ids.items()): x.id for x in listings}
        self._by_id: dict[tuple[str, str], list[ListingId]] = {}
        for listing in listings:
            for pair in listing.external_ids.items():
                self._by_id.setdefault(pair, []).append(listing.id)

    def find(self, external_ids: Mapping[str, str]) -> ListingId | None:
        if not external_ids:
            return None  # names nothing
        exact = self._exact.get(frozenset(external_ids.items()))
        if exact is not None:
            return exact
        holding = [set(self._by_id.get(pair, ())) for pair in external_ids.items()]
        found = set.intersection(*holding)
        return found.pop() if len(found) == 1 else None
