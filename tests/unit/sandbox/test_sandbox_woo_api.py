"""The WooCommerce sandbox's products, variations and batch endpoints, and its auth, in-process.

Requests go through httpx.ASGITransport with the real middleware and routing.
"""

from __future__ import annotations

import httpx

from omnistock.kit.sandbox.common.clock import ManualClock
from omnistock.kit.sandbox.woocommerce import WooConfig, WooSandbox, sign_oauth
from omnistock.kit.sandbox.woocommerce.store import WooProduct, WooVariation

API = "/wp-json/wc/v3"


def simple(sandbox: WooSandbox) -> WooProduct:
    return next(p for p in sandbox.store.products.values() if p.type == "simple")


def variation(sandbox: WooSandbox) -> WooVariation:
    return next(iter(sandbox.store.variations.values()))


async def test_unauthenticated_requests_get_woo_401(anon: httpx.AsyncClient) -> None:
    response = await anon.get(f"{API}/products")
    assert response.status_code == 401
    assert response.json() == {
        "code": "woocommerce_rest_cannot_view",
        "message": "Sorry, you cannot list resources.",
        "data": {"status": 401},
    }


async def test_bad_secret_is_an_authentication_error(
    anon: httpx.AsyncClient, sandbox: WooSandbox
) -> None:
    key = sandbox.credentials()["consumer_key"]
    response = await anon.get(f"{API}/products", auth=(key, "cs_wrong"))
    assert response.status_code == 401
    assert response.json()["code"] == "woocommerce_rest_authentication_error"
    assert response.json()["message"] == "Consumer secret is invalid."


async def test_query_string_keys_are_accepted(anon: httpx.AsyncClient, sandbox: WooSandbox) -> None:
    response = await anon.get(f"{API}/products", params=dict(sandbox.credentials()))
    assert response.status_code == 200


async def test_oauth_over_plain_http(anon: httpx.AsyncClient, sandbox: WooSandbox) -> None:
    creds = sandbox.credentials()
    url = f"{sandbox.base_url}{API}/products"
    params = [
        ("oauth_consumer_key", creds["consumer_key"]),
        ("oauth_nonce", "abcdefghijklmnopqrstuvwxyz012345"),
        ("oauth_signature_method", "HMAC-SHA1"),
        ("oauth_timestamp", str(int(sandbox.clock.now()))),
        ("per_page", "2"),
    ]
    signed = sign_oauth("GET", url, params, creds["consumer_secret"])
    ok = await anon.get(url, params=httpx.QueryParams(tuple(signed)))
    replay = await anon.get(url, params=httpx.QueryParams(tuple(signed)))
    forged = await anon.get(
        url, params=httpx.QueryParams([*params, ("oauth_signature", "Zm9yZ2Vk")])
    )
    assert ok.status_code == 200
    assert len(ok.json()) == 2
    assert replay.status_code == 401
    assert forged.json()["message"] == "Invalid Signature - provided signature does not match."


async def test_strict_site_refuses_basic_over_http() -> None:
    sandbox = WooSandbox(WooConfig(allow_basic_over_http=False), clock=ManualClock())
    creds = sandbox.credentials()
    transport = httpx.ASGITransport(app=sandbox.app)
    auth = (creds["consumer_key"], creds["consumer_secret"])
    async with httpx.AsyncClient(transport=transport, auth=auth) as client:
        plain = await client.get(f"http://shop.test{API}/products")
        secure = await client.get(f"https://shop.test{API}/products")
    assert (plain.status_code, secure.status_code) == (401, 200)


async def test_get_and_put_a_simple_product(http: httpx.AsyncClient, sandbox: WooSandbox) -> None:
    product = simple(sandbox)
    put = await http.put(
        f"/products/{product.id}", json={"manage_stock": True, "stock_quantity": "0"}
    )
    got = await http.get(f"/products/{product.id}")
    assert put.status_code == 200
    assert got.json()["stock_quantity"] == 0
    assert got.json()["stock_status"] == "outofstock"
    assert got.json()["type"] == "simple"


async def test_put_rejects_a_non_integer_quantity(
    http: httpx.AsyncClient, sandbox: WooSandbox
) -> None:
    product = simple(sandbox)
    before = product.stock_quantity
    response = await http.put(f"/products/{product.id}", json={"stock_quantity": 2.5})
    assert response.status_code == 400
    assert response.json()["code"] == "rest_invalid_param"
    assert response.json()["data"]["params"] == {
        "stock_quantity": "stock_quantity is not of type integer."
    }
    assert product.stock_quantity == before


async def test_unmanaged_stock_has_no_quantity_and_backorders_show(
    http: httpx.AsyncClient, sandbox: WooSandbox
) -> None:
    product = simple(sandbox)
    unmanaged = await http.put(
        f"/products/{product.id}", json={"manage_stock": False, "stock_quantity": 9}
    )
    assert unmanaged.json()["stock_quantity"] is None
    backorder = await http.put(
        f"/products/{product.id}",
        json={"manage_stock": True, "stock_quantity": -1, "backorders": "notify"},
    )
    assert backorder.json()["stock_status"] == "onbackorder"
    assert backorder.json()["backordered"] is True


async def test_lookup_by_sku_and_pagination_headers(
    http: httpx.AsyncClient, sandbox: WooSandbox
) -> None:
    product = simple(sandbox)
    found = await http.get("/products", params={"sku": product.sku})
    assert [p["id"] for p in found.json()] == [product.id]
    page = await http.get("/products", params={"per_page": 2})
    total = len(sandbox.store.products)
    assert page.headers["X-WP-Total"] == str(total)
    assert page.headers["X-WP-TotalPages"] == str(-(-total // 2))
    assert 'rel="next"' in page.headers["Link"]
    too_many = await http.get("/products", params={"per_page": 101})
    assert too_many.json()["code"] == "rest_invalid_param"


async def test_unknown_product_is_invalid_id(http: httpx.AsyncClient) -> None:
    response = await http.get("/products/999999")
    assert response.status_code == 404
    assert response.json()["code"] == "woocommerce_rest_product_invalid_id"


async def test_variations_read_write_and_parent_checks(
    http: httpx.AsyncClient, sandbox: WooSandbox
) -> None:
    v = variation(sandbox)
    listed = await http.get(f"/products/{v.parent_id}/variations")
    assert v.id in [item["id"] for item in listed.json()]
    put = await http.put(f"/products/{v.parent_id}/variations/{v.id}", json={"stock_quantity": 4})
    assert (put.status_code, put.json()["stock_quantity"]) == (200, 4)
    wrong_parent = await http.get(f"/products/{simple(sandbox).id}/variations/{v.id}")
    assert wrong_parent.status_code == 404
    assert wrong_parent.json()["code"] == "woocommerce_rest_product_variation_invalid_id"


async def test_variation_stock_can_live_on_the_parent(
    http: httpx.AsyncClient, sandbox: WooSandbox
) -> None:
    v = variation(sandbox)
    await http.put(f"/products/{v.parent_id}", json={"manage_stock": True, "stock_quantity": 6})
    put = await http.put(
        f"/products/{v.parent_id}/variations/{v.id}", json={"manage_stock": "parent"}
    )
    assert put.json()["manage_stock"] == "parent"
    assert put.json()["stock_quantity"] == 6


async def test_batch_of_100_is_accepted(http: httpx.AsyncClient, sandbox: WooSandbox) -> None:
    product = simple(sandbox)
    updates = [{"id": product.id, "stock_quantity": n} for n in range(100)]
    response = await http.post("/products/batch", json={"update": updates})
    assert response.status_code == 200
    assert len(response.json()["update"]) == 100
    assert product.stock_quantity == 99


async def test_batch_of_101_is_refused_whole(http: httpx.AsyncClient, sandbox: WooSandbox) -> None:
    product = simple(sandbox)
    before = product.stock_quantity
    body = {"update": [{"id": product.id, "stock_quantity": 1}] * 100, "delete": [product.id]}
    response = await http.post("/products/batch", json=body)
    assert response.status_code == 413
    assert response.json() == {
        "code": "woocommerce_rest_request_entity_too_large",
        "message": "Unable to accept more than 100 items for this request.",
        "data": {"status": 413},
    }
    assert product.stock_quantity == before


async def test_a_batch_can_half_succeed(http: httpx.AsyncClient, sandbox: WooSandbox) -> None:
    product = simple(sandbox)
    body = {
        "update": [
            {"id": product.id, "stock_quantity": 11},
            {"id": 424242, "stock_quantity": 1},
            {"id": product.id, "stock_quantity": "many"},
        ]
    }
    results = (await http.post("/products/batch", json=body)).json()["update"]
    assert results[0]["stock_quantity"] == 11
    assert results[1] == {
        "id": 424242,
        "error": {
            "code": "woocommerce_rest_product_invalid_id",
            "message": "Invalid ID.",
            "data": {"status": 400},
        },
    }
    assert results[2]["error"]["code"] == "rest_invalid_param"
    assert product.stock_quantity == 11


async def test_variation_batch_checks_the_parent(
    http: httpx.AsyncClient, sandbox: WooSandbox
) -> None:
    v = variation(sandbox)
    body = {"update": [{"id": v.id, "stock_quantity": 3}, {"id": simple(sandbox).id}]}
    results = (await http.post(f"/products/{v.parent_id}/variations/batch", json=body)).json()
    assert results["update"][0]["stock_quantity"] == 3
    assert results["update"][1]["error"]["code"] == "woocommerce_rest_product_variation_invalid_id"
