"""Pure parts of the Shopify sandbox: the 2026-04 schema changes, query cost, the leaky
bucket, the webhook retry schedule and signature, and the search syntax."""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools

import pytest
from graphql import get_operation_ast, parse, validate

from omnistock.adapters.shopify import wire
from omnistock.kit.sandbox.shopify.cost import LeakyBucket, requested_cost
from omnistock.kit.sandbox.shopify.hooks import RETRY_WINDOW_S, retry_delays, sign
from omnistock.kit.sandbox.shopify.representation import matches, parse_iso, parse_search
from omnistock.kit.sandbox.shopify.schema import admin_schema


def test_schema_has_the_2026_04_inputs_and_directive() -> None:
    schema = admin_schema()
    quantity = schema.get_type("InventoryQuantityInput")
    assert "changeFromQuantity" in quantity.fields  # type: ignore[union-attr]
    assert "compareQuantity" not in quantity.fields  # type: ignore[union-attr]
    assert "ignoreCompareQuantity" not in schema.get_type("InventorySetQuantitiesInput").fields  # type: ignore[union-attr]
    assert schema.get_directive("idempotent") is not None


def test_a_removed_field_fails_validation() -> None:
    doc = parse(
        'mutation { inventorySetQuantities(input: {name: "available", reason: "x", '
        "ignoreCompareQuantity: true, quantities: []}) { userErrors { code } } }"
    )
    (error,) = validate(admin_schema(), doc)
    assert "ignoreCompareQuantity" in error.message


@pytest.mark.parametrize("items", [1, 100, 250])
def test_the_adapters_planned_cost_equals_the_sandboxs(items: int) -> None:
    doc = parse(wire.READ_LEVELS)
    operation = get_operation_ast(doc)
    assert operation is not None
    variables = {"first": items, "query": "id:1", "location": "gid://shopify/Location/1"}
    assert requested_cost(admin_schema(), operation, variables) == wire.read_cost(items)
    orders = get_operation_ast(parse(wire.ORDERS))
    assert orders is not None
    order_vars = {"first": wire.ORDERS_PAGE, "lines": wire.LINES_PAGE, "query": "x"}
    assert requested_cost(admin_schema(), orders, order_vars) == wire.orders_cost()
    mutation = get_operation_ast(parse(wire.SET_QUANTITIES))
    assert mutation is not None
    assert requested_cost(admin_schema(), mutation, {}) == wire.MUTATION_COST


def test_bucket_takes_only_what_it_holds_and_restores() -> None:
    bucket = LeakyBucket(100, 10, now=0.0)
    assert bucket.try_take(80, 0.0)
    assert not bucket.try_take(30, 0.0)
    assert bucket.try_take(30, 1.0)  # 20 + 10 restored
    bucket.refund(5, 1.0)
    assert bucket.status(1.0).currently_available == 5
    assert bucket.available(100.0) == 100


def test_retries_are_eight_doubling_delays_over_four_hours() -> None:
    delays = retry_delays()
    assert len(delays) == 8
    assert sum(delays) == pytest.approx(RETRY_WINDOW_S)
    assert all(b == pytest.approx(2 * a) for a, b in itertools.pairwise(delays))


def test_signature_is_base64_hmac_sha256_of_the_body() -> None:
    expected = base64.b64encode(hmac.new(b"s", b"{}", hashlib.sha256).digest()).decode()
    assert sign("s", b"{}") == expected


def test_search_terms_or_within_a_field_and_across_fields() -> None:
    terms = parse_search("id:1 OR id:2")
    assert matches(terms, {"id": 2})
    assert not matches(terms, {"id": 3})
    since = parse_search("updated_at:>'2026-01-01T00:00:00Z'")
    assert matches(since, {"updated_at": parse_iso("2026-01-01T00:00:01Z")})
    assert not matches(since, {"updated_at": parse_iso("2026-01-01T00:00:00Z")})
