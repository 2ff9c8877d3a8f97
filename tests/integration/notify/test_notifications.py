"""Downstream notifications: signed webhook deliveries with retries, subscriptions over
HTTP, and the live SSE stream over a real socket."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from omnistock.api.app import create_api
from omnistock.clock import ManualClock, ManualTimer, SystemTimer
from omnistock.ledger.notifications import Topic
from omnistock.ledger.store import Store
from omnistock.notify.deliverer import DeliveryPolicy, WebhookDeliverer
from omnistock.notify.signing import HEADER, verify
from omnistock.security.tokens import Scope, new_token
from tests.serving import served

NOW = datetime(2026, 11, 27, 12, tzinfo=UTC)


class Receiver:
    """A subscriber's endpoint: records what arrives, fails the first `failures` times."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.app = Starlette(routes=[Route("/hook", self._hook, methods=["POST"])])

    async def _hook(self, request: Request) -> Response:
        if self.failures > 0:
            self.failures -= 1
            return Response(status_code=503)
        self.received.append((dict(request.headers), await request.body()))
        return Response(status_code=204)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(f"sqlite:///{tmp_path / 'n.db'}")
    yield opened
    await opened.close()


def _deliverer(store: Store, receiver: Receiver, clock: ManualClock) -> WebhookDeliverer:
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=receiver.app))
    policy = DeliveryPolicy(max_attempts=3, base_s=1.0, cap_s=10.0)
    return WebhookDeliverer(
        store, client, clock, ManualTimer(), policy=policy, rng=random.Random(1)
    )


async def test_a_delivery_is_signed_and_reaches_only_its_topic(store: Store) -> None:
    clock = ManualClock(NOW)
    receiver = Receiver()
    sub, secret = await store.notifications.subscribe(
        "http://erp/hook", frozenset({Topic.ORDER_OVERSOLD})
    )
    await store.notifications.publish(Topic.STOCK_CHANGED, {"sku": "A", "available": 3}, NOW)
    nid = await store.notifications.publish(Topic.ORDER_OVERSOLD, {"order": "o-1"}, NOW)
    report = await _deliverer(store, receiver, clock).run_once()
    assert report.delivered == 1
    [(headers, body)] = receiver.received
    assert json.loads(body) == {"order": "o-1"}
    assert headers["x-omnistock-topic"] == "order.oversold"
    assert headers["x-omnistock-delivery"] == str(nid)
    assert verify(secret, headers[HEADER.lower()], body, int(NOW.timestamp()))
    assert not verify(secret, headers[HEADER.lower()], body + b" ", int(NOW.timestamp()))
    assert not verify(secret, headers[HEADER.lower()], body, int(NOW.timestamp()) + 3600)
    assert sub.id.startswith("sub_")


async def test_failures_are_retried_with_backoff_then_given_up(store: Store) -> None:
    clock = ManualClock(NOW)
    flaky = Receiver(failures=1)
    await store.notifications.subscribe("http://erp/hook", frozenset(Topic))
    await store.notifications.publish(Topic.CHANNEL_DEGRADED, {"account": "woo-eu"}, NOW)
    deliverer = _deliverer(store, flaky, clock)
    assert (await deliverer.run_once()).retried == 1
    assert (await deliverer.run_once()).retried == 0  # not due yet: the backoff holds it
    clock.advance(timedelta(seconds=11))
    assert (await deliverer.run_once()).delivered == 1
    dead = Receiver(failures=100)
    await store.notifications.publish(Topic.CHANNEL_DEGRADED, {"account": "woo-us"}, NOW)
    deliverer = _deliverer(store, dead, clock)
    outcomes = []
    for _ in range(4):
        clock.advance(timedelta(seconds=11))
        outcomes.append(await deliverer.run_once())
    assert [(r.retried, r.failed) for r in outcomes] == [(1, 0), (1, 0), (0, 1), (0, 0)]


async def test_unsubscribed_gets_nothing_new(store: Store) -> None:
    clock = ManualClock(NOW)
    receiver = Receiver()
    sub, _ = await store.notifications.subscribe("http://erp/hook", frozenset(Topic))
    assert await store.notifications.unsubscribe(sub.id) is True
    await store.notifications.publish(Topic.STOCK_CHANGED, {"sku": "A"}, NOW)
    assert (await _deliverer(store, receiver, clock).run_once()).delivered == 0


async def _admin(store: Store) -> str:
    token, stored = new_token()
    await store.tokens.create("ops", Scope.ADMIN.value, stored, NOW)
    return token.reveal()


async def test_subscriptions_over_http(store: Store) -> None:
    token = await _admin(store)
    app = create_api(store, ManualClock(NOW), SystemTimer())
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://api",
        headers={"Authorization": f"Bearer {token}"},
    ) as http:
        created = await http.post(
            "/v1/subscriptions",
            json={"url": "https://erp.example/hook", "topics": ["stock.changed"]},
        )
        assert created.status_code == 201
        assert created.json()["secret"].startswith("whsec_")
        bad = await http.post(
            "/v1/subscriptions", json={"url": "ftp://x", "topics": ["stock.changed"]}
        )
        assert bad.status_code == 422
        unknown_topic = await http.post(
            "/v1/subscriptions", json={"url": "https://x", "topics": ["nope"]}
        )
        assert unknown_topic.status_code == 422
        listed = await http.get("/v1/subscriptions")
        assert [s["topics"] for s in listed.json()] == [["stock.changed"]]
        sid = created.json()["id"]
        assert (await http.delete(f"/v1/subscriptions/{sid}")).status_code == 204
        assert (await http.delete(f"/v1/subscriptions/{sid}")).status_code == 404
        assert (await http.get("/v1/stream?topic=nope")).status_code == 422


async def _next_event(lines: AsyncIterator[str]) -> dict[str, str]:
    event: dict[str, str] = {}
    async for line in lines:
        if not line:
            if event:
                return event
            continue
        if not line.startswith(":"):
            field, _, value = line.partition(": ")
            event[field] = value
    raise AssertionError("stream ended")


async def test_the_stream_delivers_live_and_resumes_after_last_event_id(store: Store) -> None:
    token = await _admin(store)
    app = create_api(store, ManualClock(NOW), SystemTimer())
    headers = {"Authorization": f"Bearer {token}"}
    async with served(app) as base, httpx.AsyncClient(base_url=base, headers=headers) as http:
        async with http.stream("GET", "/v1/stream?topic=stock.changed") as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            lines = response.aiter_lines()
            await store.notifications.publish(Topic.ORDER_OVERSOLD, {"order": "o"}, NOW)
            nid = await store.notifications.publish(Topic.STOCK_CHANGED, {"sku": "A"}, NOW)
            event = await asyncio.wait_for(_next_event(lines), 5)
            assert event == {"id": str(nid), "event": "stock.changed", "data": '{"sku":"A"}'}
        later = await store.notifications.publish(Topic.STOCK_CHANGED, {"sku": "B"}, NOW)
        resume = {"Last-Event-ID": str(nid)}
        async with http.stream("GET", "/v1/stream", headers=resume) as response:
            event = await asyncio.wait_for(_next_event(response.aiter_lines()), 5)
            assert event["id"] == str(later)
