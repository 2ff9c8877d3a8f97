"""Notifications for the sandbox: LISTINGS_ITEM_MFN_QUANTITY_CHANGE and ORDER_CHANGE envelopes
with NotificationId, handed to the stand-in bridge that POSTs them signed to a receiver."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import uuid

import httpx

from omnistock.kit.sandbox.amazon.notifications_api import NotificationsApi
from omnistock.kit.sandbox.amazon.representation import Obj, iso
from omnistock.kit.sandbox.amazon.store import Listing, Order
from omnistock.kit.sandbox.common.clock import SandboxClock
from omnistock.kit.sandbox.common.faults import FaultInjector
from omnistock.kit.sandbox.common.outbound import Delivery, DeliveryOutcome, Rendered, WebhookSender

TYPES = ("LISTINGS_ITEM_MFN_QUANTITY_CHANGE", "ORDER_CHANGE")
SIGNATURE_HEADER = "X-Omnistock-Bridge-Signature"
APPLICATION_ID = "amzn1.sellerapps.app.omnistock-sandbox"


def sign(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


class Notifications:
    """Subscriptions by notification type, and the bridge that delivers each message."""

    def __init__(
        self,
        *,
        seller_id: str,
        marketplace_id: str,
        secret: str,
        clock: SandboxClock,
        faults: FaultInjector,
        client: httpx.AsyncClient | None,
    ) -> None:
        self._seller_id = seller_id
        self._marketplace = marketplace_id
        self._secret = secret
        self._clock = clock
        self.subscriptions: dict[str, tuple[str, str]] = {}  # type → (subscription id, URL)
        # Made through the Notifications API: delivered to the destination's queue or event
        # bus, which the merchant's bridge (`bridges`: the destination's key → URL) reads.
        self.api = NotificationsApi(APPLICATION_ID)
        self.bridges: dict[str, str] = {}
        self.sender = WebhookSender(clock=clock, faults=faults, listener=self, client=client)

    def subscribe(self, notification_type: str, url: str) -> str:
        if notification_type not in TYPES:
            raise ValueError(
                f"unsupported type {notification_type!r}; the sandbox sends {', '.join(TYPES)}"
            )
        subscription_id = str(uuid.uuid4())
        self.subscriptions[notification_type] = (subscription_id, url)
        return subscription_id

    async def run(self) -> None:
        await self.sender.run()

    async def idle(self) -> None:
        await asyncio.sleep(0)
        await self.sender.wait_idle()

    def delivered(self, outcome: DeliveryOutcome) -> None:
        """SQS keeps a message until it is consumed; the bridge retrying is not modelled."""

    # --- StoreObserver ---

    def quantity_changed(self, listing: Listing) -> None:
        self._publish(
            "LISTINGS_ITEM_MFN_QUANTITY_CHANGE",
            {
                "SellerId": self._seller_id,
                "FulfillmentChannelCode": "DEFAULT",
                "Sku": listing.sku,
                "Quantity": listing.quantity or 0,
            },
        )

    def order_changed(self, order: Order) -> None:
        self._publish(
            "ORDER_CHANGE",
            {
                "OrderChangeNotification": {
                    "NotificationLevel": "OrderLevel",
                    "SellerId": self._seller_id,
                    "AmazonOrderId": order.id,
                    "OrderChangeType": "OrderStatusChange",
                    "OrderChangeTrigger": {
                        "TimeOfOrderChange": iso(order.updated),
                        "ChangeReason": "Order status changed",
                    },
                    "Summary": {
                        "MarketplaceId": self._marketplace,
                        "OrderStatus": order.status,
                        "PurchaseDate": iso(order.created),
                        "FulfillmentType": "MFN",
                        "OrderType": "StandardOrder",
                        "OrderItems": [
                            {
                                "OrderItemId": i.item_id,
                                "SellerSKU": i.sku,
                                "Quantity": i.quantity,
                                "QuantityShipped": 0,
                            }
                            for i in order.items
                        ],
                    },
                }
            },
        )

    def _publish(self, notification_type: str, payload: Obj) -> None:
        for subscription_id, url in self._routes(notification_type):
            self._send(notification_type, payload, subscription_id, url)

    def _routes(self, notification_type: str) -> list[tuple[str, str]]:
        """(subscription id, URL) for each way a notification of this type is delivered."""
        routes = []
        if notification_type in self.subscriptions:
            routes.append(self.subscriptions[notification_type])
        found = self.api.destination_of(notification_type)
        if found is not None and found[1].key in self.bridges:
            routes.append((found[0], self.bridges[found[1].key]))
        return routes

    def _send(self, notification_type: str, payload: Obj, subscription_id: str, url: str) -> None:
        now = iso(self._clock.now())
        envelope = {
            "NotificationVersion": "1.0",
            "NotificationType": notification_type,
            "PayloadVersion": "1.0",
            "EventTime": now,
            "Payload": payload,
            "NotificationMetadata": {
                "ApplicationId": APPLICATION_ID,
                "SubscriptionId": subscription_id,
                "PublishTime": now,
                "NotificationId": str(uuid.uuid4()),
            },
        }
        body = json.dumps(envelope, separators=(",", ":")).encode()
        headers = (
            ("Content-Type", "application/json"),
            (SIGNATURE_HEADER, sign(self._secret, body)),
        )
        rendered = Rendered(body=body, headers=headers)
        # The body is fixed now: a duplicate carries the same NotificationId, as SQS's would.
        self.sender.enqueue(
            Delivery(
                subscription_id=TYPES.index(notification_type),  # one subscription per type
                topic=notification_type,
                url=url,
                render=lambda: rendered,
            )
        )
