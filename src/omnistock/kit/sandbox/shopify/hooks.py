"""Shopify webhooks: subscriptions, REST-shaped payloads, the seven headers, HMAC signing,
and retries (8 over 4 hours with exponential backoff, in platform time).

Payloads are built when the event fires and a retry re-sends the same bytes and webhook id."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import httpx

from omnistock.kit.sandbox.common.clock import SandboxClock
from omnistock.kit.sandbox.common.faults import FaultInjector
from omnistock.kit.sandbox.common.outbound import Delivery, DeliveryOutcome, Rendered, WebhookSender
from omnistock.kit.sandbox.shopify.representation import Obj, gid, iso
from omnistock.kit.sandbox.shopify.schema import API_VERSION
from omnistock.kit.sandbox.shopify.store import InventoryItem, Level, Order, OrderLineItem, Refund

TOPICS = ("inventory_levels/update", "orders/create", "orders/cancelled", "refunds/create")
TIMEOUT_S = 5.0
RETRIES = 8
RETRY_WINDOW_S = 4 * 3600.0


def retry_delays(retries: int = RETRIES, window_s: float = RETRY_WINDOW_S) -> tuple[float, ...]:
    """Doubling delays that add up to the window: 56 s, 113 s, ... 2 h for 8 over 4 h."""
    unit = window_s / (2**retries - 1)
    return tuple(unit * 2**n for n in range(retries))


def sign(secret: str, body: bytes) -> str:
    """X-Shopify-Hmac-Sha256: base64(HMAC-SHA256(app client secret, raw body))."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


@dataclass(slots=True)
class Subscription:
    id: int
    topic: str  # slash form, as deliveries name it (orders/create)
    uri: str
    created_at: float = 0.0
    failures: int = 0  # consecutive failed deliveries


@dataclass(frozen=True, slots=True)
class _Payload:
    """The render of one delivery; fixed at trigger time, so retries send the same bytes."""

    webhook_id: str
    rendered: Rendered

    def __call__(self) -> Rendered:
        return self.rendered


@dataclass(slots=True)
class _Retry:
    due: float
    delivery: Delivery
    attempt: int


@dataclass(slots=True)
class ShopifyWebhooks:
    """Subscriptions plus the sender; observes the store (StoreObserver) and fires topics."""

    shop_domain: str
    secret: str
    clock: SandboxClock
    faults: FaultInjector
    client: httpx.AsyncClient | None
    subscriptions: dict[int, Subscription] = field(default_factory=dict)
    sender: WebhookSender = field(init=False)
    _retries: list[_Retry] = field(default_factory=list)
    _attempts: dict[str, int] = field(default_factory=dict)
    _delays: tuple[float, ...] = field(default_factory=retry_delays)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        self.sender = WebhookSender(
            clock=self.clock,
            faults=self.faults,
            listener=self,
            client=self.client,
            timeout_s=TIMEOUT_S,
        )

    def subscribe(self, topic: str, uri: str) -> Subscription:
        if topic not in TOPICS:
            raise ValueError(f"unsupported topic {topic!r}; the sandbox sends {', '.join(TOPICS)}")
        return self.add(topic, uri)

    def add(self, topic: str, uri: str) -> Subscription:
        """Any topic (the API accepts every one; the sandbox fires only TOPICS)."""
        sub = Subscription(id=next(self._ids), topic=topic, uri=uri, created_at=self.clock.now())
        self.subscriptions[sub.id] = sub
        return sub

    async def run(self) -> None:
        """Send deliveries, and re-send failed ones when their retry is due."""
        async with asyncio.TaskGroup() as tg:
            tg.create_task(self.sender.run())
            while True:
                self.release_due()
                await asyncio.sleep(0.05)

    def release_due(self) -> None:
        now = self.clock.now()
        due = [r for r in self._retries if r.due <= now]
        self._retries = [r for r in self._retries if r.due > now]
        for retry in due:
            self.sender.enqueue(retry.delivery)

    # --- StoreObserver ---

    def level_changed(self, item: InventoryItem, location_id: int, level: Level) -> None:
        self._fire("inventory_levels/update", _level_payload(item, location_id, level))

    def order_created(self, order: Order) -> None:
        self._fire("orders/create", order_payload(order))

    def order_cancelled(self, order: Order) -> None:
        self._fire("orders/cancelled", order_payload(order))

    def refund_created(self, order: Order, refund: Refund) -> None:
        self._fire("refunds/create", _refund_payload(order, refund))

    def _fire(self, topic: str, payload: Obj) -> None:
        body = json.dumps(payload, separators=(",", ":")).encode()
        triggered = iso(self.clock.now())
        event_id = str(uuid.uuid4())
        for sub in list(self.subscriptions.values()):
            if sub.topic == topic:
                webhook_id = str(uuid.uuid4())
                headers = self._headers(sub, body, (webhook_id, triggered, event_id))
                render = _Payload(webhook_id, Rendered(body=body, headers=headers))
                self.sender.enqueue(
                    Delivery(subscription_id=sub.id, topic=topic, url=sub.uri, render=render)
                )

    def _headers(
        self, sub: Subscription, body: bytes, ids: tuple[str, str, str]
    ) -> tuple[tuple[str, str], ...]:
        webhook_id, triggered, event_id = ids
        return (
            ("Content-Type", "application/json"),
            ("X-Shopify-Topic", sub.topic),
            ("X-Shopify-Hmac-Sha256", sign(self.secret, body)),
            ("X-Shopify-Shop-Domain", self.shop_domain),
            ("X-Shopify-API-Version", API_VERSION),
            ("X-Shopify-Webhook-Id", webhook_id),
            ("X-Shopify-Triggered-At", triggered),
            ("X-Shopify-Event-Id", event_id),
        )

    # --- DeliveryListener ---

    def delivered(self, outcome: DeliveryOutcome) -> None:
        delivery = outcome.delivery
        sub = self.subscriptions.get(delivery.subscription_id)
        render = delivery.render
        if sub is None or not isinstance(render, _Payload):
            return
        if outcome.status is not None and 200 <= outcome.status < 300:
            sub.failures = 0
            self._attempts.pop(render.webhook_id, None)
            return
        sub.failures += 1
        attempt = self._attempts.get(render.webhook_id, 0)
        if attempt < len(self._delays):
            self._attempts[render.webhook_id] = attempt + 1
            self._retries.append(
                _Retry(self.clock.now() + self._delays[attempt], delivery, attempt + 1)
            )
        elif sub.failures >= RETRIES:
            # ⚠️ third-party: a subscription made through the API is removed after 8 failures.
            del self.subscriptions[sub.id]


def _level_payload(item: InventoryItem, location_id: int, level: Level) -> Obj:
    return {
        "inventory_item_id": item.id,
        "location_id": location_id,
        "available": level.available,
        "updated_at": iso(level.updated_at),
        "admin_graphql_api_id": f"{gid('InventoryLevel', location_id)}?inventory_item_id={item.id}",
    }


def order_payload(order: Order) -> Obj:
    """The REST order resource, trimmed to what inventory sync reads."""
    return {
        "id": order.id,
        "admin_graphql_api_id": gid("Order", order.id),
        "name": f"#{order.number}",
        "order_number": order.number,
        "created_at": iso(order.created_at),
        "updated_at": iso(order.updated_at),
        "cancelled_at": None if order.cancelled_at is None else iso(order.cancelled_at),
        "location_id": order.location_id,
        "financial_status": "paid",
        "line_items": [_line_payload(line) for line in order.lines],
    }


def _line_payload(line: OrderLineItem) -> Obj:
    return {
        "id": line.id,
        "variant_id": line.variant_id,
        "sku": line.sku,
        "name": line.title,
        "quantity": line.quantity,
        "current_quantity": line.quantity - line.restocked,
        "admin_graphql_api_id": gid("LineItem", line.id),
    }


def _refund_payload(order: Order, refund: Refund) -> Obj:
    restock_type = "return" if refund.restock else "no_restock"
    return {
        "id": refund.id,
        "order_id": order.id,
        "created_at": iso(refund.created_at),
        "admin_graphql_api_id": gid("Refund", refund.id),
        "refund_line_items": [
            {
                "id": refund.id * 1000 + n,
                "line_item_id": line.id,
                "quantity": quantity,
                "restock_type": restock_type,
                "location_id": order.location_id,
                "line_item": _line_payload(line),
            }
            for n, (line, quantity) in enumerate(refund.lines)
        ],
    }
