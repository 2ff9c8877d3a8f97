"""Webhooks from the WooCommerce sandbox: ping, topics, headers, signatures, failure threshold.

Deliveries go to an in-memory receiver through httpx.MockTransport.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Protocol

import httpx
import pytest

from omnistock.kit.sandbox.common.faults import FaultSettings
from omnistock.kit.sandbox.common.truth import OrderLine
from omnistock.kit.sandbox.woocommerce import WooSandbox


class Receiver(Protocol):
    """The `receiver` fixture from conftest.py."""

    requests: list[httpx.Request]
    status: int

    def topics(self) -> list[str]: ...


HOOK_URL = "https://receiver.test/hooks/woo"


async def subscribe(
    http: httpx.AsyncClient,
    topic: str,
    secret: str = "s3cret",  # noqa: S107 - test key
) -> dict[str, object]:
    body = {"name": topic, "topic": topic, "delivery_url": HOOK_URL, "secret": secret}
    response = await http.post("/webhooks", json=body)
    assert response.status_code == 201
    return dict(response.json())


def simple_id(sandbox: WooSandbox) -> int:
    return next(p.id for p in sandbox.store.products.values() if p.type == "simple")


async def test_creation_pings_with_a_form_body_and_no_signature(
    http: httpx.AsyncClient, receiver: Receiver
) -> None:
    hook = await subscribe(http, "product.updated")
    assert hook["status"] == "active"
    assert (hook["resource"], hook["event"]) == ("product", "updated")
    assert "secret" not in hook
    (ping,) = receiver.requests
    assert ping.content == f"webhook_id={hook['id']}".encode()
    assert ping.headers["content-type"] == "application/x-www-form-urlencoded"
    assert "x-wc-webhook-signature" not in ping.headers


async def test_a_failed_ping_still_creates_the_webhook(
    http: httpx.AsyncClient, receiver: Receiver
) -> None:
    receiver.status = 404
    hook = await subscribe(http, "order.created")
    listed = (await http.get("/webhooks")).json()
    assert [h["id"] for h in listed] == [hook["id"]]


async def test_rest_writes_echo_as_signed_product_updated(
    http: httpx.AsyncClient, sandbox: WooSandbox, receiver: Receiver
) -> None:
    hook = await subscribe(http, "product.updated", secret="top-secret")  # noqa: S106 - test key
    async with sandbox.running():
        await http.put(f"/products/{simple_id(sandbox)}", json={"stock_quantity": 17})
        await sandbox.webhooks.sender.wait_idle()
    delivery = receiver.requests[-1]
    expected = hmac.new(b"top-secret", delivery.content, hashlib.sha256).digest()
    assert delivery.headers["x-wc-webhook-signature"] == base64.b64encode(expected).decode()
    assert delivery.headers["x-wc-webhook-topic"] == "product.updated"
    assert delivery.headers["x-wc-webhook-resource"] == "product"
    assert delivery.headers["x-wc-webhook-event"] == "updated"
    assert delivery.headers["x-wc-webhook-id"] == str(hook["id"])
    assert delivery.headers["x-wc-webhook-source"] == sandbox.base_url + "/"
    assert len(delivery.headers["x-wc-webhook-delivery-id"]) == 32
    assert json.loads(delivery.content)["stock_quantity"] == 17


async def test_orders_fire_order_created_and_stock_changes(
    http: httpx.AsyncClient, sandbox: WooSandbox, receiver: Receiver
) -> None:
    await subscribe(http, "order.created")
    await subscribe(http, "order.updated")
    await subscribe(http, "product.updated")
    product = sandbox.store.products[simple_id(sandbox)]
    product.stock_quantity = 5
    order_id = sandbox.store.place_order([OrderLine(sku=product.sku, quantity=2)])
    await http.put(f"/orders/{order_id}", json={"status": "cancelled"})
    async with sandbox.running():  # the delivery job runs only now, after both changes
        await sandbox.webhooks.sender.wait_idle()
    topics = receiver.topics()[3:]
    assert topics == ["order.created", "product.updated", "product.updated", "order.updated"]
    stock = [
        json.loads(r.content)["stock_quantity"]
        for r in receiver.requests[3:]
        if r.headers["x-wc-webhook-topic"] == "product.updated"
    ]
    assert stock == [5, 5]  # payloads are built at delivery time, after the cancel


async def test_seventh_consecutive_failure_disables(
    http: httpx.AsyncClient, sandbox: WooSandbox, receiver: Receiver
) -> None:
    hook = await subscribe(http, "product.updated")
    receiver.status = 500
    pid = simple_id(sandbox)
    async with sandbox.running():
        for n in range(8):
            await http.put(f"/products/{pid}", json={"stock_quantity": n})
            await sandbox.webhooks.sender.wait_idle()
    after = (await http.get(f"/webhooks/{hook['id']}")).json()
    assert after["status"] == "disabled"
    assert len(receiver.requests) == 1 + 7  # the ping, then no deliveries once disabled
    reenabled = await http.put(f"/webhooks/{hook['id']}", json={"status": "active"})
    assert reenabled.json()["status"] == "active"


async def test_success_resets_the_failure_count(
    http: httpx.AsyncClient, sandbox: WooSandbox, receiver: Receiver
) -> None:
    hook = await subscribe(http, "product.updated")
    pid = simple_id(sandbox)
    async with sandbox.running():
        for status in [500] * 6 + [200] + [500] * 6:
            receiver.status = status
            await http.put(f"/products/{pid}", json={"stock_quantity": 1})
            await sandbox.webhooks.sender.wait_idle()
    assert sandbox.webhooks.hooks[int(str(hook["id"]))].status == "active"


async def test_webhook_faults_drop_and_duplicate(
    http: httpx.AsyncClient, sandbox: WooSandbox, receiver: Receiver
) -> None:
    await subscribe(http, "product.updated")
    pid = simple_id(sandbox)
    async with sandbox.running():
        sandbox.faults.apply(FaultSettings(webhook_duplicate_rate=1.0))
        await http.put(f"/products/{pid}", json={"stock_quantity": 1})
        await sandbox.webhooks.sender.wait_idle()
        sandbox.faults.apply(FaultSettings(webhook_drop_rate=1.0))
        await http.put(f"/products/{pid}", json={"stock_quantity": 2})
        await sandbox.webhooks.sender.wait_idle()
    assert len(receiver.requests) == 1 + 2
    assert sandbox.webhooks.sender.summary()["dropped"] == 1


async def test_reordered_and_delayed_webhooks_arrive_late(
    http: httpx.AsyncClient, sandbox: WooSandbox, receiver: Receiver
) -> None:
    await subscribe(http, "product.updated")
    first, second = (p.id for p in list(sandbox.store.products.values())[:2])
    async with sandbox.running():
        sandbox.faults.apply(FaultSettings(webhook_reorder_rate=1.0))
        await http.put(f"/products/{first}", json={"stock_quantity": 1})
        sandbox.faults.apply(FaultSettings())
        await http.put(f"/products/{second}", json={"stock_quantity": 2})
        await sandbox.webhooks.sender.wait_idle()
        sandbox.faults.apply(FaultSettings(webhook_delay_rate=1.0, webhook_delay_s=3600))
        await http.put(f"/products/{first}", json={"stock_quantity": 3})
        await sandbox.webhooks.sender.wait_idle()
    ids = [json.loads(r.content)["id"] for r in receiver.requests[1:]]
    assert ids == [second, first, first]


async def test_invalid_topics_and_trash_are_refused(http: httpx.AsyncClient) -> None:
    bad = await http.post("/webhooks", json={"topic": "stock.moved", "delivery_url": HOOK_URL})
    assert bad.json()["code"] == "woocommerce_rest_webhook_invalid_topic"
    hook = await subscribe(http, "order.updated")
    trash = await http.delete(f"/webhooks/{hook['id']}")
    gone = await http.delete(f"/webhooks/{hook['id']}", params={"force": "true"})
    assert (trash.status_code, gone.status_code) == (501, 200)
    assert (await http.get(f"/webhooks/{hook['id']}")).status_code == 404


@pytest.mark.parametrize("status", ["paused", "disabled"])
async def test_inactive_webhooks_do_not_deliver(
    http: httpx.AsyncClient, sandbox: WooSandbox, receiver: Receiver, status: str
) -> None:
    body = {"topic": "product.updated", "delivery_url": HOOK_URL, "status": status}
    assert (await http.post("/webhooks", json=body)).status_code == 201
    async with sandbox.running():
        await http.put(f"/products/{simple_id(sandbox)}", json={"stock_quantity": 1})
        await sandbox.webhooks.sender.wait_idle()
    assert receiver.requests == []
