"""Shopify passes the adapter contract against its sandbox, in-process (ASGI); plus its
registry entry, cancellation, and every document the adapter sends validating."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from graphql import parse, validate

from omnistock.adapters.base import ItemStatus, StockUpdate
from omnistock.adapters.http import account_client
from omnistock.adapters.ratelimit import RateLimiter, RateSignal, limiter_for
from omnistock.adapters.registry import PLATFORMS
from omnistock.adapters.secrets import Secret
from omnistock.adapters.shopify import ShopifyAdapter, wire
from omnistock.adapters.shopify.adapter import POLL_LEAVES_POINTS
from omnistock.adapters.shopify.limits import BUCKET, CAPABILITIES
from omnistock.clock import ManualTimer, Timer
from omnistock.domain.errors import ConfigError
from omnistock.domain.ids import AccountId
from omnistock.kit.sandbox.common.serve import SandboxOptions
from omnistock.kit.sandbox.registry import SANDBOXES
from omnistock.kit.sandbox.shopify import ShopifySandbox
from omnistock.kit.sandbox.shopify.schema import admin_schema
from tests.contract.adapter_suite import AdapterContract, Pair, TransportKind, open_transport


def _adapter(
    harness: ShopifySandbox,
    client: httpx.AsyncClient,
    timer: Timer | None = None,
    limiter: RateLimiter | None = None,
) -> ShopifyAdapter:
    creds = harness.credentials()
    return ShopifyAdapter(
        AccountId("shopify-contract"),
        client,
        client_id=Secret(creds["client_id"]),
        client_secret=Secret(creds["client_secret"]),
        timer=timer or harness.timer,
        limiter=limiter,
    )


class ShopifyContract(AdapterContract):
    transport: TransportKind = "asgi"

    @pytest.fixture
    async def pair(self) -> AsyncIterator[Pair]:
        harness = ShopifySandbox.on_manual_clock()
        async with harness.running(), open_transport(harness.app, self.transport) as conn:
            client = account_client(
                harness.api_url(conn.server_url), transport=conn.transport, timeout=conn.timeout
            )
            adapter = _adapter(harness, client)
            yield adapter, harness
            await adapter.aclose()


class TestShopifyInProcess(ShopifyContract):
    transport = "asgi"


@pytest.mark.parametrize("document", wire.DOCUMENTS)
def test_every_document_the_adapter_sends_validates(document: str) -> None:
    assert validate(admin_schema(), parse(document)) == []


async def test_the_registry_builds_a_working_adapter() -> None:
    platform = PLATFORMS["shopify"]
    harness = ShopifySandbox.on_manual_clock()
    secrets = {k: Secret(v) for k, v in harness.credentials().items() if k == "client_id"}
    with pytest.raises(ConfigError, match="client_secret"):
        platform.create_adapter(AccountId("a"), harness.api_url(), secrets, timer=harness.timer)
    secrets["client_secret"] = Secret(harness.credentials()["client_secret"])
    adapter = platform.create_adapter(
        AccountId("a"),
        harness.api_url(),
        secrets,
        timer=harness.timer,
        transport=httpx.ASGITransport(app=harness.app),
    )
    (ref,) = await harness.seed(1)
    (result,) = await adapter.push([StockUpdate(ref=ref, quantity=4, sequence=1)])
    assert (result.status, await harness.held(ref)) == (ItemStatus.SUCCEEDED, 4)
    await adapter.aclose()
    assert SANDBOXES[platform.name](SandboxOptions(base_url="http://x")).platform == "shopify"


async def test_a_raced_sale_is_never_overwritten() -> None:
    harness = ShopifySandbox.on_manual_clock()
    client = account_client(harness.api_url(), transport=httpx.ASGITransport(app=harness.app))
    adapter = _adapter(harness, client)
    (ref,) = await harness.seed(1, quantity=5)
    await harness.place_orders([ref], 1, per_second=1)  # the level is 4; omnistock saw 5
    (result,) = await adapter.push([StockUpdate(ref=ref, quantity=9, sequence=2, expected=5)])
    assert (result.status, result.observed) == (ItemStatus.FAILED_RETRYABLE, 4)
    assert result.reason is not None
    assert wire.STALE in result.reason
    assert await harness.held(ref) == 4
    await adapter.aclose()


async def test_cancel_order_cancels_and_restocks() -> None:
    harness = ShopifySandbox.on_manual_clock()
    client = account_client(harness.api_url(), transport=httpx.ASGITransport(app=harness.app))
    adapter = _adapter(harness, client)
    (ref,) = await harness.seed(1, quantity=5)
    [order_id] = await harness.place_orders([ref], 1, per_second=1)
    assert await adapter.cancel_order(order_id, "oversold") is True
    assert await adapter.cancel_order(order_id, "oversold") is True  # idempotent
    assert await harness.held(ref) == 5
    await adapter.aclose()


async def test_a_poll_waits_for_spare_points_and_a_write_does_not() -> None:
    harness = ShopifySandbox.on_manual_clock()
    client = account_client(harness.api_url(), transport=httpx.ASGITransport(app=harness.app))
    timer = ManualTimer()
    limiter = limiter_for(CAPABILITIES.rate, timer)
    adapter = _adapter(harness, client, timer, limiter)
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
