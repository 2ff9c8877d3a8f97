"""WooCommerce webhooks: subscriptions, topics, signing, ping and the failure threshold.

Follows core `class-wc-webhook.php`: no retries; a failure when failure_count > 5 disables it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from omnistock.kit.sandbox.common.clock import SandboxClock
from omnistock.kit.sandbox.common.faults import FaultInjector
from omnistock.kit.sandbox.common.outbound import Delivery, DeliveryOutcome, Rendered, WebhookSender
from omnistock.kit.sandbox.woocommerce.representation import Json, Site, item_json, order_json
from omnistock.kit.sandbox.woocommerce.store import Item, WooOrder, WooStore

PayloadBuilder = Callable[[], Json]
USER_AGENT = "WooCommerce/9.9.0 Hookshot (WordPress/6.8.1)"
MAX_FAILURES = 5  # filter woocommerce_max_webhook_delivery_failures
RESOURCES = ("coupon", "customer", "order", "product")
EVENTS = ("created", "updated", "deleted", "restored")
HOOKS = {
    "order.created": ["woocommerce_new_order"],
    "order.updated": ["woocommerce_update_order", "woocommerce_order_refunded"],
    "product.updated": ["woocommerce_update_product", "woocommerce_update_product_variation"],
}


def encode_payload(payload: Json) -> bytes:
    """`wp_json_encode`: compact JSON with "/" escaped, as PHP's json_encode does by default."""
    return json.dumps(payload, separators=(",", ":")).replace("/", "\\/").encode()


def sign_payload(secret: str, body: bytes) -> str:
    """X-WC-Webhook-Signature: base64(HMAC-SHA256(secret, exact body bytes))."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def delivery_id(webhook_id: int, unix_time: int, salt: str) -> str:
    """`wp_hash(id . time)`: equal for two deliveries of one webhook in the same second."""
    return hmac.new(salt.encode(), f"{webhook_id}{unix_time}".encode(), hashlib.md5).hexdigest()


def valid_topic(topic: str) -> bool:
    resource, _, event = topic.partition(".")
    return (resource in RESOURCES and event in EVENTS) or (resource == "action" and bool(event))


@dataclass(slots=True, kw_only=True)
class WooWebhook:
    id: int
    name: str
    status: str
    topic: str
    delivery_url: str
    secret: str
    created: int
    modified: int
    failure_count: int = 0
    pending_delivery: bool = True

    @property
    def resource(self) -> str:
        return self.topic.partition(".")[0]

    @property
    def event(self) -> str:
        return self.topic.partition(".")[2]

    def to_json(self, site: Site) -> Json:
        return {
            "id": self.id,
            "name": self.name,
            "status": self.status,
            "topic": self.topic,
            "resource": self.resource,
            "event": self.event,
            "hooks": HOOKS.get(self.topic, []),
            "delivery_url": self.delivery_url,
            **site.dates("date_created", self.created),
            **site.dates("date_modified", self.modified),
            "_links": site.links(f"/webhooks/{self.id}", "/webhooks"),
        }


class WooWebhooks:
    """Subscriptions plus the sender; observes the store and fires the matching topics."""

    def __init__(
        self,
        *,
        site: Site,
        store: WooStore,
        clock: SandboxClock,
        faults: FaultInjector,
        client: httpx.AsyncClient | None,
        salt: str,
    ) -> None:
        self._site, self._store, self._clock, self._salt = site, store, clock, salt
        self.sender = WebhookSender(clock=clock, faults=faults, listener=self, client=client)
        self.hooks: dict[int, WooWebhook] = {}
        self._next_id = 1

    def now(self) -> int:
        return int(self._clock.now())

    def create(self, *, name: str, topic: str, url: str, secret: str, status: str) -> WooWebhook:
        now = self.now()
        hook = WooWebhook(
            id=self._next_id,
            name=name,
            status=status,
            topic=topic,
            delivery_url=url,
            secret=secret,
            created=now,
            modified=now,
        )
        self.hooks[hook.id] = hook
        self._next_id += 1
        return hook

    async def ping(self, hook: WooWebhook) -> int | None:
        """`deliver_ping`: form body webhook_id=N, no signature; only 200 counts as success."""
        rendered = Rendered(
            body=f"webhook_id={hook.id}".encode(),
            headers=(
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("User-Agent", USER_AGENT),
            ),
        )
        delivery = Delivery(
            subscription_id=hook.id, topic="ping", url=hook.delivery_url, render=lambda: rendered
        )
        status = await self.sender.send_now(delivery)
        hook.pending_delivery = status != 200
        return status

    # --- omnistock.kit.sandbox.woocommerce.store.StoreObserver ---

    def product_saved(self, item: Item) -> None:
        self._fire("product.updated", lambda: item_json(self._site, self._store, item))

    def order_saved(self, order: WooOrder, *, created: bool) -> None:
        topic = "order.created" if created else "order.updated"
        self._fire(topic, lambda: order_json(self._site, order))

    def _fire(self, topic: str, payload: PayloadBuilder) -> None:
        for hook in self.hooks.values():
            if hook.status == "active" and hook.topic == topic:
                self.sender.enqueue(self._delivery(hook, payload))

    def _delivery(self, hook: WooWebhook, payload: PayloadBuilder) -> Delivery:
        def render() -> Rendered:
            body = encode_payload(payload())
            return Rendered(body=body, headers=self._headers(hook, body))

        return Delivery(
            subscription_id=hook.id, topic=hook.topic, url=hook.delivery_url, render=render
        )

    def _headers(self, hook: WooWebhook, body: bytes) -> tuple[tuple[str, str], ...]:
        return (
            ("Content-Type", "application/json"),
            ("User-Agent", USER_AGENT),
            ("X-WC-Webhook-Source", self._site.base_url + "/"),
            ("X-WC-Webhook-Topic", hook.topic),
            ("X-WC-Webhook-Resource", hook.resource),
            ("X-WC-Webhook-Event", hook.event),
            ("X-WC-Webhook-Signature", sign_payload(hook.secret, body)),
            ("X-WC-Webhook-ID", str(hook.id)),
            ("X-WC-Webhook-Delivery-ID", delivery_id(hook.id, int(self._clock.now()), self._salt)),
        )

    # --- omnistock.kit.sandbox.common.outbound.DeliveryListener ---

    def delivered(self, outcome: DeliveryOutcome) -> None:
        hook = self.hooks.get(outcome.delivery.subscription_id)
        if hook is None:
            return
        status = outcome.status
        if status is not None and (200 <= status < 300 or status in (301, 302)):
            hook.failure_count = 0
        elif hook.failure_count > MAX_FAILURES:
            # Core checks before incrementing, so the 7th consecutive failure disables.
            hook.status = "disabled"
        else:
            hook.failure_count += 1
