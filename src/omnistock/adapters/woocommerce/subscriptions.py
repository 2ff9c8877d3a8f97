"""WooCommerce webhook registration through `/wp-json/wc/v3/webhooks`: the topics the adapter
consumes, delivered to one URL, signed with the account's webhook secret.

omnistock's own webhooks are those whose `name` starts with "omnistock" (it names each
"omnistock <topic>"); a disabled one (WooCommerce disables a webhook after repeated
failed deliveries) is switched back on, with the current secret."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from omnistock.adapters.base import Subscription, SubscriptionReport
from omnistock.adapters.secrets import Secret
from omnistock.adapters.subscribing import OWN_PREFIX, Held, Plan, plan_register, plan_remove

# What events.WebhookParser turns into stock facts (the .restored topics are rare and
# followed by an .updated one).
TOPICS = ("order.created", "order.updated", "product.updated")
PER_PAGE = 100


class Caller(Protocol):
    async def __call__(
        self,
        method: str,
        path: str,
        *,
        json: object = None,
        params: Mapping[str, str] | None = None,
    ) -> object: ...


def held_webhooks(page: object) -> list[Held]:
    """A `GET webhooks` page as held subscriptions. Raises ValueError if it is not one."""
    if not isinstance(page, list):
        raise ValueError("webhooks answer is not a list")
    return [_held(row) for row in page]


def _held(row: object) -> Held:
    if not isinstance(row, dict) or not isinstance(row.get("id"), int):
        raise ValueError("webhook without an id")
    sub = Subscription(
        topic=str(row.get("topic", "")), target=str(row.get("delivery_url", "")), id=str(row["id"])
    )
    name = str(row.get("name") or "")
    return Held(
        subscription=sub, ours=name.startswith(OWN_PREFIX), active=row.get("status") == "active"
    )


def create_body(topic: str, target: str, secret: Secret) -> dict[str, str]:
    return {
        "name": f"{OWN_PREFIX} {topic}",
        "topic": topic,
        "delivery_url": target,
        "secret": secret.reveal(),
        "status": "active",
    }


async def held(call: Caller) -> list[Held]:
    """Every webhook of the site, page by page."""
    found: list[Held] = []
    page = 1
    while True:
        params = {"per_page": str(PER_PAGE), "page": str(page), "status": "all"}
        rows = held_webhooks(await call("GET", "webhooks", params=params))
        found += rows
        if len(rows) < PER_PAGE:
            return found
        page += 1


async def register(call: Caller, target: str, secret: Secret) -> SubscriptionReport:
    plan = plan_register(await held(call), TOPICS, target)
    for sub in plan.reactivate:
        await call(
            "PUT", f"webhooks/{sub.id}", json={"status": "active", "secret": secret.reveal()}
        )
    created = [await _create(call, topic, target, secret) for topic in plan.create]
    await _remove(call, plan)
    return plan.report(created)


async def remove(call: Caller, target: str) -> SubscriptionReport:
    plan = plan_remove(await held(call), TOPICS, target)
    await _remove(call, plan)
    return plan.report(())


async def _create(call: Caller, topic: str, target: str, secret: Secret) -> Subscription:
    answer = await call("POST", "webhooks", json=create_body(topic, target, secret))
    return _held(answer).subscription


async def _remove(call: Caller, plan: Plan) -> None:
    for sub in plan.remove:
        await call("DELETE", f"webhooks/{sub.id}", params={"force": "true"})
