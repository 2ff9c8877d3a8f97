"""An InventoryItems page read as discovery, pure: items, the next page, the cursor."""

from __future__ import annotations

import pytest

from omnistock.adapters.ebay.discovery import (
    decode_cursor,
    encode_cursor,
    items_page,
    page_params,
)


def item(sku: str, quantity: object = 3) -> dict[str, object]:
    return {
        "sku": sku,
        "product": {"title": f"Item {sku}"},
        "availability": {"shipToLocationAvailability": {"quantity": quantity}},
    }


def test_a_page_with_a_next_link_continues_at_the_next_page_number() -> None:
    body = {"total": 401, "next": "https://api/inventory_item?limit=200&offset=3"}
    page = items_page(body | {"inventoryItems": [item("A"), item("B", 0)]}, 2)
    assert [(d.key, d.sku, d.quantity, d.managed) for d in page.listings] == [
        ("A", "A", 3, True),
        ("B", "B", 0, True),
    ]
    assert page.listings[0].title == "Item A"
    assert dict(page.listings[0].external_ids) == {"sku": "A"}
    assert (page.cursor, page.total) == (encode_cursor(3), 401)
    assert decode_cursor(page.cursor) == 3


def test_the_last_or_an_empty_page_ends_discovery() -> None:
    assert items_page({"total": 1, "inventoryItems": [item("A")]}, 0).cursor is None
    assert items_page({"total": 0, "next": "x", "inventoryItems": []}, 5).cursor is None
    assert items_page({"total": 0}, 0).listings == ()


def test_items_without_availability_or_a_sku() -> None:
    page = items_page(
        {"inventoryItems": [{"sku": "A"}, {"product": {}}, item("B", True), item("C", "4")]}, 0
    )
    assert [(d.key, d.quantity, d.title) for d in page.listings] == [
        ("A", None, ""),
        ("B", None, "Item B"),
        ("C", None, "Item C"),
    ]


def test_other_bodies_and_cursors_are_refused() -> None:
    bodies: tuple[object, ...] = (None, [], {"inventoryItems": {}}, {"inventoryItems": ["A"]})
    for body in bodies:
        with pytest.raises(ValueError, match=r"not an InventoryItems|not a list"):
            items_page(body, 0)
    for cursor in ("", "3", "ebay-items/1:", "ebay-items/1:-1", "amazon-report/1:1:0"):
        with pytest.raises(ValueError, match="not an eBay discovery cursor"):
            decode_cursor(cursor)
    assert decode_cursor(None) == 0
    assert page_params(4) == {"limit": "200", "offset": "4"}
