"""The webhook endpoint with real signed WooCommerce deliveries: in process (ASGI), every
error path (never a 500 for bad input, nothing stored), and over a socket with uvicorn."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path

import httpx
import pytest

from omnistock.adapters.base import ChannelEventType
from omnistock.adapters.woocommerce.events import SIGNATURE_HEADER, signature
from omnistock.bus.inbox import InboxCounts, InboxMessage
from omnistock.domain.errors import StorageBusyError
from omnistock.ingest.codec import decode_channel_event
from omnistock.ingest.webhooks import webhook_app
from omnistock.kit.sandbox.common.face_records import Delivery
from omnistock.ledger.store import Store
from tests.contract.adapter_suite import forged, unsigned, updates_for
from tests.integration.ingest.conftest import (
    ACCOUNT,
    ORDER_TOPICS,
    WEBHOOK_SECRET,
    DelegatingInbox,
    Woo,
)

URL = f"/webhooks/{ACCOUNT}"


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(f"sqlite:///{tmp_path / 'ledger.db'}")
    yield opened
    await opened.close()


@pytest.fixture
async def client(store: Store, woo: Woo) -> AsyncIterator[httpx.AsyncClient]:
    app = webhook_app({ACCOUNT: woo.adapter}, store.inbox, max_body=20_000)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://omnistock.test") as http:
        yield http


async def order_deliveries(woo: Woo, count: int = 1) -> list[Delivery]:
    refs = await woo.harness.seed(1, quantity=50)
    await woo.harness.subscribe_webhooks(ORDER_TOPICS)
    await woo.harness.place_orders(refs, count, per_second=count)
    return await woo.harness.deliveries()


async def post(http: httpx.AsyncClient, headers: Mapping[str, str], body: bytes) -> httpx.Response:
    return await http.post(URL, headers=dict(headers), content=body)


async def nothing_stored(store: Store) -> bool:
    return await store.inbox.counts() == InboxCounts(pending=0, parked=0)


async def test_a_signed_order_webhook_is_persisted(
    client: httpx.AsyncClient, store: Store, woo: Woo
) -> None:
    (delivery,) = await order_deliveries(woo)
    response = await post(client, delivery.headers, delivery.body)
    assert response.status_code == 200
    assert response.json() == {"accepted": 1, "duplicates": 0, "echoes": 0}
    (item,) = await store.inbox.take(10)
    event = decode_channel_event(item.payload)
    assert (event.kind, event.account, item.account) == (
        ChannelEventType.ORDER_PLACED,
        ACCOUNT,
        ACCOUNT,
    )
    again = await post(client, delivery.headers, delivery.body)
    assert again.json() == {"accepted": 0, "duplicates": 1, "echoes": 0}


async def test_forged_unsigned_and_tampered_webhooks_get_401(
    client: httpx.AsyncClient, store: Store, woo: Woo
) -> None:
    (delivery,) = await order_deliveries(woo)
    tampered = delivery.body.replace(b'"quantity":1', b'"quantity":9', 1)
    assert tampered != delivery.body
    for headers, body, reason in (
        (forged(delivery), delivery.body, "bad webhook signature"),
        (unsigned(delivery), delivery.body, "unsigned webhook"),
        (delivery.headers, tampered, "bad webhook signature"),
    ):
        response = await post(client, headers, body)
        assert (response.status_code, response.json()) == (401, {"error": reason})
    assert await nothing_stored(store)


@pytest.mark.parametrize(
    ("topic", "body", "reason"),
    [
        ("order.created", b"{not json", "malformed order.created payload"),
        ("order.created", b'{"id": "seven"}', "malformed order.created payload"),
        ("", b"{}", "missing or unknown webhook topic"),
    ],
)
async def test_signed_but_malformed_webhooks_get_400_with_the_reason(
    client: httpx.AsyncClient, store: Store, topic: str, body: bytes, reason: str
) -> None:
    headers = {
        "x-wc-webhook-signature": signature(WEBHOOK_SECRET, body),
        "x-wc-webhook-topic": topic,
        "content-type": "application/json",
    }
    response = await post(client, headers, body)
    assert (response.status_code, response.json()) == (400, {"error": reason})
    assert await nothing_stored(store)


async def test_an_oversized_body_gets_413_declared_or_streamed(
    client: httpx.AsyncClient, store: Store
) -> None:
    big = b"x" * 20_001
    declared = await client.post(URL, content=big)
    assert declared.status_code == 413

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(30):
            yield b"y" * 1_000

    streamed = await client.post(URL, content=chunks())
    assert streamed.status_code == 413
    assert "larger than 20000 bytes" in streamed.json()["error"]
    assert await nothing_stored(store)


async def test_unknown_accounts_and_other_methods_are_refused(client: httpx.AsyncClient) -> None:
    assert (await client.post("/webhooks/nobody", content=b"{}")).status_code == 404
    assert (await client.get(URL)).status_code == 405
    assert (await client.post("/elsewhere", content=b"{}")).status_code == 404
    for path in ("/webhooks/", f"{URL}/more", "/webhooks"):
        refused = await client.post(path, content=b"{}")
        assert (refused.status_code, refused.json()) == (404, {"error": "no such route"})
    for method in ("PUT", "DELETE", "PATCH"):
        refused = await client.request(method, URL, content=b"{}")
        assert (refused.status_code, refused.json()) == (405, {"error": "method not allowed"})


async def test_the_app_acknowledges_the_lifespan_protocol(store: Store, woo: Woo) -> None:
    app = webhook_app({ACCOUNT: woo.adapter}, store.inbox)
    messages: list[dict[str, object]] = [
        {"type": "lifespan.startup"},
        {"type": "lifespan.shutdown"},
    ]
    incoming = iter(messages)
    sent: list[object] = []

    async def receive() -> dict[str, object]:
        return next(incoming)

    async def send(message: object) -> None:
        sent.append(message)

    await app({"type": "lifespan"}, receive, send)
    assert sent == [
        {"type": "lifespan.startup.complete"},
        {"type": "lifespan.shutdown.complete"},
    ]


async def test_the_activation_ping_is_accepted_and_stores_nothing(
    client: httpx.AsyncClient, store: Store
) -> None:
    headers = {"content-type": "application/x-www-form-urlencoded"}
    response = await post(client, headers, b"webhook_id=3")
    assert (response.status_code, response.json()["accepted"]) == (200, 0)
    assert await nothing_stored(store)


async def test_echoes_of_our_own_writes_are_dropped(
    client: httpx.AsyncClient, store: Store, woo: Woo
) -> None:
    refs = await woo.harness.seed(2)
    await woo.harness.subscribe_webhooks(("product.updated",))
    await woo.adapter.push(updates_for(refs, base=30))
    echoes = await woo.harness.deliveries()
    await woo.harness.change_externally(refs[0], 3)
    (external,) = await woo.harness.deliveries()
    answers = [(await post(client, d.headers, d.body)).json() for d in [*echoes, external]]
    assert [a["echoes"] for a in answers] == [1, 1, 0]
    assert [a["accepted"] for a in answers] == [0, 0, 1]
    (item,) = await store.inbox.take(10)
    assert decode_channel_event(item.payload).quantity == 3


class _BusyInbox(DelegatingInbox):
    """The real inbox, except that the store stays contended on put."""

    async def put(self, messages: Sequence[InboxMessage]) -> list[bool]:
        raise StorageBusyError("gave up after 30 attempts")


async def test_a_busy_store_answers_503_so_the_platform_retries(store: Store, woo: Woo) -> None:
    (delivery,) = await order_deliveries(woo)
    app = webhook_app({ACCOUNT: woo.adapter}, _BusyInbox(store.inbox))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://omnistock.test") as http:
        response = await post(http, delivery.headers, delivery.body)
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"


async def test_a_repeated_header_counts_by_its_first_value(
    client: httpx.AsyncClient, store: Store, woo: Woo
) -> None:
    (delivery,) = await order_deliveries(woo)
    name = next(k for k in delivery.headers if k.lower() == SIGNATURE_HEADER)
    rest = [(k, v) for k, v in delivery.headers.items() if k != name]
    good, bad = delivery.headers[name], "bm90IHRoZSBzaWduYXR1cmU="
    refused = await client.post(
        URL, headers=[*rest, (name, bad), (name, good)], content=delivery.body
    )
    assert refused.status_code == 401
    assert await nothing_stored(store)
    taken = await client.post(
        URL, headers=[*rest, (name, good), (name, bad)], content=delivery.body
    )
    assert taken.json() == {"accepted": 1, "duplicates": 0, "echoes": 0}
