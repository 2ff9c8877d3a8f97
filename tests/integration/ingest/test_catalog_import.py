"""Catalog imports against a real store (SQLite and PostgreSQL): all or nothing, idempotent,
listings re-planned, and export → import → export giving the same file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from omnistock.domain.allocation import AllocationPolicy, PolicyOverride
from omnistock.domain.bundles import Bundle, BundleComponent
from omnistock.domain.catalog import ChannelAccount, Item, Listing, Location
from omnistock.domain.catalog_batch import (
    CatalogBatch,
    CatalogKind,
    EditCounts,
    ListingOverride,
)
from omnistock.domain.errors import InvalidInputError, UnknownEntityError
from omnistock.domain.ids import AccountId, ListingId, LocationId, Sku
from omnistock.ingest.catalog_file import read_catalog_file
from omnistock.ingest.catalog_import import (
    CatalogImportSummary,
    export_catalog,
    run_catalog_import,
)
from omnistock.ingest.imports import ImportFormat
from omnistock.ledger.store import Store
from tests.conftest import fresh_schema
from tests.contract.builders import desired, received, seed

CSV, JSONL = ImportFormat.CSV, ImportFormat.JSONL
SHOP = AccountId("shop")
CATALOG = b"\n".join(
    [
        b'{"kind": "location", "id": "wh2", "name": "Back"}',
        b'{"kind": "item", "sku": "A", "name": "Apple"}',
        b'{"kind": "item", "sku": "KIT"}',
        b'{"kind": "bundle", "bundle_sku": "KIT", "component_sku": "A", "quantity": 2}',
        b'{"kind": "bundle", "bundle_sku": "KIT", "component_sku": "B", "quantity": 1}',
        b'{"kind": "account_policy", "account": "shop", "safety_buffer": 1}',
        b'{"kind": "listing_override", "listing": "shop:B", "max_shown": 2}',
    ]
)


async def _import(
    store: Store, data: bytes, fmt: ImportFormat = JSONL, *, skip: bool = False
) -> CatalogImportSummary:
    return await run_catalog_import(store, "test", read_catalog_file(data, fmt), skip_bad_rows=skip)


async def _export(store: Store, kind: CatalogKind | None = None) -> str:
    return "".join(await export_catalog(store, JSONL, kind))


def _counts(summary: CatalogImportSummary) -> dict[str, tuple[int, int, int]]:
    return {
        kind.value: (c.created, c.updated, c.unchanged)
        for kind, c in summary.by_kind.items()
        if c != EditCounts()
    }


async def test_every_kind_applies_and_the_listings_follow(store: Store) -> None:
    await seed(store, ["A", "B", "KIT"])
    await store.ledger.append([received("A", 9), received("B", 5)])
    summary = await _import(store, CATALOG)
    assert summary.complete
    assert summary.records == 6
    assert _counts(summary) == {
        "location": (1, 0, 0),
        "item": (0, 1, 1),  # A is renamed, KIT was there already
        "bundle": (1, 0, 0),
        "account_policy": (0, 1, 0),
        "listing_override": (0, 1, 0),
    }
    assert await store.catalog.bundles() == [
        Bundle(Sku("KIT"), (BundleComponent(Sku("A"), 2), BundleComponent(Sku("B"), 1)))
    ]
    # Buffer 1 on the account; B capped at 2 by its override; KIT = min(9 // 2, 5) - 1.
    assert (await desired(store, "A"), await desired(store, "B")) == (8, 2)
    assert await desired(store, "KIT") == 3
    [account] = await store.catalog.accounts()
    assert account.policy == AllocationPolicy(safety_buffer=1)
    assert account.platform == "woocommerce"  # only the policy comes from the file


async def test_importing_the_same_file_again_changes_nothing(store: Store) -> None:
    await seed(store, ["A", "B", "KIT"])
    await store.ledger.append([received("A", 9)])
    await _import(store, CATALOG)
    versions = await store.ledger.versions([Sku("A"), Sku("B"), Sku("KIT")])
    before = await _export(store)
    again = await _import(store, CATALOG)
    assert again.complete
    assert again.total() == EditCounts(unchanged=6)
    assert await _export(store) == before
    # Nothing was re-planned: the SKU versions (bumped by every re-plan) did not move.
    assert await store.ledger.versions([Sku("A"), Sku("B"), Sku("KIT")]) == versions


async def test_a_file_with_a_bad_row_applies_nothing(store: Store) -> None:
    await seed(store, ["A", "B", "KIT"])
    data = CATALOG + b'\n{"kind": "bundle", "bundle_sku": "KIT", "component_sku": "Q",'
    data += b' "quantity": 1}\n{"kind": "item", "sku": "C", "name": 7}\n'
    summary = await _import(store, data)
    assert not summary.applied
    assert [(e.line, e.reason) for e in summary.errors] == [
        (4, "bundle_sku: bundle 'KIT' is refused as a whole (see line 8)"),
        (5, "bundle_sku: bundle 'KIT' is refused as a whole (see line 8)"),
        (8, "component_sku: unknown item 'Q'"),
        (9, "name: must be a string, got int"),
    ]
    assert (summary.records, summary.refused, summary.total()) == (7, 2, EditCounts())
    assert [x.id for x in await store.catalog.locations()] == ["wh1"]
    assert await store.catalog.bundles() == []


async def test_skipping_bad_rows_applies_every_good_record_together(store: Store) -> None:
    await seed(store, ["A", "B", "KIT"])
    data = CATALOG + b'\n{"kind": "listing_override", "listing": "shop:nope"}\n'
    summary = await _import(store, data, skip=True)
    assert summary.applied
    assert not summary.complete
    assert [(e.line, e.reason) for e in summary.errors] == [
        (8, "listing: unknown listing 'shop:nope'")
    ]
    assert summary.total() == EditCounts(created=2, updated=3, unchanged=1)
    assert len(await store.catalog.bundles()) == 1


async def test_a_store_error_midway_writes_nothing(store: Store) -> None:
    await seed(store, ["A", "B"])
    late_failure = CatalogBatch(
        locations=(Location(id=LocationId("wh9")),),
        items=(Item(sku=Sku("NEW")), Item(sku=Sku("A"), name="renamed")),
        listing_overrides=(ListingOverride(ListingId("shop:gone"), PolicyOverride()),),
    )
    with pytest.raises(UnknownEntityError, match="listing"):
        await store.catalog.apply_batch(late_failure)
    # Two bundles redefined together into a nest is found only once both are written.
    await store.catalog.put_items([Item(sku=Sku("K1")), Item(sku=Sku("K2"))])
    nest = CatalogBatch(
        bundles=(
            Bundle(Sku("K1"), (BundleComponent(Sku("A"), 1),)),
            Bundle(Sku("K2"), (BundleComponent(Sku("K1"), 1),)),
        )
    )
    with pytest.raises(InvalidInputError, match="nested"):
        await store.catalog.apply_batch(nest)
    assert [x.id for x in await store.catalog.locations()] == ["wh1"]
    items = {item.sku: item.name for item in await store.catalog.items()}
    assert items == {"A": "", "B": "", "K1": "", "K2": ""}
    assert await store.catalog.bundles() == []


async def test_a_policy_override_cleared_by_the_file_is_cleared(store: Store) -> None:
    await seed(store, ["A"])
    await store.ledger.append([received("A", 10)])
    await _import(store, b"listing,max_shown\nshop:A,4\n", CSV)
    assert await desired(store, "A") == 4
    summary = await _import(store, b"listing,max_shown\nshop:A,\n", CSV)
    assert summary.total() == EditCounts(updated=1)
    assert await desired(store, "A") == 10
    [listing] = await store.catalog.listings()
    assert listing.override == PolicyOverride()


@pytest.fixture(params=["sqlite", "postgres"])
async def two_stores(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[Store, Store]]:
    """Two empty stores of one kind: where a catalog comes from, and where it goes."""
    if request.param == "sqlite":
        urls = (f"sqlite:///{tmp_path / 'from.db'}", f"sqlite:///{tmp_path / 'to.db'}")
        stores = (await Store.open(urls[0]), await Store.open(urls[1]))
        yield stores
        for opened in stores:
            await opened.close()
        return
    first = request.getfixturevalue("pg_url")
    with fresh_schema(request.getfixturevalue("pg_server")) as second:
        stores = (await Store.open(first), await Store.open(second))
        yield stores
        for opened in stores:
            await opened.close()


async def _full_catalog(store: Store) -> None:
    await seed(store, ["A", "B", "C", "KIT"], policy=AllocationPolicy(share=0.3, zero_below=2))
    await store.catalog.put_location(Location(id=LocationId("wh2"), name="Back, upstairs"))
    await store.catalog.put_bundle(
        Bundle(Sku("KIT"), (BundleComponent(Sku("A"), 2), BundleComponent(Sku("C"), 1)))
    )
    second = ChannelAccount(id=AccountId("ebay"), platform="ebay")
    await store.catalog.put_account(second)
    override = PolicyOverride(share=0.125, locations=frozenset({LocationId("wh2")}))
    await store.catalog.put_listings(
        [Listing(id=ListingId("shop:B"), account=SHOP, sku=Sku("B"), override=override)]
    )


async def _discover(source: Store, target: Store) -> None:
    """What the TOML (accounts) and discovery (listings) give the target, never exported."""
    for account in await source.catalog.accounts():
        await target.catalog.put_account(
            ChannelAccount(id=account.id, platform=account.platform, settings=account.settings)
        )
    listings = await source.catalog.listings()
    await target.catalog.put_listings(
        [Listing(id=x.id, account=x.account, sku=x.sku) for x in listings]
    )


async def test_export_import_export_gives_the_same_file(two_stores: tuple[Store, Store]) -> None:
    source, target = two_stores
    await _full_catalog(source)
    exported = await _export(source)
    # Into an empty store: the catalog kinds apply; policies and overrides wait for the
    # accounts and listings they belong to.
    first = await _import(target, exported.encode(), skip=True)
    assert {e.reason.split(":")[0] for e in first.errors} == {"account", "listing"}
    assert first.total() == EditCounts(created=7)  # 2 locations, 4 items, 1 bundle
    await _discover(source, target)
    second = await _import(target, exported.encode())
    assert second.complete
    # The shop's policy and the override; ebay's policy is the default it already has.
    assert second.total() == EditCounts(updated=2, unchanged=8)
    assert await _export(target) == exported
    assert await source.catalog.listings() == await target.catalog.listings()
    for kind in (CatalogKind.LOCATION, CatalogKind.ITEM, CatalogKind.BUNDLE):
        lines = await export_catalog(source, CSV, kind)
        again = await _import(target, "".join(lines).encode(), CSV)
        assert again.total().unchanged == again.records
        assert await export_catalog(target, CSV, kind) == lines
