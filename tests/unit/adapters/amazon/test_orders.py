"""Orders 2026-01-01 in the Amazon adapter, pure: the status table, the searchOrders query
and page, orders into events, and the cursor that remembers which API issued its token."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from omnistock.adapters.amazon import events, orders
from omnistock.adapters.base import ChannelEventType
from omnistock.domain.errors import InvalidInputError
from omnistock.domain.ids import AccountId

START = datetime(2026, 1, 1, tzinfo=UTC)


def _order(status: str, by: str = "MERCHANT") -> dict[str, object]:
    return {
        "orderId": "111-0000001-0000001",
        "createdTime": "2026-01-01T00:00:00Z",
        "lastUpdatedTime": "2026-01-01T00:05:00Z",
        "salesChannel": {"channelName": "AMAZON"},
        "fulfillment": {"fulfillmentStatus": status, "fulfilledBy": by},
        "orderItems": [
            {
                "orderItemId": "1",
                "quantityOrdered": 2,
                "product": {"sellerSku": "S-1", "asin": "B0X"},
            }
        ],
    }


def test_status_table_and_fba_orders() -> None:
    assert orders.order_kinds("UNSHIPPED", "MERCHANT") == (ChannelEventType.ORDER_PLACED,)
    assert ChannelEventType.ORDER_FULFILLED in orders.order_kinds("SHIPPED", "MERCHANT")
    assert orders.order_kinds("CANCELLED", None) == (ChannelEventType.ORDER_CANCELLED,)
    assert orders.order_kinds("UNSHIPPED", "AMAZON") == ()
    assert orders.order_kinds("UNFULFILLABLE", "MERCHANT") == ()


def test_orders_become_events_keyed_like_v0_and_notifications() -> None:
    (event,) = orders.order_events(_order("PENDING"), AccountId("a"))
    assert event.dedupe_key == "amazon:a:order:111-0000001-0000001:order_placed"
    (line,) = event.lines
    assert (line.sku, line.quantity, dict(line.external_ids)) == (
        "S-1",
        2,
        {"sku": "S-1", "asin": "B0X"},
    )
    assert event.occurred_at == START + timedelta(minutes=5)
    assert orders.order_events(_order("UNSHIPPED", "AMAZON"), AccountId("a")) == []
    with pytest.raises(ValueError, match="FULFILLMENT"):
        orders.order_events({"orderId": "x", "orderItems": []}, AccountId("a"))


def test_a_later_page_repeats_the_query_and_adds_the_token() -> None:
    first = orders.search_query(events.PollCursor(after=START), "M")
    assert first == {
        "lastUpdatedAfter": "2026-01-01T00:00:00Z",
        "marketplaceIds": "M",
        "fulfilledBy": "MERCHANT",
        "includedData": "FULFILLMENT",
        "maxResultsPerPage": "100",
    }
    paging = events.PollCursor(after=START, token="page-2", api=events.V2026)  # noqa: S106
    assert orders.search_query(paging, "M") == first | {"paginationToken": "page-2"}


def test_search_page_then_cursor() -> None:
    body = {
        "orders": [_order("UNSHIPPED")],
        "pagination": {"nextToken": "n"},
        "lastUpdatedBefore": "2026-01-01T01:00:00Z",
    }
    page = orders.search_page(body)
    paging, more = events.next_cursor(events.PollCursor(after=START), page, timedelta(minutes=2))
    assert (more, paging.token, paging.api) == (True, "n", events.V2026)
    assert events.PollCursor.decode(paging.encode()) == paging
    last = orders.search_page({"orders": [_order("UNSHIPPED")]})  # no bound reported
    done, more = events.next_cursor(paging, last, timedelta(minutes=2))
    assert (more, done.token) == (False, None)
    assert done.after == START + timedelta(hours=1, minutes=-2)
    with pytest.raises(ValueError, match="orders"):
        orders.search_page({"payload": {}})


def test_cursors_without_an_api_are_v0_and_unknown_apis_are_refused() -> None:
    legacy = base64.urlsafe_b64encode(
        json.dumps({"v": 1, "after": "2026-01-01T00:00:00Z", "token": "v0-token"}).encode()
    ).decode()
    assert events.PollCursor.decode(legacy).api == events.V0
    odd = base64.urlsafe_b64encode(
        json.dumps({"v": 1, "after": "2026-01-01T00:00:00Z", "token": "t", "api": "v9"}).encode()
    ).decode()
    with pytest.raises(InvalidInputError):
        events.PollCursor.decode(odd)
