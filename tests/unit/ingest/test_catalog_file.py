"""Reading catalog files: every kind in CSV and JSONL, each bad row a RowError naming its line
and field, and only a file that cannot be read at all an exception."""

from __future__ import annotations

import pytest

from omnistock.domain.allocation import AllocationPolicy, PolicyOverride
from omnistock.domain.bundles import BundleComponent
from omnistock.domain.catalog import Item, Location
from omnistock.domain.catalog_batch import AccountPolicy, CatalogKind, ListingOverride
from omnistock.domain.errors import InvalidInputError
from omnistock.domain.ids import AccountId, ListingId, LocationId, Sku
from omnistock.ingest import catalog_file
from omnistock.ingest.catalog_file import (
    BundleRowError,
    CatalogRow,
    ComponentRow,
    ParsedRow,
    read_catalog_file,
)
from omnistock.ingest.imports import ImportFormat
from omnistock.ingest.textfile import RowError

CSV, JSONL = ImportFormat.CSV, ImportFormat.JSONL


def _rows(data: bytes, fmt: ImportFormat = CSV, kind: CatalogKind | None = None) -> list[ParsedRow]:
    return list(read_catalog_file(data, fmt, kind).rows)


def _values(data: bytes, fmt: ImportFormat = CSV, kind: CatalogKind | None = None) -> list[object]:
    rows = _rows(data, fmt, kind)
    assert all(isinstance(row, CatalogRow) for row in rows), rows
    return [row.value for row in rows if isinstance(row, CatalogRow)]


def _errors(data: bytes, fmt: ImportFormat = CSV) -> list[tuple[int, str]]:
    return [
        (row.line, row.reason)
        for row in _rows(data, fmt)
        if isinstance(row, RowError | BundleRowError)
    ]


def _file_error(data: bytes, fmt: ImportFormat = CSV, kind: CatalogKind | None = None) -> str:
    with pytest.raises(InvalidInputError) as info:
        read_catalog_file(data, fmt, kind)
    return str(info.value)


# --- each kind, in CSV ---------------------------------------------------------------------


def test_csv_locations_and_items_with_and_without_names() -> None:
    assert _values(b"id,name\nwh1,Main\nwh2,\n") == [
        Location(id=LocationId("wh1"), name="Main"),
        Location(id=LocationId("wh2")),
    ]
    assert _values(b"sku\nA\nB\n") == [Item(sku=Sku("A")), Item(sku=Sku("B"))]


def test_csv_bundle_rows_are_one_component_each() -> None:
    assert _values(b"bundle_sku,component_sku,quantity\nK,A,2\nK,B,+1\n") == [
        ComponentRow(Sku("K"), BundleComponent(Sku("A"), 2)),
        ComponentRow(Sku("K"), BundleComponent(Sku("B"), 1)),
    ]


def test_csv_account_policy_states_the_whole_policy() -> None:
    data = (
        b"account,safety_buffer,share,max_shown,zero_below,locations,low_stock\n"
        b"shop,2,0.5,,1,wh1; wh2,\nebay,,,,,,\n"
    )
    assert _values(data) == [
        AccountPolicy(
            AccountId("shop"),
            AllocationPolicy(
                safety_buffer=2,
                share=0.5,
                zero_below=1,
                locations=frozenset({LocationId("wh1"), LocationId("wh2")}),
            ),
        ),
        AccountPolicy(AccountId("ebay"), AllocationPolicy()),
    ]


def test_csv_listing_override_keeps_only_the_fields_given() -> None:
    data = b"listing,max_shown,share\nshop:A,5,\nshop:B,,1e-05\nshop:C,,\n"
    assert _values(data) == [
        ListingOverride(ListingId("shop:A"), PolicyOverride(max_shown=5)),
        ListingOverride(ListingId("shop:B"), PolicyOverride(share=1e-05)),
        ListingOverride(ListingId("shop:C"), PolicyOverride()),
    ]


def test_kind_given_overrides_the_header_and_must_fit_it() -> None:
    assert _values(b"sku,name\nA,x\n", kind=CatalogKind.ITEM) == [Item(sku=Sku("A"), name="x")]
    message = _file_error(b"id,name\nwh1,x\n", kind=CatalogKind.ITEM)
    assert message.startswith("header: unknown column 'id' (line 1; columns are sku, name)")
    message = _file_error(b"bundle_sku,quantity\nK,1\n")
    assert message.startswith("header: column 'component_sku' is missing")


def test_a_header_that_names_no_kind_or_two_is_refused() -> None:
    assert "cannot tell the kind" in _file_error(b"name\nx\n")
    assert "cannot tell the kind" in _file_error(b"sku,account\nA,shop\n")
    assert _file_error(b"").startswith("header: the file is empty")
    assert "appears twice" in _file_error(b"sku,name,name\nA,x,y\n")


# --- each kind, in JSONL -------------------------------------------------------------------


def test_jsonl_rows_of_every_kind() -> None:
    data = b"\n".join(
        [
            b'{"kind": "location", "id": "wh1", "name": "Main"}',
            b'{"kind": "item", "sku": "A"}',
            b'{"kind": "bundle", "bundle_sku": "K", "component_sku": "A", "quantity": 3}',
            b'{"kind": "account_policy", "account": "shop", "share": 1, "locations": ["wh1"]}',
            b'{"kind": "listing_override", "listing": "shop:A", "low_stock": 0, "share": null}',
        ]
    )
    assert _values(data, JSONL) == [
        Location(id=LocationId("wh1"), name="Main"),
        Item(sku=Sku("A")),
        ComponentRow(Sku("K"), BundleComponent(Sku("A"), 3)),
        AccountPolicy(
            AccountId("shop"), AllocationPolicy(share=1.0, locations=frozenset({LocationId("wh1")}))
        ),
        ListingOverride(ListingId("shop:A"), PolicyOverride(low_stock=0)),
    ]


def test_jsonl_kind_is_required_known_and_as_given() -> None:
    data = b'{"sku": "A"}\n{"kind": "sku"}\n{"kind": 3}\n{"kind": "location", "id": "x"}\n'
    rows = _rows(data, JSONL, CatalogKind.ITEM)
    assert [(r.line, r.reason) for r in rows if isinstance(r, RowError)] == [
        (1, "kind: is required (one of location, item, bundle, account_policy, listing_override)"),
        (
            2,
            "kind: must be one of location, item, bundle, account_policy, listing_override, "
            "got 'sku'",
        ),
        (3, "kind: must be one of location, item, bundle, account_policy, listing_override, got 3"),
        (4, "kind: must be 'item' (--kind), got 'location'"),
    ]


def test_jsonl_fields_outside_the_kind_and_wrong_types_are_row_errors() -> None:
    data = b"\n".join(
        [
            b'{"kind": "item", "sku": "A", "id": "x"}',
            b'{"kind": "item", "sku": 5}',
            b'{"kind": "item", "sku": "A", "name": 5}',
            b'{"kind": "bundle", "bundle_sku": "K", "component_sku": "A", "quantity": true}',
            b'{"kind": "account_policy", "account": "s", "share": true}',
            b'{"kind": "account_policy", "account": "s", "locations": "wh1"}',
            b'{"kind": "account_policy", "account": "s", "locations": {"a": 1}}',
            b'{"kind": "listing_override", "listing": "l", "locations": []}',
            b'{"kind": "listing_override", "listing": "l", "safety_buffer": 1.5}',
        ]
    )
    assert _errors(data, JSONL) == [
        (1, "unknown field 'id' (fields are kind, sku, name)"),
        (2, "sku: must be a string, got int"),
        (3, "name: must be a string, got int"),
        (4, "quantity: must be a positive integer, got True"),
        (5, "share: must be a number between 0 and 1, got True"),
        (7, "locations: must be a list of location ids, got {'a': 1}"),
        (8, "locations: must name at least one location"),
        (9, "safety_buffer: must be a non-negative integer, got 1.5"),
    ]


# --- row errors name the line and the field ------------------------------------------------


def test_bad_bundle_rows_name_their_bundle_so_it_can_be_refused_whole() -> None:
    data = b"bundle_sku,component_sku,quantity\nK,A,x\nK,B,0\nK,K,1\n,A,1\nK,C,99999999999999\n"
    rows = _rows(data)
    assert rows == [
        BundleRowError(2, Sku("K"), "quantity: must be a positive integer, got 'x'"),
        BundleRowError(3, Sku("K"), "quantity: must be a positive integer, got '0'"),
        BundleRowError(4, Sku("K"), "component_sku: a bundle cannot contain itself"),
        RowError(5, "bundle_sku: is required"),
        BundleRowError(6, Sku("K"), "quantity: is out of range: '99999999999999'"),
    ]


def test_policy_fields_are_checked_one_by_one() -> None:
    data = (
        b"account,safety_buffer,share,max_shown,zero_below,locations,low_stock\n"
        b"s,-1,,,,,\ns,,abc,,,,\ns,,1.5,,,,\ns,,nan,,,,\ns,,,3000000000,,,\n"
        b"s,,,,,a;;b,\ns,,,,,a;a,\n s,,,,,,\n"
    )
    assert _errors(data) == [
        (2, "safety_buffer: must be a non-negative integer, got '-1'"),
        (3, "share: must be a number between 0 and 1, got 'abc'"),
        (4, "share: must be a number between 0 and 1"),
        (5, "share: must be a number between 0 and 1, got 'nan'"),
        (6, "max_shown: must be at most 2147483647, got '3000000000'"),
        (7, "locations: must not be empty"),
        (8, "locations: 'a' is repeated"),
        (9, "account: must not start or end with white space"),
    ]


def test_names_and_ids_are_checked_with_the_files_field_names() -> None:
    long_name = b"x" * 201
    data = b"sku,name\nA," + long_name + b"\n,x\n"
    assert _errors(data) == [
        (2, "name: must be printable text of at most 200 characters"),
        (3, "sku: is required"),
    ]


def test_bom_blank_lines_and_crlf_keep_the_editors_line_numbers() -> None:
    data = b'\xef\xbb\xbf\r\nsku,name\r\n\r\nA,x\r\n  \r\nB,"y"\r\n,z\r\n'
    rows = _rows(data)
    assert rows[:2] == [
        CatalogRow(4, Item(sku=Sku("A"), name="x")),
        CatalogRow(6, Item(sku=Sku("B"), name="y")),
    ]
    assert rows[2] == RowError(7, "sku: is required")
    jsonl = b'\xef\xbb\xbf\n\n{"kind": "item", "sku": "A"}\n\n{"kind": "item", "sku": "B"}\n'
    assert [r.line for r in _rows(jsonl, JSONL)] == [3, 5]


def test_an_empty_jsonl_file_has_no_rows() -> None:
    assert _rows(b"", JSONL) == []
    assert _rows(b"\n\n", JSONL) == []


# --- malformed and huge input --------------------------------------------------------------


def test_malformed_rows_are_row_errors_and_the_next_rows_still_read() -> None:
    rows = _rows(b'sku,name\nA,"x"y\nB,x,extra\nC,ok\n')
    assert rows == [
        RowError(2, "malformed CSV: ',' expected after '\"'"),
        RowError(3, "expected 2 columns, got 3"),
        CatalogRow(4, Item(sku=Sku("C"), name="ok")),
    ]
    # An opened quote never closed swallows the rest of the file: one error, on its line.
    assert _errors(b'sku,name\nA,"unterminated\nB,x\n') == [
        (2, "malformed CSV: unexpected end of data")
    ]
    jsonl = b'{"kind": "item", "sku": "A"\n[1]\n{"kind": "item", "sku": "B", "name": NaN}\n'
    assert _errors(jsonl, JSONL) == [
        (1, "malformed JSON: Expecting ',' delimiter (column 28)"),
        (2, "must be a JSON object"),
        (3, "malformed JSON: NaN is not a number"),
    ]


def test_a_jsonl_line_longer_than_the_limit_is_a_row_error() -> None:
    long_line = b'{"kind": "item", "sku": "A", "name": "' + b"x" * (1 << 16) + b'"}\n'
    assert _errors(long_line + b'{"kind": "item", "sku": "B"}\n', JSONL) == [
        (1, "is longer than 65536 characters")
    ]


def test_a_csv_field_beyond_csvs_limit_is_a_row_error() -> None:
    [(line, reason)] = _errors(b"sku,name\nA," + b"x" * 200_000 + b"\n")
    assert line == 2
    assert reason.startswith("malformed CSV: field larger than field limit")


def test_a_file_too_large_or_too_long_is_refused_before_any_row(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(catalog_file, "MAX_FILE_BYTES", 100)
    assert _file_error(b"sku\n" + b"A\n" * 60) == "file: is larger than 100 bytes; split it"
    monkeypatch.setattr(catalog_file, "MAX_FILE_BYTES", 1 << 20)
    monkeypatch.setattr(catalog_file, "MAX_LINES", 10)
    assert _file_error(b"sku\n" + b"A\n" * 10) == "file: has more than 10 lines; split it"


def test_a_file_that_is_not_utf8_is_refused_naming_the_line() -> None:
    assert _file_error(b"sku,name\nA,caf\xe9\n") == "file: is not UTF-8 text (line 2)"
    assert _file_error(b"\xff", JSONL) == "file: is not UTF-8 text (line 1)"
