"""Checking a catalog file as a whole: bundles gathered from their rows, repeated records,
references to what neither the catalog nor the file holds, nesting; bad records refused whole."""

from __future__ import annotations

from collections.abc import Mapping

from omnistock.domain.allocation import AllocationPolicy, PolicyOverride
from omnistock.domain.bundles import MAX_COMPONENTS, Bundle, BundleComponent
from omnistock.domain.catalog import Item, Location
from omnistock.domain.catalog_batch import (
    AccountPolicy,
    CatalogBatch,
    CatalogIndex,
    ListingOverride,
)
from omnistock.domain.ids import AccountId, ListingId, LocationId, Sku
from omnistock.ingest.catalog_check import CheckedFile, check_rows
from omnistock.ingest.catalog_file import read_catalog_file
from omnistock.ingest.imports import ImportFormat
from omnistock.ingest.textfile import RowError

BUNDLES = b"bundle_sku,component_sku,quantity\n"


def _index(
    *,
    skus: frozenset[str] = frozenset({"A", "B", "C", "K"}),
    bundles: Mapping[str, frozenset[str]] | None = None,
    stocked: frozenset[str] = frozenset(),
) -> CatalogIndex:
    return CatalogIndex(
        locations=frozenset({LocationId("wh1")}),
        skus=frozenset(map(Sku, skus)),
        bundles={Sku(k): frozenset(map(Sku, v)) for k, v in (bundles or {}).items()},
        stocked=frozenset(map(Sku, stocked)),
        accounts=frozenset({AccountId("shop")}),
        listings=frozenset({ListingId("shop:A")}),
    )


def _check(data: bytes, index: CatalogIndex | None = None, *, jsonl: bool = False) -> CheckedFile:
    fmt = ImportFormat.JSONL if jsonl else ImportFormat.CSV
    return check_rows(read_catalog_file(data, fmt).rows, index or _index())


def _errors(checked: CheckedFile) -> list[tuple[int, str]]:
    return [(e.line, e.reason) for e in checked.errors]


def test_a_clean_file_becomes_one_batch_in_file_order() -> None:
    data = b"\n".join(
        [
            b'{"kind": "item", "sku": "Z", "name": "Zed"}',
            b'{"kind": "location", "id": "wh2"}',
            b'{"kind": "bundle", "bundle_sku": "Z", "component_sku": "B", "quantity": 1}',
            b'{"kind": "account_policy", "account": "shop", "locations": ["wh2"]}',
            b'{"kind": "item", "sku": "Y"}',
            b'{"kind": "bundle", "bundle_sku": "Z", "component_sku": "A", "quantity": 2}',
            b'{"kind": "listing_override", "listing": "shop:A", "max_shown": 4}',
        ]
    )
    checked = _check(data, jsonl=True)
    assert checked.errors == ()
    assert (checked.records, checked.refused) == (6, 0)
    parts = (BundleComponent(Sku("A"), 2), BundleComponent(Sku("B"), 1))
    assert checked.batch == CatalogBatch(
        locations=(Location(id=LocationId("wh2")),),
        items=(Item(sku=Sku("Z"), name="Zed"), Item(sku=Sku("Y"))),
        bundles=(Bundle(Sku("Z"), parts),),
        account_policies=(
            AccountPolicy(
                AccountId("shop"), AllocationPolicy(locations=frozenset({LocationId("wh2")}))
            ),
        ),
        listing_overrides=(ListingOverride(ListingId("shop:A"), PolicyOverride(max_shown=4)),),
    )


def test_a_record_repeated_is_refused_on_its_second_line() -> None:
    checked = _check(b"sku,name\nA,x\nB,y\nA,z\n")
    assert _errors(checked) == [(4, "sku: 'A' is already on line 2")]
    assert checked.batch.items == (Item(sku=Sku("A"), name="x"), Item(sku=Sku("B"), name="y"))
    assert (checked.records, checked.refused) == (3, 1)


def test_a_bundle_with_one_bad_row_is_refused_with_every_row() -> None:
    checked = _check(BUNDLES + b"K,A,1\nK2,A,1\nK,B,x\nK,C,1\n")
    assert _errors(checked) == [
        (2, "bundle_sku: bundle 'K' is refused as a whole (see line 4)"),
        (3, "bundle_sku: unknown item 'K2'"),
        (4, "quantity: must be a positive integer, got 'x'"),
        (5, "bundle_sku: bundle 'K' is refused as a whole (see line 4)"),
    ]
    assert checked.batch.bundles == ()
    assert (checked.records, checked.refused) == (2, 2)


def test_unknown_components_repeats_and_too_many_components_refuse_the_bundle() -> None:
    checked = _check(BUNDLES + b"K,A,1\nK,Q,1\nC,A,1\nC,A,2\n")
    assert _errors(checked) == [
        (2, "bundle_sku: bundle 'K' is refused as a whole (see line 3)"),
        (3, "component_sku: unknown item 'Q'"),
        (4, "bundle_sku: bundle 'C' is refused as a whole (see line 5)"),
        (5, "component_sku: 'A' is already in the bundle on line 4"),
    ]
    skus = frozenset({"K", *(f"P{i}" for i in range(MAX_COMPONENTS + 1))})
    many = BUNDLES + b"".join(b"K,P%d,1\n" % i for i in range(MAX_COMPONENTS + 1))
    [first, *_] = _check(many, _index(skus=skus)).errors
    assert first == RowError(2, f"bundle_sku: bundle 'K' has more than {MAX_COMPONENTS} components")


def test_items_of_the_file_count_as_known_but_refused_ones_do_not() -> None:
    data = b"\n".join(
        [
            b'{"kind": "item", "sku": "N1"}',
            b'{"kind": "item", "sku": "N2", "name": 3}',
            b'{"kind": "bundle", "bundle_sku": "N1", "component_sku": "N2", "quantity": 1}',
        ]
    )
    assert _errors(_check(data, jsonl=True)) == [
        (2, "name: must be a string, got int"),
        (3, "component_sku: unknown item 'N2'"),
    ]


def test_a_bundle_sku_holding_stock_is_refused() -> None:
    checked = _check(BUNDLES + b"K,A,1\n", _index(stocked=frozenset({"K"})))
    assert _errors(checked) == [
        (2, "bundle_sku: 'K' holds stock of its own; a bundle's comes from its components")
    ]


def test_nesting_is_judged_on_the_catalog_as_the_file_leaves_it() -> None:
    stored = {"K": frozenset({"A"})}
    # A component that is a stored bundle, and a bundle that is a stored bundle's component:
    checked = _check(BUNDLES + b"C,K,1\nA,B,1\n", _index(bundles=stored))
    assert _errors(checked) == [
        (2, "component_sku: 'K' is a bundle; bundles cannot be nested"),
        (3, "bundle_sku: 'A' is a component of bundle 'K'; bundles cannot be nested"),
    ]
    # K redefined without A: A may now become a bundle itself.
    checked = _check(BUNDLES + b"K,C,1\nA,B,1\n", _index(bundles=stored))
    assert checked.errors == ()
    assert [b.sku for b in checked.batch.bundles] == ["K", "A"]


def test_policies_and_overrides_must_name_what_exists() -> None:
    data = b"\n".join(
        [
            b'{"kind": "location", "id": "wh2"}',
            b'{"kind": "account_policy", "account": "nope"}',
            b'{"kind": "account_policy", "account": "shop", "locations": ["wh2", "wh9"]}',
            b'{"kind": "listing_override", "listing": "shop:Z"}',
            b'{"kind": "listing_override", "listing": "shop:A", "locations": ["wh1"]}',
        ]
    )
    checked = _check(data, jsonl=True)
    assert _errors(checked) == [
        (2, "account: unknown account 'nope'"),
        (3, "locations: unknown location 'wh9'"),
        (4, "listing: unknown listing 'shop:Z'"),
    ]
    override = PolicyOverride(locations=frozenset({LocationId("wh1")}))
    assert checked.batch.listing_overrides == (ListingOverride(ListingId("shop:A"), override),)
    assert (checked.records, checked.refused) == (5, 3)


def test_unreadable_rows_count_as_refused_records() -> None:
    checked = _check(b'{"kind": "item", "sku": "A"}\nnot json\n', jsonl=True)
    assert (checked.records, checked.refused) == (2, 1)
    assert checked.errors[0].line == 2
