"""Over a real socket: the WooCommerce sandbox delivers signed order webhooks by HTTP to the
webhook endpoint served by uvicorn, which persists them to the inbox."""

from __future__ import annotations

from pathlib import Path

import httpx

from omnistock.adapters.base import ChannelEventType
from omnistock.adapters.http import account_client
from omnistock.adapters.secrets import Secret
from omnistock.adapters.woocommerce import WooCommerceAdapter
from omnistock.ingest.codec import decode_channel_event
from omnistock.ingest.webhooks import webhook_app
from omnistock.kit.sandbox.common.catalog import CatalogItem, CatalogProduct
from omnistock.kit.sandbox.common.clock import ManualClock, SandboxTimer
from omnistock.kit.sandbox.common.truth import OrderLine
from omnistock.kit.sandbox.woocommerce import WooConfig, WooSandbox
from omnistock.ledger.store import Store
from tests.contract.adapter_suite import open_transport
from tests.integration.ingest.conftest import ACCOUNT, ORDER_TOPICS, WEBHOOK_SECRET


def sandbox_with_one_product() -> WooSandbox:
    # Webhooks go out through a real HTTP client (none injected), as a real site's would.
    sandbox = WooSandbox(WooConfig(seed=3, skus=0, variant_share=0.0), clock=ManualClock())
    item = CatalogItem(
        sku="SOCK-1",
        title="Sock",
        option=None,
        location="main",
        initial_quantity=10,
        price_cents=500,
    )
    sandbox.store.add_product(
        CatalogProduct(sku="SOCK-1", title="Sock", variable=False, items=(item,))
    )
    return sandbox


async def test_the_sandbox_delivers_over_a_socket_and_the_inbox_keeps_it(tmp_path: Path) -> None:
    sandbox = sandbox_with_one_product()
    store = await Store.open(f"sqlite:///{tmp_path / 'ledger.db'}")
    adapter = WooCommerceAdapter(
        ACCOUNT,
        account_client(sandbox.base_url, transport=httpx.ASGITransport(app=sandbox.app)),
        consumer_key=Secret("unused"),
        consumer_secret=Secret("unused"),
        webhook_secret=Secret(WEBHOOK_SECRET),
        timer=SandboxTimer(ManualClock()),
    )
    app = webhook_app({ACCOUNT: adapter}, store.inbox)
    try:
        async with open_transport(app, "socket") as served, sandbox.running():
            assert served.server_url is not None
            for topic in ORDER_TOPICS:
                sandbox.webhooks.create(
                    name=topic,
                    topic=topic,
                    url=f"{served.server_url}/webhooks/{ACCOUNT}",
                    secret=WEBHOOK_SECRET,
                    status="active",
                )
            sandbox.store.place_order([OrderLine(sku="SOCK-1", quantity=2)])
            await sandbox.webhooks.sender.wait_idle()
        (outcome,) = sandbox.webhooks.sender.outcomes
        assert outcome.status == 200
        (item,) = await store.inbox.take(10)
        event = decode_channel_event(item.payload)
        assert event.kind is ChannelEventType.ORDER_PLACED
        assert [(line.sku, line.quantity) for line in event.lines] == [("SOCK-1", 2)]
    finally:
        await adapter.aclose()
        await store.close()
