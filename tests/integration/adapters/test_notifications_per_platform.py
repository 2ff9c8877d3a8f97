"""What each platform's registration does beyond the shared behaviour: WooCommerce switches a
disabled webhook back on and leaves other plugins' alone, the sandboxes refuse duplicates
as the platforms do, eBay and Amazon refuse a target they cannot serve."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from omnistock.adapters.base import AnswersChallenges, RegistersNotifications
from omnistock.clock import ScaledTime
from omnistock.domain.errors import ConfigError
from omnistock.kit.merchant import build_merchant
from omnistock.kit.sandbox.amazon.face import AmazonSandbox
from omnistock.kit.sandbox.ebay.face import EbaySandbox
from omnistock.kit.sandbox.shopify.app import GRAPHQL_PATH
from omnistock.kit.sandbox.shopify.face import ShopifySandbox
from omnistock.kit.sandbox.shopify.subscriptions_api import TAKEN
from omnistock.kit.sandbox.woocommerce.face import WooSandbox

TARGET = "http://omnistock.kit.demo/webhooks/{account}"


async def _accepting(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b""})


@pytest.fixture
async def woo() -> AsyncIterator[tuple[WooSandbox, RegistersNotifications]]:
    shop = build_merchant(["woocommerce"], skus=2, seed=3)
    shop.engine_app.app = _accepting  # WooCommerce pings each webhook it creates
    (store,) = shop.stores
    assert isinstance(store.sandbox, WooSandbox)
    adapter = store.info().adapter(ScaledTime(1.0), httpx.ASGITransport(app=store.sandbox.app))
    assert isinstance(adapter, RegistersNotifications)
    yield store.sandbox, adapter
    await adapter.aclose()
    await shop.aclose()


async def test_woocommerce_reactivates_its_own_and_leaves_other_plugins_alone(
    woo: tuple[WooSandbox, RegistersNotifications],
) -> None:
    sandbox, adapter = woo
    target = TARGET.format(account="woo-1")
    first = await adapter.register_notifications(target)
    disabled = next(h for h in sandbox.webhooks.hooks.values() if h.topic == "order.created")
    disabled.status, disabled.secret = "disabled", "stale"  # after repeated failed deliveries
    other = sandbox.webhooks.create(
        name="ERP connector",
        topic="order.created",
        url="https://erp.example/hook",
        secret="s",  # noqa: S106 - a test value
        status="active",
    )
    again = await adapter.register_notifications(target)
    assert again.created == ()
    assert {s.id for s in again.kept} == {s.id for s in first.created}
    assert disabled.status == "active"
    assert disabled.secret == sandbox.connection().credentials["webhook_secret"]
    assert sandbox.webhooks.hooks[other.id].status == "active"
    gone = await adapter.remove_notifications(target)
    assert other.id in sandbox.webhooks.hooks
    assert len(gone.removed) == 3


async def test_shopify_refuses_a_second_subscription_of_a_topic_to_an_address() -> None:
    sandbox = ShopifySandbox.on_manual_clock()
    mutation = """mutation($uri: String!) {
      webhookSubscriptionCreate(topic: ORDERS_CREATE, webhookSubscription: {uri: $uri}) {
        webhookSubscription { id uri topic } userErrors { field message } } }"""
    token = sandbox.access_token
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sandbox.app),
        base_url=sandbox.base_url,
        headers={"X-Shopify-Access-Token": token},
    ) as http:

        async def create() -> dict[str, object]:
            answer = await http.post(
                GRAPHQL_PATH,
                json={"query": mutation, "variables": {"uri": "https://x.example/h"}},
            )
            data = answer.json()["data"]["webhookSubscriptionCreate"]
            assert isinstance(data, dict)
            return data

        made = await create()
        assert made["userErrors"] == []
        dup = await create()
    assert dup["webhookSubscription"] is None
    assert dup["userErrors"] == [{"field": ["webhookSubscription", "uri"], "message": TAKEN}]
    assert [s.topic for s in sandbox.webhooks.subscriptions.values()] == ["orders/create"]


async def test_ebay_needs_its_endpoint_to_be_the_target() -> None:
    shop = build_merchant(["ebay"], skus=1, seed=1)
    (store,) = shop.stores
    adapter = store.info().adapter(ScaledTime(1.0), httpx.ASGITransport(app=store.sandbox.app))
    assert isinstance(adapter, RegistersNotifications)
    with pytest.raises(ConfigError, match="notification_endpoint"):
        await adapter.register_notifications("https://omnistock.example/webhooks/ebay-1")
    await adapter.aclose()
    await shop.aclose()


async def test_ebay_sandbox_refuses_duplicates_and_an_endpoint_in_use() -> None:
    sandbox = EbaySandbox.on_manual_clock()
    notes = sandbox.notifications
    notes.alert_email = "ops@example.com"
    notes.register("https://a.example/h", "t" * 40, ("ORDER_CONFIRMATION",))
    (dest_id,) = notes.destinations
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sandbox.app), base_url=sandbox.base_url
    ) as http:
        creds = sandbox.credentials()
        grant = await http.post(
            "/identity/v1/oauth2/token",
            data={
                "grant_type": "client_credentials",
                "scope": "https://api.ebay.com/oauth/api_scope",
            },
            auth=(creds["client_id"], creds["client_secret"]),
        )
        http.headers["Authorization"] = f"Bearer {grant.json()['access_token']}"
        base = "/commerce/notification/v1"
        sub = {"topicId": "ORDER_CONFIRMATION", "status": "ENABLED", "destinationId": dest_id}
        dup = await http.post(f"{base}/subscription", json=sub)
        same_endpoint = await http.post(
            f"{base}/destination",
            json={
                "name": "x",
                "deliveryConfig": {
                    "endpoint": "https://a.example/h",
                    "verificationToken": "t" * 40,
                },
            },
        )
        in_use = await http.delete(f"{base}/destination/{dest_id}")
        listed = (await http.get(f"{base}/subscription")).json()
    assert (dup.status_code, dup.json()["errors"][0]["errorId"]) == (409, 195012)
    assert (same_endpoint.status_code, same_endpoint.json()["errors"][0]["errorId"]) == (
        409,
        195021,
    )
    assert (in_use.status_code, in_use.json()["errors"][0]["errorId"]) == (409, 195024)
    assert [s["topicId"] for s in listed["subscriptions"]] == ["ORDER_CONFIRMATION"]


async def test_amazon_replaces_a_subscription_to_another_queue_and_refuses_a_non_queue() -> None:
    shop = build_merchant(["amazon"], skus=1, seed=2, time_scale=50.0)
    (store,) = shop.stores
    sandbox = store.sandbox
    assert isinstance(sandbox, AmazonSandbox)
    adapter = store.info().adapter(ScaledTime(50.0), httpx.ASGITransport(app=sandbox.app))
    assert isinstance(adapter, RegistersNotifications)
    old_queue = "arn:aws:sqs:eu-west-1:111122223333:old"
    await adapter.register_notifications(old_queue)
    moved = await adapter.register_notifications(sandbox.notification_queue)
    assert {s.topic for s in moved.removed} == {"ORDER_CHANGE", "LISTINGS_ITEM_MFN_QUANTITY_CHANGE"}
    assert sandbox.notification_queue in {s.target for s in moved.created}
    queue_sub = sandbox.notifications.api.destination_of("ORDER_CHANGE")
    assert queue_sub is not None
    assert queue_sub[1].key == sandbox.notification_queue
    with pytest.raises(ConfigError, match="SQS"):
        await adapter.register_notifications("https://not-a-queue.example")
    await adapter.aclose()
    await shop.aclose()


async def test_ebay_moves_omnistock_to_a_new_endpoint_and_drops_the_old_destination() -> None:
    shop = build_merchant(["ebay"], skus=1, seed=4)
    (store,) = shop.stores
    sandbox = store.sandbox
    assert isinstance(sandbox, EbaySandbox)
    info = store.info()
    old, new = "http://omnistock.kit.demo/old/ebay-1", TARGET.format(account="ebay-1")
    adapters = {
        url: replace(info, settings={**info.settings, "notification_endpoint": url}).adapter(
            ScaledTime(1.0), httpx.ASGITransport(app=sandbox.app)
        )
        for url in (old, new)
    }

    async def engine(scope: Scope, receive: Receive, send: Send) -> None:
        """Each endpoint answered by the engine configured for it."""
        url = f"http://omnistock.kit.demo{scope['path']}"
        code = scope["query_string"].decode().partition("=")[2]
        answering = adapters[url]
        assert isinstance(answering, AnswersChallenges)
        body = json.dumps(answering.answer_challenge(code)).encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})

    shop.engine_app.app = engine
    first, second = adapters[old], adapters[new]
    assert isinstance(first, RegistersNotifications)
    assert isinstance(second, RegistersNotifications)
    made = await first.register_notifications(old)
    moved = await second.register_notifications(new)
    assert moved.removed == made.created
    assert [s.target for s in moved.created] == [new]
    endpoints = [d.endpoint for d in sandbox.notifications.destinations.values()]
    assert endpoints == [new]  # omnistock's old destination, unused, deleted
    for adapter in adapters.values():
        await adapter.aclose()
    await shop.aclose()
