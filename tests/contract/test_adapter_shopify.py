"""Shopify passes the adapter contract against its sandbox, in-process (ASGI)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from omnistock.adapters.http import account_client
from omnistock.adapters.ratelimit import RateLimiter
from omnistock.adapters.secrets import Secret
from omnistock.adapters.shopify import ShopifyAdapter, wire
from omnistock.clock import Timer
from omnistock.domain.ids import AccountId
from omnistock.kit.sandbox.shopify import ShopifySandbox
from tests.contract.adapter_suite import AdapterContract, Pair, TransportKind, open_transport


def shopify_adapter(
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
    required_secret = "client_secret"  # noqa: S105 - a credential's name
    spoiled_secret = "access_token"  # noqa: S105 - a credential's name
    secret_names = ("client_secret", "access_token")
    raced_reason = wire.STALE

    @pytest.fixture
    async def pair(self) -> AsyncIterator[Pair]:
        harness = ShopifySandbox.on_manual_clock()
        async with harness.running(), open_transport(harness.app, self.transport) as conn:
            client = account_client(
                harness.api_url(conn.server_url), transport=conn.transport, timeout=conn.timeout
            )
            adapter = shopify_adapter(harness, client)
            yield adapter, harness
            await adapter.aclose()


class TestShopifyInProcess(ShopifyContract):
    transport = "asgi"
