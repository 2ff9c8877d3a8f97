"""Feeds publish from what is recorded: every ledger change and every oversell once, in
order, whichever process gets there first and whenever it runs (after a crash too)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from omnistock.bus.inbox import Incident, IncidentKind
from omnistock.clock import ManualClock
from omnistock.domain.ids import AccountId
from omnistock.ledger.notifications import Topic
from omnistock.ledger.store import Store
from omnistock.notify.feeds import FeedPublisher
from tests.contract.builders import received, reserved, seed
from tests.contract.inbox_suite import record

NOW = datetime(2026, 11, 28, 12, tzinfo=UTC)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(f"sqlite:///{tmp_path / 'feeds.db'}")
    yield opened
    await opened.close()


class Settler:
    def __init__(self) -> None:
        self.settled: list[str] = []

    async def __call__(self, incident: Incident) -> str:
        self.settled.append(incident.key)
        return "kept"


def oversold(n: int) -> Incident:
    return Incident(
        key=f"oversold:shop:{n}:1",
        kind=IncidentKind.OVERSOLD,
        account=AccountId("shop"),
        reason="reserved: requested 9, available 1",
        order_id=str(n),
        line_id="1",
        sku="A",
        location="wh1",
        quantity=9,
    )


async def test_every_ledger_change_is_published_once_with_the_new_levels(store: Store) -> None:
    await seed(store, ["A", "B"])
    publisher = FeedPublisher(store, ManualClock(NOW), Settler())
    await store.ledger.append([received("A", 5), received("B", 2)])
    assert await publisher.publish_pending() == 1
    await store.ledger.append([reserved("A", 3)])
    # A second publisher (another process, or a restart) finds nothing left to publish.
    assert await FeedPublisher(store, ManualClock(NOW), Settler()).publish_pending() == 1
    assert await publisher.publish_pending() == 0
    facts = [json.loads(n.payload) for n in await store.notifications.after(0)]
    assert facts == [
        {"available": {"A": {"wh1": 5}, "B": {"wh1": 2}}},
        {"available": {"A": {"wh1": 2}}},
    ]


async def test_an_oversell_is_settled_then_published_once_and_others_are_not(
    store: Store,
) -> None:
    settler = Settler()
    publisher = FeedPublisher(store, ManualClock(NOW), settler)
    unmapped = Incident(key="unmapped:x", kind=IncidentKind.UNMAPPED_LINE, account=None, reason="?")
    await record(store.inbox, [oversold(1), unmapped, oversold(2)])
    assert await publisher.publish_pending() == 2
    assert await publisher.publish_pending() == 0
    assert settler.settled == ["oversold:shop:1:1", "oversold:shop:2:1"]
    published = await store.notifications.after(0)
    assert [n.topic for n in published] == [Topic.ORDER_OVERSOLD] * 2
    assert json.loads(published[0].payload) == {
        "account": "shop",
        "action": "kept",
        "line_id": "1",
        "order_id": "1",
        "quantity": 9,
        "reason": "reserved: requested 9, available 1",
        "sku": "A",
    }
