"""Linking an account's discovered listings to the catalog, and writing the links as the
catalog's listings: only linked ones, so unmatched, duplicate and unmanaged listings are
never pushed to. A SKU the account already lists keeps its listing."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from omnistock.domain.catalog import Listing
from omnistock.domain.errors import InvalidInputError
from omnistock.domain.ids import AccountId, ListingId, Sku
from omnistock.domain.linking import LinkReport, link_listings
from omnistock.ledger.discovery import DiscoveredRow
from omnistock.ledger.store import Store


@dataclass(frozen=True, slots=True, kw_only=True)
class Applied:
    written: tuple[Listing, ...]
    kept: tuple[Sku, ...]  # linked SKUs the account already listed: left as they were


async def link_account(
    store: Store,
    account: AccountId,
    catalog: Collection[Sku],
    *,
    normalise: bool = False,
    location: str | None = None,
) -> tuple[LinkReport[DiscoveredRow], bool]:
    """The link report of the account's saved discovery, and whether that discovery is
    complete. Raises InvalidInputError when the account was never discovered."""
    run = await store.discovery.run_of(account)
    if run is None:
        raise InvalidInputError("account", f"{account} has no discovered listings")
    found = await store.discovery.listings(account)
    report = link_listings(found, catalog, normalise=normalise, location=location)
    return report, run.done


def listings_of(
    account: AccountId, report: LinkReport[DiscoveredRow], existing: Sequence[Listing]
) -> Applied:
    """The catalog listings the report's links make (id `{account}:{sku}`), leaving out the
    SKUs the account already has a listing for."""
    listed = {x.sku for x in existing if x.account == account}
    written = tuple(
        Listing(
            id=ListingId(f"{account}:{link.sku}"),
            account=account,
            sku=link.sku,
            external_ids=dict(link.listing.external_ids),
        )
        for link in report.linked
        if link.sku not in listed
    )
    kept = tuple(link.sku for link in report.linked if link.sku in listed)
    return Applied(written=written, kept=kept)


async def apply_links(
    store: Store, account: AccountId, report: LinkReport[DiscoveredRow]
) -> Applied:
    """Write the links as listings, all in one transaction (each gets its desired quantity)."""
    applied = listings_of(account, report, await store.catalog.listings(account))
    if applied.written:
        await store.catalog.put_listings(applied.written)
    return applied
