"""WooCommerce passes the adapter contract against its sandbox, in-process (ASGI); plus its
registry entry, and credentials kept out of reprs and errors."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from omnistock.adapters.base import ItemStatus, StockUpdate
from omnistock.adapters.http import account_client
from omnistock.adapters.registry import PLATFORMS
from omnistock.adapters.secrets import Secret
from omnistock.adapters.woocommerce import WooCommerceAdapter
from omnistock.domain.errors import AuthFailedError, ConfigError, PermanentError
from omnistock.domain.ids import AccountId
from omnistock.kit.sandbox.common.serve import SandboxOptions
from omnistock.kit.sandbox.registry import SANDBOXES
from omnistock.kit.sandbox.woocommerce import WooSandbox
from tests.contract.adapter_suite import AdapterContract, Pair, TransportKind, open_transport

WEBHOOK_SECRET = "contract-webhook-secret"  # noqa: S105 - test key


class WooCommerceContract(AdapterContract):
    transport: TransportKind = "asgi"

    @pytest.fixture
    async def pair(self) -> AsyncIterator[Pair]:
        harness = WooSandbox.on_manual_clock(webhook_secret=WEBHOOK_SECRET)
        creds = harness.credentials()
        async with harness.running(), open_transport(harness.app, self.transport) as conn:
            client = account_client(
                harness.api_url(conn.server_url), transport=conn.transport, timeout=conn.timeout
            )
            adapter = WooCommerceAdapter(
                AccountId("woo-contract"),
                client,
                consumer_key=Secret(creds["consumer_key"]),
                consumer_secret=Secret(creds["consumer_secret"]),
                webhook_secret=Secret(WEBHOOK_SECRET),
                timer=harness.timer,
            )
            yield adapter, harness
            await adapter.aclose()


class TestWooCommerceInProcess(WooCommerceContract):
    transport = "asgi"


async def test_the_registry_builds_a_working_adapter() -> None:
    platform = PLATFORMS["woocommerce"]
    harness = WooSandbox.on_manual_clock(webhook_secret=WEBHOOK_SECRET)
    secrets = {k: Secret(v) for k, v in harness.credentials().items()}
    with pytest.raises(ConfigError, match="webhook_secret"):
        platform.create_adapter(AccountId("a"), harness.api_url(), secrets, timer=harness.timer)
    secrets["webhook_secret"] = Secret(WEBHOOK_SECRET)
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
    assert SANDBOXES[platform.name](SandboxOptions(base_url="http://x")).platform == "woocommerce"


async def test_credentials_stay_out_of_reprs_and_errors() -> None:
    harness = WooSandbox.on_manual_clock(webhook_secret=WEBHOOK_SECRET)
    creds = harness.credentials()
    transport = httpx.ASGITransport(app=harness.app)
    adapter = WooCommerceAdapter(
        AccountId("a"),
        account_client(harness.api_url(), transport=transport),
        consumer_key=Secret(creds["consumer_key"]),
        consumer_secret=Secret("cs_wrong_secret"),
        webhook_secret=Secret(WEBHOOK_SECRET),
        timer=harness.timer,
    )
    (ref,) = await harness.seed(1)
    with pytest.raises(AuthFailedError) as caught:
        await adapter.push([StockUpdate(ref=ref, quantity=4, sequence=1)])
    await adapter.aclose()
    shown = f"{caught.value!s} {caught.value!r} {adapter!r}"
    assert creds["consumer_key"] not in shown
    assert "cs_wrong_secret" not in shown


async def test_cancel_order_cancels_it_and_the_site_restores_its_stock() -> None:
    harness = WooSandbox.on_manual_clock(webhook_secret=WEBHOOK_SECRET)
    creds = harness.credentials()
    adapter = WooCommerceAdapter(
        AccountId("a"),
        account_client(harness.api_url(), transport=httpx.ASGITransport(app=harness.app)),
        consumer_key=Secret(creds["consumer_key"]),
        consumer_secret=Secret(creds["consumer_secret"]),
        webhook_secret=Secret(WEBHOOK_SECRET),
        timer=harness.timer,
    )
    (ref,) = await harness.seed(1, quantity=5)
    [order_id] = await harness.place_orders([ref], 1, per_second=1)
    assert await harness.held(ref) == 4
    assert await adapter.cancel_order(order_id, "oversold") is True
    assert await adapter.cancel_order(order_id, "oversold") is True  # idempotent
    assert harness.store.orders[int(order_id)].status == "cancelled"
    assert await harness.held(ref) == 5
    with pytest.raises(PermanentError):
        await adapter.cancel_order("not-a-number", "oversold")
    with pytest.raises(PermanentError):
        await adapter.cancel_order("999999", "oversold")
    await adapter.aclose()
