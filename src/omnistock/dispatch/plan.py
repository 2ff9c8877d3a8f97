"""Reading a first sync's plan: the account's listings and the ledger's balances from the
store, what the channel shows from its adapter (reads only), the plan from
`domain.sync_plan`. Nothing is written, to the channel or to the database."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from omnistock.adapters.base import ChannelAdapter, ListingRef
from omnistock.dispatch.dispatcher import RECONCILE_PAGE
from omnistock.domain.allocation import effective_policy
from omnistock.domain.bundles import Bundle
from omnistock.domain.catalog import ChannelAccount, Listing
from omnistock.domain.ids import ListingId, Sku
from omnistock.domain.planning import ListingPlan
from omnistock.domain.sync_plan import SyncPlan, plan_first_sync
from omnistock.ledger.store import Store

Progress = Callable[[int, int], None]  # (listings read from the channel, of how many)


async def read_plan(
    store: Store,
    account: ChannelAccount,
    adapter: ChannelAdapter,
    *,
    listings: Sequence[Listing] = (),
    bundles: Sequence[Bundle] = (),
    never_pushed: bool = False,
    hold_unknown: bool = True,
    progress: Progress | None = None,
) -> SyncPlan:
    """The plan of a first push of `account`: its listings in the store, overlaid with
    `listings` and `bundles` not written yet (a config's); with `never_pushed`, only the
    listings omnistock has never written (what a first push at start-up would be)."""
    by_id = {x.id: x for x in await store.catalog.listings(account.id)}
    by_id.update((x.id, x) for x in listings if x.account == account.id)
    if never_pushed:
        states = await store.sync.get(list(by_id))
        by_id = {k: v for k, v in by_id.items() if k not in states or states[k].pushed_qty is None}
    chosen = [by_id[k] for k in sorted(by_id)]
    every_bundle = {b.sku: b for b in await store.catalog.bundles()}
    every_bundle.update((b.sku, b) for b in bundles)
    skus = {x.sku for x in chosen}
    skus |= {c.sku for sku in skus if sku in every_bundle for c in every_bundle[sku].components}
    balances = await store.ledger.balances(sorted(skus)) if skus else {}
    plans = [ListingPlan(x.id, x.sku, effective_policy(account.policy, x.override)) for x in chosen]
    shown = await _shown(adapter, chosen, progress)
    return plan_first_sync(
        account.id, plans, balances, every_bundle, shown, hold_unknown=hold_unknown
    )


async def _shown(
    adapter: ChannelAdapter, listings: Sequence[Listing], progress: Progress | None
) -> dict[ListingId, int | None]:
    shown: dict[ListingId, int | None] = {}
    for start in range(0, len(listings), RECONCILE_PAGE):
        page = listings[start : start + RECONCILE_PAGE]
        refs = [ListingRef(listing=x.id, sku=Sku(x.sku), external_ids=x.external_ids) for x in page]
        for level in await adapter.read(refs):
            shown[level.listing] = level.quantity
        if progress is not None:
            progress(len(shown), len(listings))
    return shown
