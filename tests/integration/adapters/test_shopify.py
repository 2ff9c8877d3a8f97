"""What only Shopify does: every GraphQL document the adapter sends validates against the
Admin API schema, and its calls are paced by the points bucket."""

from __future__ import annotations

import httpx
import pytest
from graphql import parse, validate

from omnistock.adapters.base import ItemStatus, StockUpdate
from omnistock.adapters.http import account_client
from omnistock.adapters.ratelimit import RateSignal, limiter_for
from omnistock.adapters.shopify import subscriptions, wire
from omnistock.adapters.shopify.adapter import POLL_LEAVES_POINTS
from omnistock.adapters.shopify.limits import BUCKET, CAPABILITIES
from omnistock.clock import ManualTimer
from omnistock.kit.sandbox.shopify import ShopifySandbox
from omnistock.kit.sandbox.shopify.schema import admin_schema
from tests.contract.test_adapter_shopify import shopify_adapter


@pytest.mark.parametrize("document", [*wire.DOCUMENTS, *subscriptions.DOCUMENTS])
def test_every_document_the_adapter_sends_validates(document: str) -> None:
    assert validate(admin_schema(), parse(document)) == []


async def test_a_poll_waits_for_spare_points_and_a_write_does_not() -> None:
    harness = ShopifySandbox.on_manual_clock()
    client = account_client(harness.api_url(), transport=httpx.ASGITransport(app=harness.app))
    timer = ManualTimer()
    limiter = limiter_for(CAPABILITIES.rate, timer)
    adapter = shopify_adapter(harness, client, timer, limiter)
    (ref,) = await harness.seed(1, quantity=5)
    limiter.observe(RateSignal(remaining=POLL_LEAVES_POINTS))  # half the bucket left
    (result,) = await adapter.push([StockUpdate(ref=ref, quantity=3, sequence=2, expected=5)])
    assert result.status is ItemStatus.SUCCEEDED
    assert timer.slept == []  # a write spends what is there
    limiter.observe(RateSignal(remaining=POLL_LEAVES_POINTS))
    await adapter.poll_orders(None)
    # The poll waited until the bucket held its cost with half the bucket left over.
    restore = BUCKET.restore_per_s
    assert sum(timer.slept) == pytest.approx(wire.orders_cost() / restore, rel=0.05)
    await adapter.aclose()
