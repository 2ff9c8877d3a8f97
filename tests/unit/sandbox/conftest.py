"""Fixtures for the sandbox tests: a WooCommerce sandbox on a manual clock, and clients for it.

Everything runs in-process through httpx.ASGITransport; webhooks go to an in-memory receiver.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from omnistock.kit.sandbox.common.clock import ManualClock
from omnistock.kit.sandbox.woocommerce import WooConfig, WooSandbox

API = "/wp-json/wc/v3"


class Receiver:
    """Collects webhook POSTs; answers with `status` (200 unless a test changes it)."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.status = 200

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        self.requests.append(request)
        return httpx.Response(self.status)

    def topics(self) -> list[str]:
        return [r.headers.get("x-wc-webhook-topic", "ping") for r in self.requests]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def receiver() -> Receiver:
    return Receiver()


@pytest.fixture
def config() -> WooConfig:
    return WooConfig(seed=7, skus=12, variant_share=0.5)


@pytest.fixture
async def sandbox(
    config: WooConfig, clock: ManualClock, receiver: Receiver
) -> AsyncIterator[WooSandbox]:
    async with httpx.AsyncClient(transport=httpx.MockTransport(receiver)) as hooks_client:
        yield WooSandbox(config, clock=clock, webhook_client=hooks_client)


@pytest.fixture
async def anon(sandbox: WooSandbox) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=sandbox.app)
    async with httpx.AsyncClient(transport=transport, base_url=sandbox.base_url) as client:
        yield client


@pytest.fixture
async def http(sandbox: WooSandbox) -> AsyncIterator[httpx.AsyncClient]:
    creds = sandbox.credentials()
    transport = httpx.ASGITransport(app=sandbox.app)
    auth = (creds["consumer_key"], creds["consumer_secret"])
    async with httpx.AsyncClient(
        transport=transport, base_url=sandbox.base_url + API, auth=auth
    ) as client:
        yield client
