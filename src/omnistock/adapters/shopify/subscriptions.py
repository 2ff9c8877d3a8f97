"""Shopify webhook registration through the Admin GraphQL API (2026-04): the
`webhookSubscriptions` query and the `webhookSubscriptionCreate`/`Delete` mutations, for
the topics events.py reads, delivered to one `uri`.

Shopify scopes subscriptions made through the API to the app that made them, so every
subscription the account's token lists is omnistock's own (the account's credentials are
omnistock's app): one of these topics delivering elsewhere is an old address, removed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from omnistock.adapters.base import Subscription, SubscriptionReport
from omnistock.adapters.subscribing import Held, Plan, plan_register, plan_remove

# What events.WebhookParser turns into stock facts.
TOPICS = ("INVENTORY_LEVELS_UPDATE", "ORDERS_CREATE", "ORDERS_CANCELLED", "REFUNDS_CREATE")
PAGE = 100
LIST_COST = 2 + PAGE  # the connection, pageInfo, and one per node (scalars are free)
MUTATION_COST = 10
TAKEN = "has already been taken"  # Shopify's userError for a duplicate topic and address

LIST = """
query WebhookSubscriptions($first: Int!, $after: String, $topics: [WebhookSubscriptionTopic!]) {
  webhookSubscriptions(first: $first, after: $after, topics: $topics) {
    nodes { id topic uri }
    pageInfo { hasNextPage endCursor }
  }
}"""
CREATE = """
mutation WebhookSubscriptionCreate($topic: WebhookSubscriptionTopic!, $uri: String!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: {uri: $uri, format: JSON}) {
    webhookSubscription { id topic uri }
    userErrors { field message }
  }
}"""
DELETE = """
mutation WebhookSubscriptionDelete($id: ID!) {
  webhookSubscriptionDelete(id: $id) {
    deletedWebhookSubscriptionId
    userErrors { field message }
  }
}"""
DOCUMENTS = (LIST, CREATE, DELETE)


class GraphQL(Protocol):
    async def __call__(self, query: str, variables: Mapping[str, object], cost: float) -> object:
        """The answer's body; raises the ChannelError a failed call means."""
        ...


def _data(body: object, field: str) -> dict[str, object]:
    data = body.get("data") if isinstance(body, dict) else None
    found = data.get(field) if isinstance(data, dict) else None
    if not isinstance(found, dict):
        raise ValueError(f"no {field} in the answer")
    return found


def _subscription(node: object) -> Subscription:
    if not isinstance(node, dict):
        raise ValueError("subscription is not an object")
    return Subscription(topic=str(node["topic"]), target=str(node["uri"]), id=str(node["id"]))


def page_of(body: object) -> tuple[list[Held], str | None]:
    """One `webhookSubscriptions` page: what it holds, and the cursor of the next (None:
    the last). Raises ValueError (KeyError included) when the answer is not one."""
    found = _data(body, "webhookSubscriptions")
    nodes, info = found["nodes"], found["pageInfo"]
    if not isinstance(nodes, list) or not isinstance(info, dict):
        raise ValueError("malformed webhookSubscriptions")
    held = [Held(subscription=_subscription(n), ours=True) for n in nodes]
    return held, (str(info["endCursor"]) if info.get("hasNextPage") else None)


def user_errors(payload: Mapping[str, object]) -> list[str]:
    errors = payload.get("userErrors") or []
    if not isinstance(errors, list):
        raise ValueError("malformed userErrors")
    return [str(e.get("message")) for e in errors if isinstance(e, dict)]


async def held(graphql: GraphQL) -> list[Held]:
    found: list[Held] = []
    after: str | None = None
    while True:
        variables = {"first": PAGE, "after": after, "topics": list(TOPICS)}
        page, after = page_of(await graphql(LIST, variables, LIST_COST))
        found += page
        if after is None:
            return found


async def register(graphql: GraphQL, target: str) -> SubscriptionReport:
    plan = plan_register(await held(graphql), TOPICS, target)
    created = [await _create(graphql, topic, target) for topic in plan.create]
    await _remove(graphql, plan)
    return plan.report([sub for sub in created if sub is not None])


async def remove(graphql: GraphQL, target: str) -> SubscriptionReport:
    plan = plan_remove(await held(graphql), TOPICS, target)
    await _remove(graphql, plan)
    return plan.report(())


async def _create(graphql: GraphQL, topic: str, target: str) -> Subscription | None:
    """The subscription made; None when another caller made it meanwhile (Shopify answers
    "Address for this topic has already been taken"). Raises ValueError on other refusals."""
    payload = _data(
        await graphql(CREATE, {"topic": topic, "uri": target}, MUTATION_COST),
        "webhookSubscriptionCreate",
    )
    errors = user_errors(payload)
    if errors and all(TAKEN in e for e in errors):
        return None
    if errors:
        raise ValueError(f"webhookSubscriptionCreate {topic} refused: {'; '.join(errors)}")
    return _subscription(payload["webhookSubscription"])


async def _remove(graphql: GraphQL, plan: Plan) -> None:
    for sub in plan.remove:
        payload = _data(
            await graphql(DELETE, {"id": sub.id}, MUTATION_COST), "webhookSubscriptionDelete"
        )
        errors = [e for e in user_errors(payload) if "does not exist" not in e]  # gone anyway
        if errors:
            raise ValueError(f"webhookSubscriptionDelete {sub.id} refused: {'; '.join(errors)}")
