"""eBay passes the adapter contract against its sandbox, in-process (ASGI); plus its registry
entry, cancellation, and the notification tests in eBay's terms (it has no quantity push)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from omnistock.adapters.base import AnswersChallenges, ChannelEventType, ItemStatus, StockUpdate
from omnistock.adapters.ebay import EbayAdapter, EbaySession
from omnistock.adapters.http import account_client
from omnistock.adapters.registry import PLATFORMS
from omnistock.adapters.secrets import Secret
from omnistock.domain.errors import ConfigError, PermanentError, WebhookRejectedError
from omnistock.domain.ids import AccountId
from omnistock.kit.sandbox.common.serve import SandboxOptions
from omnistock.kit.sandbox.ebay import EbaySandbox
from omnistock.kit.sandbox.registry import SANDBOXES
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

    async def test_echoes_of_our_writes_are_suppressed(self, pair: Pair) -> None:
        pytest.skip("eBay pushes no quantity changes, so there is no echo to suppress")


class TestEbayInProcess(EbayContract):
    transport = "asgi"


async def test_the_registry_builds_a_working_adapter() -> None:
    platform = PLATFORMS["ebay"]
    harness = EbaySandbox.on_manual_clock()
    secrets = {k: Secret(v) for k, v in harness.credentials().items() if k != "refresh_token"}
    with pytest.raises(ConfigError, match="refresh_token"):
        platform.create_adapter(AccountId("a"), harness.api_url(), secrets, timer=harness.timer)
    secrets["refresh_token"] = Secret(harness.credentials()["refresh_token"])
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
    assert SANDBOXES[platform.name](SandboxOptions(base_url="http://x")).platform == "ebay"


async def test_cancel_order_cancels_and_restores_the_quantity() -> None:
    harness = EbaySandbox.on_manual_clock()
    client = account_client(harness.api_url(), transport=httpx.ASGITransport(app=harness.app))
    adapter = ebay_adapter(harness, client)
    (ref,) = await harness.seed(1, quantity=5)
    [order_id] = await harness.place_orders([ref], 1, per_second=1)
    assert await harness.held(ref) == 4
    assert await adapter.cancel_order(order_id, "oversold") is True
    assert await adapter.cancel_order(order_id, "oversold") is True  # idempotent
    assert await harness.held(ref) == 5
    page = await adapter.poll_orders(None)
    kinds = {e.kind for e in page.events if e.order_id == order_id}
    assert kinds == {ChannelEventType.ORDER_PLACED, ChannelEventType.ORDER_CANCELLED}
    with pytest.raises(PermanentError):
        await adapter.cancel_order("99-99999-99999", "oversold")
    await adapter.aclose()


async def test_the_challenge_is_answered_with_the_accounts_endpoint_and_token() -> None:
    """eBay's createDestination sends `GET endpoint?challenge_code=…`; the adapter built
    from the account's credentials answers it, and only with the registered endpoint."""
    endpoint = "https://omnistock.example/webhooks/ebay-main"
    harness = EbaySandbox.on_manual_clock()
    creds = {
        **{k: Secret(v) for k, v in harness.credentials().items()},
        "verification_token": Secret("v" * 40),
        "endpoint": Secret(endpoint),
    }
    adapter = PLATFORMS["ebay"].create_adapter(
        AccountId("ebay-main"), "https://api.ebay.test", creds, timer=harness.timer
    )
    assert isinstance(adapter, AnswersChallenges)

    async def engine(request: httpx.Request) -> httpx.Response:  # the engine's GET route
        return httpx.Response(
            200, json=adapter.answer_challenge(request.url.params["challenge_code"])
        )

    notes = harness.notifications
    async with httpx.AsyncClient(transport=httpx.MockTransport(engine)) as hooks:
        notes._client = hooks
        assert await notes._challenge(endpoint, "v" * 40)
        assert not await notes._challenge(endpoint + "/other", "v" * 40)
    without = {k: v for k, v in creds.items() if k != "endpoint"}
    bare = PLATFORMS["ebay"].create_adapter(
        AccountId("ebay-main"), "https://api.ebay.test", without, timer=harness.timer
    )
    assert isinstance(bare, AnswersChallenges)
    with pytest.raises(ConfigError):
        bare.answer_challenge("abc")
    await adapter.aclose()
    await bare.aclose()
