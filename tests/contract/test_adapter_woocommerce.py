"""WooCommerce passes the adapter contract against its sandbox, in-process (ASGI)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from omnistock.adapters.base import ChannelAdapter
from omnistock.adapters.http import account_client
from omnistock.adapters.secrets import Secret
from omnistock.adapters.woocommerce import WooCommerceAdapter
from omnistock.domain.ids import AccountId
from omnistock.kit.sandbox.common.face import SandboxFace
from omnistock.kit.sandbox.woocommerce import WooSandbox
from tests.contract.adapter_suite import AdapterContract, Pair, TransportKind, open_transport

WEBHOOK_SECRET = "contract-webhook-secret"  # noqa: S105 - test key


class WooCommerceContract(AdapterContract):
    transport: TransportKind = "asgi"
    required_secret = "webhook_secret"  # noqa: S105 - a credential's name
    spoiled_secret = "consumer_secret"  # noqa: S105 - a credential's name
    secret_names = ("consumer_key", "webhook_secret")
    unknown_order_ids = ("not-a-number", "999999")

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

    async def check_cancelled(
        self, adapter: ChannelAdapter, face: SandboxFace, order_id: str
    ) -> None:
        assert isinstance(face, WooSandbox)
        assert face.store.orders[int(order_id)].status == "cancelled"


class TestWooCommerceInProcess(WooCommerceContract):
    transport = "asgi"
