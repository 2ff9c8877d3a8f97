"""eBay passes the adapter contract against its sandbox, in-process (ASGI), the notification
tests in eBay's terms (it has no quantity push)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from omnistock.adapters.base import ChannelAdapter, ChannelEventType
from omnistock.adapters.ebay import EbayAdapter, EbaySession
from omnistock.adapters.http import account_client
from omnistock.adapters.secrets import Secret
from omnistock.domain.errors import WebhookRejectedError
from omnistock.domain.ids import AccountId
from omnistock.kit.sandbox.common.face import SandboxFace
from omnistock.kit.sandbox.ebay import EbaySandbox
from tests.contract.adapter_suite import (
    AdapterContract,
    Pair,
    TransportKind,
    forged,
    open_transport,
    unsigned,
)


def ebay_adapter(harness: EbaySandbox, client: httpx.AsyncClient) -> EbayAdapter:
    creds = harness.credentials()
    session = EbaySession(
        AccountId("ebay-contract"),
        client,
        client_id=Secret(creds["client_id"]),
        client_secret=Secret(creds["client_secret"]),
        refresh_token=Secret(creds["refresh_token"]),
        timer=harness.timer,
    )
    return EbayAdapter(AccountId("ebay-contract"), session, timer=harness.timer)


class EbayContract(AdapterContract):
    transport: TransportKind = "asgi"
    required_secret = "refresh_token"  # noqa: S105 - a credential's name
    spoiled_secret = "client_secret"  # noqa: S105 - a credential's name
    secret_names = ("client_secret", "refresh_token", "verification_token")
    unknown_order_ids = ("99-99999-99999",)

    @pytest.fixture
    async def pair(self) -> AsyncIterator[Pair]:
        harness = EbaySandbox.on_manual_clock()
        async with harness.running(), open_transport(harness.app, self.transport) as conn:
            client = account_client(
                harness.api_url(conn.server_url), transport=conn.transport, timeout=conn.timeout
            )
            adapter = ebay_adapter(harness, client)
            yield adapter, harness
            await adapter.aclose()

    # eBay's Notification API has no quantity topic: the suite's webhook tests, which
    # change a level and expect a push, are run on ORDER_CONFIRMATION instead.

    async def test_forged_unsigned_and_tampered_webhooks_are_rejected(self, pair: Pair) -> None:
        adapter, harness = pair
        assert isinstance(adapter, EbayAdapter)
        assert isinstance(harness, EbaySandbox)
        refs = await harness.seed(1)
        await harness.subscribe_webhooks()
        (order_id,) = await harness.place_orders(refs, 1, per_second=1)
        (delivery,) = await harness.deliveries()
        await adapter.prepare_webhook(delivery.headers, delivery.body)
        assert [e.order_id for e in adapter.parse_webhook(delivery.headers, delivery.body)] == [
            order_id
        ]
        tampered = delivery.body.replace(b'"quantity":1', b'"quantity":2', 1)
        assert tampered != delivery.body
        for headers, body in (
            (forged(delivery), delivery.body),
            (unsigned(delivery), delivery.body),
            (delivery.headers, tampered),
        ):
            with pytest.raises(WebhookRejectedError) as caught:
                adapter.parse_webhook(headers, body)
            assert caught.value.status == 401

    async def test_duplicate_webhooks_give_one_canonical_event(self, pair: Pair) -> None:
        adapter, harness = pair
        assert isinstance(adapter, EbayAdapter)
        assert isinstance(harness, EbaySandbox)
        refs = await harness.seed(1)
        await harness.subscribe_webhooks()
        harness.duplicate_webhooks()
        await harness.place_orders(refs, 1, per_second=1)
        deliveries = await harness.deliveries()
        assert len(deliveries) == 2
        await adapter.prepare_webhook(deliveries[0].headers, deliveries[0].body)
        events = [e for d in deliveries for e in adapter.parse_webhook(d.headers, d.body)]
        assert len(events) == 2
        assert events[0] == events[1]
        assert events[0].kind is ChannelEventType.ORDER_PLACED

    async def check_cancelled(
        self, adapter: ChannelAdapter, face: SandboxFace, order_id: str
    ) -> None:
        page = await adapter.poll_orders(None)
        kinds = {e.kind for e in page.events if e.order_id == order_id}
        assert kinds == {ChannelEventType.ORDER_PLACED, ChannelEventType.ORDER_CANCELLED}

    async def test_echoes_of_our_writes_are_suppressed(self, pair: Pair) -> None:
        pytest.skip("eBay pushes no quantity changes, so there is no echo to suppress")


class TestEbayInProcess(EbayContract):
    transport = "asgi"
