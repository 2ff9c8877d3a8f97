"""Fidelity: the sandbox's responses use the field names and types of the official v3 docs.

Parses the property tables in the stored docs (_products.md, _product-variations.md, _orders.md)
and the examples in _authentication.md; skips only if the docs are not on this machine.
"""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from omnistock.kit.sandbox.common.truth import OrderLine
from omnistock.kit.sandbox.woocommerce import WooSandbox
from omnistock.kit.sandbox.woocommerce.auth import (
    OAUTH_REQUIRED,
    OAUTH_WINDOW_S,
    normalized_parameters,
    signature_base_string,
)

# The official docs are not vendored (their licence is unclear): CI lays them in a folder
# beside the repository; a fresh clone has none, and these tests skip, saying so.
SPECS = Path(__file__).resolve().parents[3].parent / "shared/specs/woocommerce/wp-api-v3"
ROW = re.compile(r"^\|\s*`(?P<name>[a-z_0-9]+)`\s*\|\s*(?P<type>[a-z-]+)\s*\|")
# Documented "integer"/"date-time" fields that WooCommerce itself serves as null when unset.
NULLABLE = {"stock_quantity", "date_paid", "date_paid_gmt"}
# WooCommerce documents it: variations answer manage_stock "parent" when the parent holds
# the stock.
VARIATION_EXTRA_VALUES = {"manage_stock": {"parent"}}
HYPERMEDIA = {"_links"}


def properties(doc: str, heading: str) -> dict[str, str]:
    """The `name -> type` rows of the first table under `heading`."""
    path = SPECS / doc
    if not path.exists():
        pytest.skip(f"{path} not available")
    text = path.read_text()
    section = text[text.index(heading) + len(heading) :]
    rows: dict[str, str] = {}
    for line in section.splitlines()[2:]:
        if rows and not line.startswith("|"):
            break
        match = ROW.match(line)
        if match:
            rows[match["name"]] = match["type"]
    return rows


def type_ok(value: object, documented: str) -> bool:
    checks = {
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "string": lambda v: isinstance(v, str),
        "boolean": lambda v: isinstance(v, bool),
        "array": lambda v: isinstance(v, list),
        "object": lambda v: isinstance(v, dict),
        "date-time": lambda v: isinstance(v, str) and bool(datetime.fromisoformat(v)),
    }
    return checks[documented](value)


def assert_matches(
    resource: dict[str, object],
    documented: dict[str, str],
    extra: dict[str, set[str]] | None = None,
) -> None:
    allowed = extra or {}
    served = set(resource) - HYPERMEDIA
    assert served - set(documented) == set(), "fields not in the docs"
    for name in served:
        value = resource[name]
        if (value is None and name in NULLABLE) or (
            isinstance(value, str) and value in allowed.get(name, set())
        ):
            continue
        assert type_ok(value, documented[name]), f"{name}={value!r} is not {documented[name]}"


@pytest.fixture
def order_id(sandbox: WooSandbox) -> int:
    product = next(p for p in sandbox.store.products.values() if p.type == "simple")
    product.stock_quantity = 9
    variation = next(iter(sandbox.store.variations.values()))
    variation.stock_quantity = 9
    lines = [OrderLine(sku=product.sku, quantity=1), OrderLine(sku=variation.sku, quantity=2)]
    return int(sandbox.store.place_order(lines))


async def test_products_match_the_documented_properties(
    http: httpx.AsyncClient, sandbox: WooSandbox
) -> None:
    documented = properties("_products.md", "## Product properties ##")
    assert {"id", "sku", "stock_quantity", "manage_stock"} <= set(documented)
    products = (await http.get("/products", params={"per_page": 100})).json()
    assert {p["type"] for p in products} == {"simple", "variable"}
    for product in products:
        assert_matches(product, documented)


async def test_variations_match_the_documented_properties(
    http: httpx.AsyncClient, sandbox: WooSandbox
) -> None:
    documented = properties("_product-variations.md", "## Product variation properties ##")
    v = next(iter(sandbox.store.variations.values()))
    await http.put(f"/products/{v.parent_id}", json={"manage_stock": True, "stock_quantity": 3})
    await http.put(f"/products/{v.parent_id}/variations/{v.id}", json={"manage_stock": "parent"})
    for variation in (await http.get(f"/products/{v.parent_id}/variations")).json():
        assert_matches(variation, documented, VARIATION_EXTRA_VALUES)


async def test_orders_and_line_items_match_the_documented_properties(
    http: httpx.AsyncClient, order_id: int
) -> None:
    order = (await http.get(f"/orders/{order_id}")).json()
    assert_matches(order, properties("_orders.md", "## Order properties ##"))
    lines = properties("_orders.md", "### Order - Line items properties ###")
    assert len(order["line_items"]) == 2
    for line in order["line_items"]:
        assert_matches(line, lines)


async def test_batch_results_are_documented_products(
    http: httpx.AsyncClient, sandbox: WooSandbox
) -> None:
    documented = properties("_products.md", "## Product properties ##")
    pid = next(iter(sandbox.store.products))
    result = (await http.post("/products/batch", json={"update": [{"id": pid}]})).json()
    assert list(result) == ["update"]
    assert_matches(result["update"][0], documented)


async def test_webhooks_match_the_documented_properties(http: httpx.AsyncClient) -> None:
    documented = properties("_webhooks.md", "## Webhook properties ##")
    body = {"topic": "order.updated", "delivery_url": "https://r.test/", "status": "paused"}
    hook = (await http.post("/webhooks", json=body)).json()
    assert_matches(hook, documented)


def test_auth_follows_the_documented_examples() -> None:
    path = SPECS / "_authentication.md"
    if not path.exists():
        pytest.skip(f"{path} not available")
    text = path.read_text()
    params = [("oauth_consumer_key", "abc123"), ("oauth_signature_method", "HMAC-SHA1")]
    assert normalized_parameters(params) in text
    url = "http://www.example.com/wp-json/wc/v3/orders"
    assert signature_base_string("GET", url, params) in text
    for name in OAUTH_REQUIRED:
        assert f"`{name}`" in text
    assert "15 minute window" in text
    assert OAUTH_WINDOW_S == 15 * 60
    assert "HMAC-SHA1 or HMAC-SHA256 are the only accepted hash algorithms" in text
