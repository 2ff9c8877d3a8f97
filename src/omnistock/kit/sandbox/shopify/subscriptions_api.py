"""The webhook subscription surface of the Admin API: the `webhookSubscriptions` query and
the `webhookSubscriptionCreate`/`webhookSubscriptionDelete` mutations, over the store's
subscriptions (`hooks.ShopifyWebhooks`), so what an app subscribes is what gets delivered.

Topics are the GraphQL enum (ORDERS_CREATE); deliveries name them in slash form."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from omnistock.kit.sandbox.shopify.hooks import ShopifyWebhooks, Subscription
from omnistock.kit.sandbox.shopify.representation import Obj, connection, gid, iso, parse_gid
from omnistock.kit.sandbox.shopify.schema import API_VERSION

TAKEN = "Address for this topic has already been taken"


def slash_topic(enum_topic: str) -> str:
    """ORDERS_CREATE → orders/create, INVENTORY_LEVELS_UPDATE → inventory_levels/update."""
    resource, _, event = enum_topic.lower().rpartition("_")
    return f"{resource}/{event}"


def enum_topic(topic: str) -> str:
    return topic.replace("/", "_").upper()


def _node(sub: Subscription) -> Obj:
    return {
        "id": gid("WebhookSubscription", sub.id),
        "legacyResourceId": str(sub.id),
        "topic": enum_topic(sub.topic),
        "uri": sub.uri,
        "callbackUrl": sub.uri,
        "endpoint": {"__typename": "WebhookHttpEndpoint", "callbackUrl": sub.uri},
        "format": "JSON",
        "includeFields": [],
        "metafieldNamespaces": [],
        "filter": None,
        "apiVersion": {"handle": API_VERSION, "displayName": API_VERSION, "supported": True},
        "createdAt": iso(sub.created_at),
        "updatedAt": iso(sub.created_at),
    }


def _user_error(field: Sequence[str], message: str) -> Obj:
    return {"field": list(field), "message": message}


class WebhookSubscriptionsApi:
    """Resolvers for the subscription fields of QueryRoot and Mutation."""

    def __init__(self, webhooks: ShopifyWebhooks) -> None:
        self._webhooks = webhooks

    def query_root(self) -> Obj:
        return {"webhookSubscriptions": self.subscriptions}

    def mutation_root(self) -> Obj:
        return {
            "webhookSubscriptionCreate": self.create,
            "webhookSubscriptionDelete": self.delete,
        }

    def subscriptions(
        self,
        _info: object,
        first: int | None = None,
        after: str | None = None,
        topics: Sequence[str] | None = None,
        uri: str | None = None,
        callbackUrl: str | None = None,  # noqa: N803 - the GraphQL argument name
        **_: Any,
    ) -> Obj:
        wanted = {slash_topic(t) for t in topics} if topics else None
        address = uri or callbackUrl
        found = [
            s
            for s in sorted(self._webhooks.subscriptions.values(), key=lambda s: s.id)
            if (wanted is None or s.topic in wanted) and (address is None or s.uri == address)
        ]
        return connection(found, lambda s: s.id, _node, first=first, after=after)

    def create(
        self,
        _info: object,
        topic: str,
        webhookSubscription: Mapping[str, Any],  # noqa: N803 - the GraphQL argument name
    ) -> Obj:
        field = "uri" if webhookSubscription.get("uri") is not None else "callbackUrl"
        address = webhookSubscription.get(field)
        path = ["webhookSubscription", field]
        if not isinstance(address, str) or not address:
            return {
                "webhookSubscription": None,
                "userErrors": [_user_error(path, "Address can't be blank")],
            }
        # Shopify sends to HTTPS only; plain http is accepted for local runs (see README).
        if not address.startswith(("https://", "http://")):
            return {
                "webhookSubscription": None,
                "userErrors": [_user_error(path, "Address is invalid")],
            }
        slash = slash_topic(topic)
        if any(
            s.topic == slash and s.uri == address for s in self._webhooks.subscriptions.values()
        ):
            return {"webhookSubscription": None, "userErrors": [_user_error(path, TAKEN)]}
        sub = self._webhooks.add(slash, address)
        return {"webhookSubscription": _node(sub), "userErrors": []}

    def delete(self, _info: object, id: str) -> Obj:
        number = parse_gid(id, "WebhookSubscription")
        if number is None or self._webhooks.subscriptions.pop(number, None) is None:
            return {
                "deletedWebhookSubscriptionId": None,
                "userErrors": [_user_error(["id"], "Webhook subscription does not exist")],
            }
        return {"deletedWebhookSubscriptionId": id, "userErrors": []}
