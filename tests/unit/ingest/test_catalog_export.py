"""Writing catalog files: the format the reader reads, sorted and complete, so that what is
written reads back as the same records."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omnistock.domain.allocation import AllocationPolicy, PolicyOverride
from omnistock.domain.bundles import Bundle, BundleComponent
from omnistock.domain.catalog import Item, Location
from omnistock.domain.catalog_batch import (
    AccountPolicy,
    CatalogBatch,
    CatalogIndex,
    CatalogKind,
    ListingOverride,
)
from omnistock.domain.errors import InvalidInputError
from omnistock.domain.ids import AccountId, ListingId, LocationId, Sku
from omnistock.ingest.catalog_check import check_rows
from omnistock.ingest.catalog_export import export_lines
from omnistock.ingest.catalog_file import read_catalog_file
from omnistock.ingest.imports import ImportFormat

CSV, JSONL = ImportFormat.CSV, ImportFormat.JSONL
WH = (LocationId("wh1"), LocationId("wh 2"))
CATALOG = CatalogBatch(
    locations=(Location(id=WH[1], name="Back, upstairs"), Location(id=WH[0], name="Main")),
    items=(Item(sku=Sku("B"), name='say "hi"'), Item(sku=Sku("A")), Item(sku=Sku("K"))),
    bundles=(Bundle(Sku("K"), (BundleComponent(Sku("B"), 1), BundleComponent(Sku("A"), 2))),),
    account_policies=(
        AccountPolicy(AccountId("shop"), AllocationPolicy(share=0.25, locations=frozenset(WH))),
    ),
    listing_overrides=(ListingOverride(ListingId("shop:A"), PolicyOverride(max_shown=3)),),
)


def _text(fmt: ImportFormat, kind: CatalogKind | None = None) -> str:
    return "".join(export_lines(CATALOG, fmt, kind))


def test_jsonl_holds_every_kind_sorted_with_every_field() -> None:
    assert _text(JSONL).splitlines() == [
        '{"kind": "location", "id": "wh 2", "name": "Back, upstairs"}',
        '{"kind": "location", "id": "wh1", "name": "Main"}',
        '{"kind": "item", "sku": "A", "name": ""}',
        '{"kind": "item", "sku": "B", "name": "say \\"hi\\""}',
        '{"kind": "item", "sku": "K", "name": ""}',
        '{"kind": "bundle", "bundle_sku": "K", "component_sku": "A", "quantity": 2}',
        '{"kind": "bundle", "bundle_sku": "K", "component_sku": "B", "quantity": 1}',
        '{"kind": "account_policy", "account": "shop", "safety_buffer": 0, "share": 0.25,'
        ' "max_shown": null, "zero_below": 0, "locations": ["wh 2", "wh1"], "low_stock": 3}',
        '{"kind": "listing_override", "listing": "shop:A", "safety_buffer": null,'
        ' "share": null, "max_shown": 3, "zero_below": null, "locations": null,'
        ' "low_stock": null}',
    ]
    assert _text(JSONL, CatalogKind.ITEM).count("\n") == 3


def test_csv_holds_one_kind_with_its_header() -> None:
    assert _text(CSV, CatalogKind.LOCATION) == 'id,name\nwh 2,"Back, upstairs"\nwh1,Main\n'
    assert _text(CSV, CatalogKind.BUNDLE) == "bundle_sku,component_sku,quantity\nK,A,2\nK,B,1\n"
    assert _text(CSV, CatalogKind.ACCOUNT_POLICY) == (
        "account,safety_buffer,share,max_shown,zero_below,locations,low_stock\n"
        "shop,0,0.25,,0,wh 2;wh1,3\n"
    )
    with pytest.raises(InvalidInputError, match="a CSV file holds one kind"):
        export_lines(CATALOG, CSV)


def test_a_location_holding_the_csv_separator_cannot_go_to_csv() -> None:
    policy = AllocationPolicy(locations=frozenset({LocationId("a;b")}))
    catalog = CatalogBatch(account_policies=(AccountPolicy(AccountId("s"), policy),))
    with pytest.raises(InvalidInputError, match="export JSONL"):
        list(export_lines(catalog, CSV, CatalogKind.ACCOUNT_POLICY))
    assert '"locations": ["a;b"]' in "".join(export_lines(catalog, JSONL))


def _read_back(text: str, fmt: ImportFormat, catalog: CatalogBatch) -> CatalogBatch:
    index = CatalogIndex(
        locations=frozenset(WH),
        skus=frozenset(item.sku for item in CATALOG.items),
        bundles={},
        stocked=frozenset(),
        accounts=frozenset(p.account for p in catalog.account_policies),
        listings=frozenset(o.listing for o in catalog.listing_overrides),
    )
    checked = check_rows(read_catalog_file(text.encode(), fmt).rows, index)
    assert checked.errors == ()
    return checked.batch


def test_a_jsonl_file_reads_back_as_the_same_records() -> None:
    assert _sorted(_read_back(_text(JSONL), JSONL, CATALOG)) == _sorted(CATALOG)


@pytest.mark.parametrize("kind", list(CatalogKind))
def test_a_csv_file_reads_back_as_the_same_records(kind: CatalogKind) -> None:
    batch = _read_back(_text(CSV, kind), CSV, CATALOG)
    assert _sorted(batch) == _sorted(_only(CATALOG, kind))


def _only(catalog: CatalogBatch, kind: CatalogKind) -> CatalogBatch:
    return CatalogBatch(
        locations=catalog.locations if kind is CatalogKind.LOCATION else (),
        items=catalog.items if kind is CatalogKind.ITEM else (),
        bundles=catalog.bundles if kind is CatalogKind.BUNDLE else (),
        account_policies=catalog.account_policies if kind is CatalogKind.ACCOUNT_POLICY else (),
        listing_overrides=(
            catalog.listing_overrides if kind is CatalogKind.LISTING_OVERRIDE else ()
        ),
    )


def _sorted(catalog: CatalogBatch) -> CatalogBatch:
    return CatalogBatch(
        locations=tuple(sorted(catalog.locations, key=lambda x: x.id)),
        items=tuple(sorted(catalog.items, key=lambda x: x.sku)),
        bundles=tuple(
            Bundle(b.sku, tuple(sorted(b.components, key=lambda c: c.sku)))
            for b in sorted(catalog.bundles, key=lambda x: x.sku)
        ),
        account_policies=tuple(sorted(catalog.account_policies, key=lambda x: x.account)),
        listing_overrides=tuple(sorted(catalog.listing_overrides, key=lambda x: x.listing)),
    )


_counts = st.integers(0, 2**31 - 1)
_overrides = st.builds(
    PolicyOverride,
    safety_buffer=st.none() | _counts,
    share=st.none() | st.floats(0, 1),
    max_shown=st.none() | _counts,
    zero_below=st.none() | _counts,
    locations=st.none() | st.frozensets(st.sampled_from(WH), min_size=1),
    low_stock=st.none() | _counts,
)


@given(overrides=st.lists(_overrides, max_size=5), fmt=st.sampled_from([CSV, JSONL]))
def test_any_override_reads_back_exactly(
    overrides: list[PolicyOverride], fmt: ImportFormat
) -> None:
    catalog = CatalogBatch(
        listing_overrides=tuple(
            ListingOverride(ListingId(f"l{i}"), o) for i, o in enumerate(overrides)
        )
    )
    text = "".join(export_lines(catalog, fmt, CatalogKind.LISTING_OVERRIDE))
    assert _read_back(text, fmt, catalog).listing_overrides == catalog.listing_overrides
