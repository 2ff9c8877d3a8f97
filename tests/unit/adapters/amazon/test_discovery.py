"""The listings report read, pure: its columns, FBA rows, encodings, duplicates and the
cursor that names a report and a row."""

from __future__ import annotations

import gzip

import pytest

from omnistock.adapters.amazon.discovery import (
    ReportCursor,
    create_report_body,
    parse_listings_report,
    report_text,
)

HEADER = "item-name\tseller-sku\tprice\tquantity\tasin1\tfulfillment-channel\tstatus"


def report(*rows: str) -> str:
    return "\r\n".join([HEADER, *rows]) + "\r\n"


def test_merchant_rows_are_managed_with_their_quantity_fba_rows_are_not() -> None:
    found = parse_listings_report(
        report(
            "Blue mug\tMUG-1\t9.99\t7\tB0000001\tDEFAULT\tActive",
            "Red mug\tMUG-2\t9.99\t\tB0000002\tAMAZON_NA\tActive",
            "Cap\tCAP-1\t5.00\t\t\tDEFAULT\tInactive",
        )
    )
    assert [(d.key, d.managed, d.quantity, d.title) for d in found] == [
        ("MUG-1", True, 7, "Blue mug"),
        ("MUG-2", False, None, "Red mug"),
        ("CAP-1", True, None, "Cap"),
    ]
    assert [dict(d.external_ids) for d in found] == [
        {"sku": "MUG-1", "asin": "B0000001"},
        {"sku": "MUG-2", "asin": "B0000002"},
        {"sku": "CAP-1"},  # no ASIN yet: the SKU alone
    ]


def test_rows_without_a_sku_are_skipped_and_a_repeated_sku_counts_once() -> None:
    found = parse_listings_report(
        report("A\t\t1\t1\tB1\tDEFAULT\tActive", "B\tX\t1\t2\tB2\tDEFAULT\tActive", "C\tX\t1\t3")
    )
    assert [(d.key, d.quantity) for d in found] == [("X", 2)]


def test_a_document_without_the_reports_columns_is_refused() -> None:
    with pytest.raises(ValueError, match="seller-sku"):
        parse_listings_report("sku\tqty\nA\t1\n")
    with pytest.raises(ValueError, match="not a GET_MERCHANT_LISTINGS_ALL_DATA"):
        parse_listings_report("")


def test_the_document_is_gunzipped_and_read_as_utf8_or_windows_1252() -> None:
    text = report("Caf\u00e9 mug\tM\t1\t1\tB1\tDEFAULT\tActive")
    assert report_text(gzip.compress(text.encode()), compressed=True) == text
    assert report_text(text.encode("cp1252"), compressed=False) == text
    assert report_text(b"\xef\xbb\xbf" + text.encode(), compressed=False) == text  # a BOM


def test_the_cursor_names_the_report_and_the_rows_read() -> None:
    cursor = ReportCursor("50039018001", 2_000)
    assert ReportCursor.decode(cursor.encode()) == cursor
    for bad in ("", "50039018001:2000", "amazon-report/1::10", "amazon-report/1:5:x", "ebay:1"):
        with pytest.raises(ValueError, match="not an Amazon discovery cursor"):
            ReportCursor.decode(bad)


def test_the_report_is_asked_for_in_the_accounts_marketplace() -> None:
    assert create_report_body("A1PA6795UKMFR9") == {
        "reportType": "GET_MERCHANT_LISTINGS_ALL_DATA",
        "marketplaceIds": ["A1PA6795UKMFR9"],
    }
