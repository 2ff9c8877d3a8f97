"""The ingest benchmark at a tiny size: what it counts is in the ledger and the inbox, signed
deliveries verify, and the result has the scenario's shape."""

from __future__ import annotations

from pathlib import Path
from typing import Any, cast

from omnistock.adapters.base import ChannelEventType
from omnistock.domain.events import StockReserved
from omnistock.kit.bench import ingest
from omnistock.kit.bench.serving import Sender
from omnistock.ledger.journal import StoredEvent
from omnistock.ledger.store import Store

TINY = ingest.IngestSize(
    events=2_000,
    skus=200,
    batch=500,
    webhooks=150,
    api_concurrency=2,
    webhook_concurrency=8,
    drain_budget_s=20.0,
)


async def _all_events(store: Store) -> list[StoredEvent]:
    found: list[StoredEvent] = []
    while page := await store.ledger.read(found[-1].position if found else 0, 1_000):
        found.extend(page)
    return found


async def test_deliveries_verify_with_the_account_secret_and_place_orders() -> None:
    adapter = ingest.woo_adapter()
    deliveries = ingest.deliveries(TINY)
    try:
        events = [e for d in deliveries for e in adapter.parse_webhook(dict(d.headers), d.body)]
    finally:
        await adapter.aclose()
    assert [e.kind for e in events] == [ChannelEventType.ORDER_PLACED] * TINY.webhooks
    assert len({e.order_id for e in events}) == TINY.webhooks
    assert all(1 <= len(e.lines) <= 3 for e in events)


async def test_what_is_counted_is_in_the_ledger(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    with Sender() as sender:
        measured = await ingest.measure(url, TINY, sender)
    assert all(value > 0 for value in measured.figures.values())
    api, drain = measured.api_statuses, measured.drain
    assert api["applied"] + api["rejected"] == TINY.events
    assert api["duplicate"] == 0
    assert drain["acknowledged"] == TINY.webhooks  # drained well within the budget

    store = await Store.open(url)
    try:
        events = await _all_events(store)
        assert (await store.inbox.counts()).pending == 0
        incidents = await store.inbox.incidents(10_000)
    finally:
        await store.close()
    # A kit's event is recorded as one event per component, under the kit's key.
    from_api = {e.event.idempotency_key for e in events if e.event.source == "api:bench"}
    assert len(from_api) == api["applied"]
    reserved = [e.event for e in events if e.event.source != "api:bench"]
    assert all(isinstance(e, StockReserved) and e.account == ingest.WOO for e in reserved)
    assert len({e.idempotency_key for e in reserved}) == drain["applied"]
    # Every delivered order reserved its lines, or was recorded as an incident.
    orders = {str(ingest.ORDERS_FROM + n) for n in range(TINY.webhooks)}
    seen = {e.order_line.split(":")[1] for e in reserved if isinstance(e, StockReserved)}
    assert seen | {i.order_id for i in incidents} == orders
    assert drain["oversold"] == len([i for i in incidents if i.kind.value == "oversold"])


async def test_the_result_has_every_figure_ceiling_and_target() -> None:
    result = cast(dict[str, Any], await ingest.run(TINY, 1, None))
    figures = result["omnistock"]["sqlite"]
    for name in ingest.FIGURES:
        assert figures[name]["min"] > 0
    assert 0 < figures["api_events_ratio_to_ceiling"] < 1
    assert 0 < figures["webhooks_ratio_to_ceiling"] < 1
    assert set(result["ceiling"]) == {"sqlite_raw_rows_per_s", "sqlite_raw_commits_per_s"}
    assert set(result["target_met"]) == {"api_events_per_s", "webhooks_per_s"}
    assert "postgres" not in result["omnistock"]
