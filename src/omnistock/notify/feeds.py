"""Feeds: facts published from what is durably recorded, not from what a process remembers.

`stock.changed` follows the ledger's events and `order.oversold` follows the incidents, each
behind a cursor that moves in the same transaction as the notifications it produced. A crash
at any point loses nothing: the next pass (after a restart, or by another process) resumes
at the cursor. An oversold order is settled (cancelled, per policy) before its fact is
published, so a crash in between settles it again; cancelling is idempotent on the channels."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime

from omnistock.bus.inbox import Incident, IncidentKind
from omnistock.clock import Clock
from omnistock.ledger.notifications import Feed, Topic
from omnistock.ledger.store import Store

logger = logging.getLogger(__name__)

EVENTS_PER_FACT = 5_000  # ledger events summed into one stock.changed
INCIDENTS_PER_PASS = 100

Settle = Callable[[Incident], Awaitable[str]]
Fact = tuple[Topic, Mapping[str, object]]


class FeedPublisher:
    def __init__(self, store: Store, clock: Clock, settle: Settle) -> None:
        self._store = store
        self._clock = clock
        self._settle = settle

    async def publish_pending(self) -> int:
        """Publish everything recorded since the feeds' cursors; returns the facts published."""
        return await self._stock() + await self._incidents()

    async def _stock(self) -> int:
        published = 0
        notifications = self._store.notifications
        while True:
            after = await notifications.feed_position(Feed.STOCK)
            events = await self._store.ledger.read(after, EVENTS_PER_FACT)
            if not events:
                return published
            skus = sorted({stored.event.sku for stored in events})
            levels = await self._store.ledger.balances(skus)
            available = {
                sku: {location: b.available for location, b in at.items()}
                for sku, at in levels.items()
            }
            fact: Fact = (Topic.STOCK_CHANGED, {"available": available})
            if not await notifications.publish_feed(
                Feed.STOCK, after, events[-1].position, [fact], self._now()
            ):
                return published  # another process is publishing this feed
            published += 1

    async def _incidents(self) -> int:
        published = 0
        notifications = self._store.notifications
        while True:
            after = await notifications.feed_position(Feed.INCIDENTS)
            incidents = await self._store.inbox.incidents_after(after, INCIDENTS_PER_PASS)
            if not incidents:
                return published
            for incident in incidents:
                facts = await self._facts(incident)
                if incident.position is None or not await notifications.publish_feed(
                    Feed.INCIDENTS, after, incident.position, facts, self._now()
                ):
                    return published
                after = incident.position
                published += len(facts)

    async def _facts(self, incident: Incident) -> list[Fact]:
        if incident.kind is not IncidentKind.OVERSOLD:
            return []  # unmapped and refused lines show in the incident list, not as facts
        action = await self._settle(incident)
        return [
            (
                Topic.ORDER_OVERSOLD,
                {
                    "account": incident.account,
                    "order_id": incident.order_id,
                    "line_id": incident.line_id,
                    "sku": incident.sku,
                    "quantity": incident.quantity,
                    "reason": incident.reason,
                    "action": action,
                },
            )
        ]

    def _now(self) -> datetime:
        return self._clock.now()
