"""Sandbox behaviour added for the adapter: `include` filters, per-item database failures in
batches, variation payloads of product.updated, and growing the catalog after start-up."""

from __future__ import annotations

import json
from typing import Protocol

import httpx

from omnistock.kit.sandbox.common.catalog import CatalogItem, CatalogProduct
from omnistock.kit.sandbox.woocommerce import WooSandbox


class Receiver(Protocol):
    requests: list[httpx.Request]


def item(sku: str, option: str | None) -> CatalogItem:
    return CatalogItem(
        sku=sku, title=sku, option=option, location="main", initial_quantity=4, price_cents=500
    )


def add_variable(sandbox: WooSandbox) -> int:
    source = CatalogProduct(
        sku="VX", title="VX", variable=True, items=(item("VX-S", "S"), item("VX-M", "M"))
    )
    return sandbox.store.add_product(source)


async def test_include_filters_products_and_variations(
    http: httpx.AsyncClient, sandbox: WooSandbox
) -> None:
    ids = sorted(sandbox.store.products)[:3]
    listed = await http.get("/products", params={"include": f"{ids[0]},{ids[2]},999999"})
    assert sorted(p["id"] for p in listed.json()) == [ids[0], ids[2]]
    repeated = await http.get("/products", params=[("include[]", ids[1])])
    assert [p["id"] for p in repeated.json()] == [ids[1]]
    parent = add_variable(sandbox)
    first = sandbox.store.products[parent].variation_ids[0]
    variations = await http.get(f"/products/{parent}/variations", params={"include": first})
    assert [v["id"] for v in variations.json()] == [first]
    bad = await http.get("/products", params={"include": "x"})
    assert (bad.status_code, bad.json()["code"]) == (400, "rest_invalid_param")


async def test_an_armed_write_fault_fails_only_that_batch_item(
    http: httpx.AsyncClient, sandbox: WooSandbox
) -> None:
    a, b = sorted(p.id for p in sandbox.store.products.values() if p.type == "simple")[:2]
    sandbox.store.failing_writes[b] = 1
    body = {"update": [{"id": a, "stock_quantity": 7}, {"id": b, "stock_quantity": 8}]}
    first = (await http.post("/products/batch", json=body)).json()["update"]
    assert first[0]["stock_quantity"] == 7
    assert first[1] == {
        "id": b,
        "error": {
            "code": "db_update_error",
            "message": "Could not update post in the database.",
            "data": {"status": 500},
        },
    }
    again = (await http.post("/products/batch", json=body)).json()["update"]
    assert [row["stock_quantity"] for row in again] == [7, 8]


async def test_variation_saves_send_the_product_shape_with_parent_id(
    http: httpx.AsyncClient, sandbox: WooSandbox, receiver: Receiver
) -> None:
    body = {"topic": "product.updated", "delivery_url": "https://r.test/h", "secret": "s"}
    assert (await http.post("/webhooks", json=body)).status_code == 201
    parent = add_variable(sandbox)
    vid = sandbox.store.products[parent].variation_ids[1]
    async with sandbox.running():
        await http.put(f"/products/{parent}/variations/{vid}", json={"stock_quantity": 3})
        await sandbox.webhooks.sender.wait_idle()
    payload = json.loads(receiver.requests[-1].content)
    assert (payload["id"], payload["type"], payload["parent_id"]) == (vid, "variation", parent)
    assert (payload["stock_quantity"], payload["sku"]) == (3, "VX-M")


async def test_added_products_are_served(http: httpx.AsyncClient, sandbox: WooSandbox) -> None:
    parent = add_variable(sandbox)
    product = (await http.get(f"/products/{parent}")).json()
    assert (product["type"], len(product["variations"])) == ("variable", 2)
