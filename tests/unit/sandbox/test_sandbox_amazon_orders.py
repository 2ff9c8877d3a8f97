"""The Amazon sandbox's Orders 2026-01-01: searchOrders windows, filters and tokens bound to
their query, the FULFILLMENT dataset, getOrder, and the 403 of an application without it."""

from __future__ import annotations

from tests.unit.sandbox.test_sandbox_amazon import _client

from omnistock.kit.sandbox.amazon import AmazonSandbox
from omnistock.kit.sandbox.amazon.orders_v2026 import ORDERS_PATH
from omnistock.kit.sandbox.common.truth import OrderLine

SINCE = {"lastUpdatedAfter": "2025-01-01T00:00:00Z", "marketplaceIds": "ATVPDKIKX0DER"}


async def _orders(harness: AmazonSandbox, count: int) -> list[str]:
    (ref,) = await harness.seed(1, quantity=100)
    ids = [harness.store.place_order([OrderLine(sku=ref.sku, quantity=1)]) for _ in range(count)]
    harness.manual_clock.advance(121)
    return ids


async def test_search_pages_with_a_token_bound_to_its_query() -> None:
    harness = AmazonSandbox.on_manual_clock()
    placed = await _orders(harness, 3)
    client, auth = await _client(harness)
    first = await client.get(ORDERS_PATH, params=SINCE | {"maxResultsPerPage": "2"}, headers=auth)
    body = first.json()
    assert first.headers["x-amzn-RateLimit-Limit"] == "0.0056"
    assert [o["orderId"] for o in body["orders"]] == placed[:2]
    assert "fulfillment" not in body["orders"][0]  # only with includedData=FULFILLMENT
    token = body["pagination"]["nextToken"]
    harness.manual_clock.advance(600)  # "now" moves; the window does not
    rest = await client.get(
        ORDERS_PATH,
        params=SINCE | {"paginationToken": token, "includedData": "FULFILLMENT"},
        headers=auth,
    )
    page = rest.json()
    assert [o["orderId"] for o in page["orders"]] == placed[2:]
    assert "pagination" not in page
    assert page["lastUpdatedBefore"] == body["lastUpdatedBefore"]
    assert page["orders"][0]["fulfillment"]["fulfillmentStatus"] == "UNSHIPPED"
    other = SINCE | {"paginationToken": token, "fulfilledBy": "AMAZON"}
    assert (await client.get(ORDERS_PATH, params=other, headers=auth)).status_code == 400
    await client.aclose()


async def test_search_keeps_the_two_minute_rule_and_one_kind_of_window() -> None:
    harness = AmazonSandbox.on_manual_clock()
    await _orders(harness, 1)
    client, auth = await _client(harness)
    bad = [
        {"marketplaceIds": "ATVPDKIKX0DER"},  # neither createdAfter nor lastUpdatedAfter
        SINCE | {"createdAfter": "2025-01-01T00:00:00Z"},
        SINCE | {"lastUpdatedBefore": "2099-01-01T00:00:00Z"},
        SINCE | {"lastUpdatedBefore": "2024-01-01T00:00:00Z"},  # before the 'after'
        SINCE | {"fulfillmentStatuses": "LOST"},
        SINCE | {"maxResultsPerPage": "101"},
    ]
    for query in bad:
        answer = await client.get(ORDERS_PATH, params=query, headers=auth)
        assert (answer.status_code, answer.json()["errors"][0]["code"]) == (400, "InvalidInput")
    created = {"createdAfter": "2025-01-01T00:00:00Z", "fulfillmentStatuses": "CANCELLED"}
    answer = (await client.get(ORDERS_PATH, params=created, headers=auth)).json()
    assert answer["orders"] == []
    assert "createdBefore" in answer
    await client.aclose()


async def test_get_order_has_items_and_an_unknown_order_is_404() -> None:
    harness = AmazonSandbox.on_manual_clock()
    (order_id,) = await _orders(harness, 1)
    client, auth = await _client(harness)
    order = (await client.get(f"{ORDERS_PATH}/{order_id}", headers=auth)).json()["order"]
    (item,) = order["orderItems"]
    assert (item["quantityOrdered"], item["product"]["sellerSku"]) == (1, "CT-000001")
    missing = await client.get(f"{ORDERS_PATH}/111-0000000-0000000", headers=auth)
    assert missing.status_code == 404
    harness.orders_2026.enabled = False
    refused = await client.get(ORDERS_PATH, params=SINCE, headers=auth)
    assert (refused.status_code, refused.json()["errors"][0]["code"]) == (403, "Unauthorized")
    await client.aclose()
