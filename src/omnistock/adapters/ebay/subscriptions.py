"""eBay notification registration through the Notification API v1: the application's config
(an alert email), one destination per endpoint (proved by eBay's challenge, which the
engine's webhook route answers) and a subscription per topic the adapter reads.

omnistock's own destinations are named "omnistock ..."; a subscription is omnistock's when
its destination is. eBay keeps one subscription per topic (⚠️ 195012 "Subscription already
exists"), so an old one of omnistock's is removed before the new one is made."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import parse_qs, urlsplit

from omnistock.adapters.base import Subscription, SubscriptionReport
from omnistock.adapters.secrets import Secret
from omnistock.adapters.subscribing import OWN_PREFIX, Held, Plan, plan_register, plan_remove
from omnistock.domain.errors import PermanentError

PREFIX = "/commerce/notification/v1"
TOPICS = ("ORDER_CONFIRMATION",)  # what notifications.notification_events reads
PAYLOAD = {"format": "JSON", "schemaVersion": "1.0", "deliveryProtocol": "HTTPS"}
PAGE = 100
NAME_LIMIT = 64  # eBay refuses longer destination names (195016)


class Caller(Protocol):
    async def __call__(
        self,
        method: str,
        path: str,
        *,
        json: object = None,
        params: Mapping[str, str] | None = None,
        user: bool = False,  # a subscription call (a user token); else the application's
    ) -> object:
        """The answer's JSON body (None when empty); raises the ChannelError it means."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Destination:
    id: str
    name: str
    endpoint: str
    enabled: bool

    @property
    def ours(self) -> bool:
        return self.name.startswith(OWN_PREFIX)


def destination_of(doc: object) -> Destination:
    if not isinstance(doc, dict):
        raise ValueError("destination is not an object")
    config = doc.get("deliveryConfig")
    endpoint = config.get("endpoint") if isinstance(config, dict) else None
    return Destination(
        id=str(doc["destinationId"]),
        name=str(doc.get("name") or ""),
        endpoint=str(endpoint or ""),
        enabled=doc.get("status") == "ENABLED",
    )


def held_of(doc: object, destinations: Mapping[str, Destination]) -> Held:
    if not isinstance(doc, dict):
        raise ValueError("subscription is not an object")
    dest = destinations.get(str(doc.get("destinationId")))
    sub = Subscription(
        topic=str(doc["topicId"]),
        target=dest.endpoint if dest else "",
        id=str(doc["subscriptionId"]),
    )
    return Held(
        subscription=sub, ours=dest is not None and dest.ours, active=doc.get("status") == "ENABLED"
    )


def next_token(page: Mapping[str, object]) -> str | None:
    """The continuation_token of the page's `next` link (None: the last page)."""
    link = page.get("next")
    if not isinstance(link, str) or not link:
        return None
    tokens = parse_qs(urlsplit(link).query).get("continuation_token")
    return tokens[0] if tokens else None


async def _listed(call: Caller, what: str, *, user: bool) -> list[object]:
    found: list[object] = []
    params = {"limit": str(PAGE)}
    while True:
        page = await call("GET", f"{PREFIX}/{what}", params=params, user=user)
        if not isinstance(page, dict):
            raise ValueError(f"{what} answer is not an object")
        rows = page.get(f"{what}s") or []
        if not isinstance(rows, list):
            raise ValueError(f"malformed {what}s")
        found += rows
        token = next_token(page)
        if token is None:
            return found
        params = {"limit": str(PAGE), "continuation_token": token}


@dataclass(slots=True, kw_only=True)
class EbaySubscriptions:
    """Registration for one account (the account's credentials and settings given)."""

    call: Caller
    account: str
    verification_token: Secret
    alert_email: str | None

    async def destinations(self) -> dict[str, Destination]:
        rows = await _listed(self.call, "destination", user=False)
        return {d.id: d for d in map(destination_of, rows)}

    async def held(self, destinations: Mapping[str, Destination]) -> list[Held]:
        rows = await _listed(self.call, "subscription", user=True)
        return [held_of(row, destinations) for row in rows]

    async def register(self, target: str) -> SubscriptionReport:
        await self._configure()
        dest = await self._destination(target)
        destinations = await self.destinations()
        plan = plan_register(await self.held(destinations), TOPICS, target)
        await self._remove(plan, destinations, keep=dest.id)
        for sub in plan.reactivate:
            await self.call("POST", f"{PREFIX}/subscription/{sub.id}/enable", user=True)
        for topic in plan.create:
            body = {
                "topicId": topic,
                "status": "ENABLED",
                "destinationId": dest.id,
                "payload": PAYLOAD,
            }
            await self.call("POST", f"{PREFIX}/subscription", json=body, user=True)
        # eBay answers a creation with its Location only: read back what was made.
        made = [
            h.subscription
            for h in await self.held(destinations)
            if h.subscription.target == target and h.subscription.topic in plan.create
        ]
        return plan.report(made)

    async def remove(self, target: str) -> SubscriptionReport:
        destinations = await self.destinations()
        plan = plan_remove(await self.held(destinations), TOPICS, target)
        await self._remove(plan, destinations, keep=None)
        return plan.report(())

    async def _configure(self) -> None:
        """The alert email eBay needs before any destination: set when there is none."""
        try:
            await self.call("GET", f"{PREFIX}/config")
        except PermanentError as error:
            if error.status != 404:
                raise
            if self.alert_email is None:
                raise PermanentError(
                    "eBay's notification config has no alert email: set the account's "
                    "alert_email setting",
                    account=self.account,
                    status=404,
                ) from None
            await self.call("PUT", f"{PREFIX}/config", json={"alertEmail": self.alert_email})

    async def _destination(self, target: str) -> Destination:
        """The destination of `target`, created (eBay then challenges it) or re-enabled."""
        found = next(
            (d for d in (await self.destinations()).values() if d.endpoint == target), None
        )
        if found is not None and found.enabled:
            return found
        body = {
            "name": found.name if found else f"{OWN_PREFIX} {self.account}"[:NAME_LIMIT],
            "status": "ENABLED",
            "deliveryConfig": {
                "endpoint": target,
                "verificationToken": self.verification_token.reveal(),
            },
        }
        if found is None:
            await self.call("POST", f"{PREFIX}/destination", json=body)
        else:
            await self.call("PUT", f"{PREFIX}/destination/{found.id}", json=body)
        made = next((d for d in (await self.destinations()).values() if d.endpoint == target), None)
        if made is None:
            raise ValueError("the destination created is not listed")
        return made

    async def _remove(
        self, plan: Plan, destinations: Mapping[str, Destination], *, keep: str | None
    ) -> None:
        """The plan's subscriptions, then omnistock's destinations they leave unused."""
        for sub in plan.remove:
            await self.call("DELETE", f"{PREFIX}/subscription/{sub.id}", user=True)
        used = {h.subscription.target for h in await self.held(destinations)}
        for dest in destinations.values():
            gone = dest.endpoint in {s.target for s in plan.remove}
            if dest.ours and gone and dest.id != keep and dest.endpoint not in used:
                await self.call("DELETE", f"{PREFIX}/destination/{dest.id}")
