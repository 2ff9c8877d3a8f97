"""Orders in the WooCommerce sandbox: polling filters and pages, and the stock they move.

Several orders share one second on the manual clock, as they do on a busy WordPress site.
"""

from __future__ import annotations

import asyncio

import httpx

from omnistock.kit.sandbox.common.clock import ManualClock
from omnistock.kit.sandbox.common.truth import OrderLine
from omnistock.kit.sandbox.woocommerce import WooConfig, WooSandbox
from omnistock.kit.sandbox.woocommerce.store import WooProduct


def simple(sandbox: WooSandbox) -> WooProduct:
    return next(p for p in sandbox.store.products.values() if p.type == "simple")


def order_one(sandbox: WooSandbox, sku: str, quantity: int = 1) -> int:
    return int(sandbox.store.place_order([OrderLine(sku=sku, quantity=quantity)]))


def stock_up(sandbox: WooSandbox, quantity: int = 100) -> WooProduct:
    product = simple(sandbox)
    product.stock_quantity = quantity
    sandbox.store.touch(product)
    return product


async def poll_all(http: httpx.AsyncClient, params: dict[str, str]) -> list[int]:
    ids: list[int] = []
    url: str | None = "/orders"
    query: dict[str, str] | None = params
    while url:
        response = await http.get(url, params=query)
        ids += [o["id"] for o in response.json()]
        link = response.links.get("next")
        url, query = (link["url"], None) if link else (None, None)
    return ids


async def test_pages_over_equal_timestamps_are_complete_and_stable(
    http: httpx.AsyncClient, sandbox: WooSandbox, clock: ManualClock
) -> None:
    product = stock_up(sandbox)
    placed = [order_one(sandbox, product.sku) for _ in range(5)]
    clock.advance(1)
    placed += [order_one(sandbox, product.sku) for _ in range(3)]
    params = {"orderby": "modified", "order": "asc", "per_page": "3"}
    first = await http.get("/orders", params=params)
    assert first.headers["X-WP-Total"] == "8"
    assert first.headers["X-WP-TotalPages"] == "3"
    assert await poll_all(http, params) == placed
    dates = {o["date_modified_gmt"] for o in first.json()}
    assert len(dates) == 1


async def test_modified_after_is_exclusive_to_the_second(
    http: httpx.AsyncClient, sandbox: WooSandbox, clock: ManualClock
) -> None:
    product = stock_up(sandbox)
    order_one(sandbox, product.sku)
    cursor = (await http.get("/orders")).json()[0]["date_modified_gmt"]
    late_same_second = order_one(sandbox, product.sku)
    clock.advance(1)
    next_second = order_one(sandbox, product.sku)
    params = {"modified_after": cursor, "dates_are_gmt": "true", "order": "asc"}
    ids = [o["id"] for o in (await http.get("/orders", params=params)).json()]
    assert ids == [next_second]
    assert late_same_second not in ids


async def test_site_timezone_applies_unless_dates_are_gmt(clock: ManualClock) -> None:
    sandbox = WooSandbox(WooConfig(utc_offset_minutes=180), clock=clock)
    product = stock_up(sandbox)
    clock.advance(30)  # so that "hh:mm:00" is strictly before the order
    order_one(sandbox, product.sku)
    creds = sandbox.credentials()
    transport = httpx.ASGITransport(app=sandbox.app)
    auth = (creds["consumer_key"], creds["consumer_secret"])
    async with httpx.AsyncClient(
        transport=transport, auth=auth, base_url=sandbox.base_url + "/wp-json/wc/v3"
    ) as http:
        order = (await http.get("/orders")).json()[0]
        local, gmt = order["date_modified"], order["date_modified_gmt"]
        assert local != gmt
        before_local = await http.get("/orders", params={"modified_after": local[:-2] + "00"})
        as_gmt = await http.get(
            "/orders", params={"modified_after": local[:-2] + "00", "dates_are_gmt": "true"}
        )
    assert len(before_local.json()) == 1
    assert as_gmt.json() == []


async def test_status_filter_and_line_items(http: httpx.AsyncClient, sandbox: WooSandbox) -> None:
    product = stock_up(sandbox)
    order_id = order_one(sandbox, product.sku, 2)
    processing = (await http.get("/orders", params={"status": "processing"})).json()
    cancelled = (await http.get("/orders", params={"status": "cancelled,refunded"})).json()
    assert [o["id"] for o in processing] == [order_id]
    assert cancelled == []
    line = processing[0]["line_items"][0]
    assert (line["product_id"], line["variation_id"], line["sku"], line["quantity"]) == (
        product.id,
        0,
        product.sku,
        2,
    )
    bad = await http.get("/orders", params={"status": "lost"})
    assert bad.json()["code"] == "rest_invalid_param"


async def test_orders_reduce_stock_once_and_cancel_restores(
    http: httpx.AsyncClient, sandbox: WooSandbox
) -> None:
    product = stock_up(sandbox, 10)
    order_id = order_one(sandbox, product.sku, 3)
    assert product.stock_quantity == 7
    completed = await http.put(f"/orders/{order_id}", json={"status": "completed"})
    assert (completed.json()["status"], product.stock_quantity) == ("completed", 7)
    await http.put(f"/orders/{order_id}", json={"status": "cancelled"})
    assert product.stock_quantity == 10
    await http.put(f"/orders/{order_id}", json={"status": "cancelled"})
    assert product.stock_quantity == 10


async def test_variation_orders_reduce_the_variation(sandbox: WooSandbox) -> None:
    v = next(iter(sandbox.store.variations.values()))
    v.stock_quantity = 5
    sandbox.store.touch(v)
    order_one(sandbox, v.sku, 5)
    assert (v.stock_quantity, v.stock_status) == (0, "outofstock")
    assert v.sku not in sandbox.store.shown()


async def test_admin_orders_count_oversell_against_the_truth(
    anon: httpx.AsyncClient, sandbox: WooSandbox
) -> None:
    product = stock_up(sandbox, 10)
    await anon.put("/_sandbox/truth", json={product.sku: 1})
    placed = await anon.post(
        "/_sandbox/orders", json={"lines": [{"sku": product.sku, "quantity": 3}]}
    )
    refused = await anon.post(
        "/_sandbox/orders", json={"lines": [{"sku": product.sku, "quantity": 99}]}
    )
    stats = (await anon.get("/_sandbox/stats")).json()
    assert (placed.status_code, refused.status_code) == (201, 409)
    assert (stats["oversold_units"], stats["oversold_orders"], stats["orders"]) == (2, 1, 1)
    cancel = await anon.post(f"/_sandbox/orders/{placed.json()['id']}/cancel")
    assert cancel.json()["status"] == "cancelled"
    assert product.stock_quantity == 10


async def test_shoppers_run_at_the_configured_rate(sandbox: WooSandbox) -> None:
    before = sum(sandbox.store.shown().values())
    sandbox.core.truth.set(dict.fromkeys(sandbox.store.shown(), 0))
    async with sandbox.running():
        sandbox.core.shoppers.set_rate(500.0)
        while sandbox.core.truth.orders_accepted < 5:
            await sandbox.clock.sleep(0)
            await _yield_real()
        sandbox.core.shoppers.set_rate(0)
    sold = before - sum(sandbox.store.shown().values())
    assert sold > 0
    assert sandbox.core.truth.oversold_units == sold


async def _yield_real() -> None:
    await asyncio.sleep(0.001)
