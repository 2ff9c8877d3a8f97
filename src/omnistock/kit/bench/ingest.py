"""`omnistock bench ingest`: events into the engine over HTTP - batches through the event API
and signed WooCommerce webhooks - next to the raw insert rate of the same database.

The engine (`Engine.http_app()`, served by uvicorn on a loopback port) runs in this process
on a fresh store seeded like `bench ledger`: 10,000 SKUs plus 500 two-part kits, 2
locations, 4 channel accounts with a listing per SKU each. Its pushing and polling are off:
this scenario measures what comes in, the others what goes out. The requests come from a
child process, as ERPs and platforms send from elsewhere, so the sender's CPU is not
charged to the engine. The sender writes plain HTTP/1.1 on keep-alive connections, one
request at a time per connection: httpx.AsyncClient sent ~1,000 requests/s per core here
(below the rate to measure), the same bytes written by hand ~4,000/s.

What is counted, per store (SQLite; PostgreSQL when a DSN is given), each repetition:
- `api_events_per_s`: events durably recorded by `POST /v1/events` per second, from the
  first request sent to the last answer. The `bench ledger` mix (receipts, orders, their
  cancellations and shipments, adjustments, counts, returns) in requests of 1,000 events
  (the API's maximum), a few in flight. The API appends to the ledger and commits before
  it answers; an event counts when its answer says `applied` or `rejected` (a refusal by
  a business rule, recorded with its reason all the same).
- `webhooks_per_s`: WooCommerce `order.created` deliveries (1 to 3 lines each, bodies and
  headers as the sandbox sends them, signed with the account's secret) answered 200 per
  second over many connections: each is verified over its raw body, parsed and written to
  the inbox in its own transaction before the 200. The inbox is not processed meanwhile.
- `drain_webhooks_per_s`: then the engine runs (`Engine.run`) and processes those
  deliveries into the ledger (translation, reservations, incidents for what cannot be
  covered, `stock.changed` facts): deliveries acknowledged per second, until the inbox is
  empty or the size's drain budget has passed (then over the passes completed).

Ceilings, in the same repetition on the same machine: the API events as plain rows of the
same 15 columns in the same batches (SQLite `executemany`, PostgreSQL `COPY`) into a bare
table, and one row per committed transaction (each delivery body, as the webhook route
commits each delivery) for the webhooks. The targets (2-core machine) apply to SQLite."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import sqlite3
import statistics
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import psycopg

from omnistock.adapters.http import account_client
from omnistock.adapters.secrets import Secret
from omnistock.adapters.woocommerce import WooCommerceAdapter
from omnistock.adapters.woocommerce.wire import Target
from omnistock.clock import SystemClock, SystemTimer
from omnistock.domain.account_settings import LOCATION
from omnistock.domain.catalog import ChannelAccount, Listing
from omnistock.domain.events import LedgerEvent, to_record
from omnistock.domain.ids import AccountId, ListingId, Sku
from omnistock.engine import Engine, EngineSettings
from omnistock.kit.bench.ledger import (
    LOCATIONS,
    LedgerBenchSize,
    drop_pg_schema,
    fresh_pg_schema,
    raw_sqlite_rows_per_second,
    seed_catalog,
    workload,
)
from omnistock.kit.bench.serving import Request, Sender, Sent
from omnistock.kit.bench.stats import spread
from omnistock.kit.sandbox.woocommerce import store as woo
from omnistock.kit.sandbox.woocommerce.hooks import (
    USER_AGENT,
    delivery_id,
    encode_payload,
    sign_payload,
)
from omnistock.kit.sandbox.woocommerce.representation import Site, order_json
from omnistock.kit.serving import served
from omnistock.ledger.store import Store
from omnistock.security.tokens import Scope, new_token

TARGET_API_EVENTS_PER_S = 20_000
TARGET_WEBHOOKS_PER_S = 3_000

WOO = AccountId("woocommerce")  # one of the accounts seed_catalog creates
WEBHOOK_SECRET = "bench-webhook-secret"  # noqa: S105 - a benchmark-only value
SITE = Site("https://woo.bench.invalid", utc_offset_s=0)
ORDERS_FROM = 1_000_000  # WooCommerce order ids of the deliveries
SETTINGS = EngineSettings(polling=False, pushing=False)
STOP_GRACE_S = 3.0  # for the engine to finish its pass once stopped; then it is cancelled


@dataclass(frozen=True, slots=True)
class IngestSize:
    events: int = 100_000  # through the event API
    skus: int = 10_000  # plus skus / 20 kits, each listed on 4 accounts
    batch: int = 1_000  # events per API request (the API's maximum)
    webhooks: int = 20_000  # order.created deliveries
    api_concurrency: int = 4  # requests in flight
    webhook_concurrency: int = 16
    # The drain stops here if the inbox is not empty yet (PostgreSQL drains ~40/s here).
    drain_budget_s: float = 90.0

    def ledger_size(self) -> LedgerBenchSize:
        return LedgerBenchSize(events=self.events, skus=self.skus, batch=self.batch)


FULL = IngestSize()
QUICK = IngestSize(events=10_000, skus=1_000, webhooks=1_000, drain_budget_s=20.0)


# --- the requests ----------------------------------------------------------------------


def api_requests(events: Sequence[LedgerEvent], batch: int, token: str) -> list[Request]:
    """`POST /v1/events` batches of `events`, each with its own Idempotency-Key."""
    return [
        Request(
            "/v1/events",
            (
                ("Authorization", f"Bearer {token}"),
                ("Idempotency-Key", f"bench-{i // batch}"),
                ("Content-Type", "application/json"),
            ),
            json.dumps({"events": [api_event(e) for e in events[i : i + batch]]}).encode(),
        )
        for i in range(0, len(events), batch)
    ]


def api_event(event: LedgerEvent) -> dict[str, object]:
    """The event as `POST /v1/events` takes it."""
    r = to_record(event)
    body: dict[str, object] = {
        "type": r.type.value,
        "sku": r.sku,
        "location": r.location,
        "quantity": r.quantity,
        "occurred_at": r.occurred_at.isoformat(),
    }
    optional = {"reason": r.reason, "order_line": r.order_line, "account": r.account}
    body.update({k: v for k, v in optional.items() if v is not None})
    if r.restock is not None:
        body["restock"] = r.restock
    return body


def woo_skus(size: IngestSize) -> list[Sku]:
    """The SKUs seed_catalog lists, in order; the WooCommerce product id of SKU i is i + 1."""
    skus = [Sku(f"SKU{i:06d}") for i in range(size.skus)]
    return skus + [Sku(f"KIT{i:05d}") for i in range(size.skus // 20)]


def deliveries(size: IngestSize, seed: int = 11) -> list[Request]:
    """Signed `order.created` deliveries of new orders, 1 to 3 lines each (1 in 10 for a kit),
    with the body and headers the WooCommerce sandbox sends."""
    rng = random.Random(seed)
    skus = woo_skus(size)
    plain = size.skus
    created = int(datetime(2026, 11, 27, tzinfo=UTC).timestamp())
    requests = []
    for n in range(size.webhooks):
        picks = [
            rng.randrange(plain, len(skus)) if rng.random() < 0.1 else rng.randrange(plain)
            for _ in range(rng.randint(1, 3))
        ]
        lines = [
            woo.WooLineItem(
                id=3 * n + k + 1,
                name=f"Product {skus[p]}",
                product_id=p + 1,
                variation_id=0,
                sku=skus[p],
                quantity=rng.randint(1, 2),
                price="12.50",
            )
            for k, p in enumerate(picks)
        ]
        order = woo.WooOrder(
            id=ORDERS_FROM + n,
            status="processing",
            created=created,
            modified=created + n,
            line_items=lines,
        )
        requests.append(_signed(encode_payload(order_json(SITE, order)), created + n))
    return requests


def _signed(body: bytes, unix_time: int) -> Request:
    headers = (
        ("Content-Type", "application/json"),
        ("User-Agent", USER_AGENT),
        ("X-WC-Webhook-Source", SITE.base_url + "/"),
        ("X-WC-Webhook-Topic", "order.created"),
        ("X-WC-Webhook-Resource", "order"),
        ("X-WC-Webhook-Event", "created"),
        ("X-WC-Webhook-Signature", sign_payload(WEBHOOK_SECRET, body)),
        ("X-WC-Webhook-ID", "1"),
        ("X-WC-Webhook-Delivery-ID", delivery_id(1, unix_time, "bench")),
    )
    return Request(f"/webhooks/{WOO}", headers, body)


# --- one repetition on one store -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Measured:
    figures: dict[str, float]  # by name, see FIGURES
    api_statuses: dict[str, int]  # applied / rejected / duplicate
    drain: dict[str, int]  # what processing the deliveries did (EngineStats)


async def measure(url: str, size: IngestSize, sender: Sender) -> Measured:
    """Seed a fresh store at `url`, then the API, the webhooks and the drain, in that order."""
    store = await Store.open(url)
    adapter = woo_adapter()
    try:
        await seed(store, size)
        token, stored = new_token()
        await store.tokens.create("bench", Scope.WRITE.value, stored, SystemClock().now())
        async with httpx.AsyncClient() as notify:  # no subscribers: never used
            engine = Engine(
                store,
                {WOO: adapter},
                clock=SystemClock(),
                timer=SystemTimer(),
                notify_client=notify,
                settings=SETTINGS,
            )
            api, hooks = await _over_http(engine, size, sender, token.reveal())
            await engine.feeds.publish_pending()  # the API's facts: not the drain's work
            drained, drain_s = await _drain(engine, size.webhooks, size.drain_budget_s)
    finally:
        await adapter.aclose()
        await store.close()
    tally = _api_tally(api)
    return Measured(
        figures={
            "api_events_per_s": (tally["applied"] + tally["rejected"]) / api.seconds,
            "webhooks_per_s": size.webhooks / hooks.seconds,
            "drain_webhooks_per_s": drained / drain_s,
        },
        api_statuses=tally,
        drain={
            "acknowledged": drained,
            "applied": engine.stats.applied,
            "rejected": engine.stats.rejected,
            "oversold": engine.stats.oversold,
        },
    )


async def seed(store: Store, size: IngestSize) -> None:
    """The `bench ledger` catalog; the WooCommerce account sells from wh1 and its listings
    carry product ids, so order lines map as they would from a real site."""
    await seed_catalog(store, size.ledger_size())
    account = ChannelAccount(id=WOO, platform="woocommerce", settings={LOCATION: LOCATIONS[0]})
    await store.catalog.put_account(account)
    await store.catalog.put_listings(
        [
            Listing(
                id=ListingId(f"{WOO}:{sku}"),
                account=WOO,
                sku=sku,
                external_ids=Target(product).external_ids(),
            )
            for product, sku in enumerate(woo_skus(size), start=1)
        ]
    )


def woo_adapter() -> WooCommerceAdapter:
    """Only its webhook verification is used: pushing and polling are off."""
    return WooCommerceAdapter(
        WOO,
        account_client(SITE.api("/")),
        consumer_key=Secret("unused"),
        consumer_secret=Secret("unused"),
        webhook_secret=Secret(WEBHOOK_SECRET),
        timer=SystemTimer(),
    )


async def _over_http(
    engine: Engine, size: IngestSize, sender: Sender, token: str
) -> tuple[Sent, Sent]:
    api = api_requests(workload(size.ledger_size()), size.batch, token)
    hooks = deliveries(size)
    async with served(engine.http_app()) as base_url:
        sent_api = await sender.send(base_url, api, size.api_concurrency, keep=True)
        sent_hooks = await sender.send(base_url, hooks, size.webhook_concurrency)
    return sent_api, sent_hooks


def _api_tally(sent: Sent) -> dict[str, int]:
    tally = Counter({"applied": 0, "rejected": 0, "duplicate": 0})
    for body in sent.bodies:
        tally.update(r["status"] for r in json.loads(body)["results"])
    return dict(tally)


async def _drain(engine: Engine, deliveries: int, budget_s: float) -> tuple[int, float]:
    """Run the engine until it has acknowledged `deliveries` inbox items or `budget_s` has
    passed: the items acknowledged and the seconds they took (the engine acknowledges a
    pass of up to EngineSettings.process_batch items at once)."""
    stop = asyncio.Event()
    done, seconds = 0, 0.0
    started = time.perf_counter()
    running = asyncio.create_task(engine.run(stop))
    try:
        while not running.done() and done < deliveries and time.perf_counter() - started < budget_s:
            await asyncio.sleep(0.005)  # EngineStats are plain counts: look again
            if engine.stats.items != done:
                done, seconds = engine.stats.items, time.perf_counter() - started
    finally:
        stop.set()
        await _stopped(running)
    if not done:
        raise RuntimeError(f"the engine processed no inbox pass in {budget_s} s")
    return done, seconds


async def _stopped(running: asyncio.Task[None]) -> None:
    """Wait for a stopped engine to finish its pass; cancel it if that takes too long (what
    it does after the measurement does not count, and the store is dropped)."""
    try:
        async with asyncio.timeout(STOP_GRACE_S):
            await asyncio.shield(running)
    except TimeoutError:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running


# --- ceilings --------------------------------------------------------------------------


def raw_rows(events: Sequence[LedgerEvent]) -> list[tuple[object, ...]]:
    """The events as the 15 columns of raw_sqlite_rows_per_second's bare table."""
    now = datetime(2026, 11, 27, tzinfo=UTC).isoformat()
    rows: list[tuple[object, ...]] = []
    for n, event in enumerate(events):
        r = to_record(event)
        rows.append(
            (r.idempotency_key, r.sku, r.location, n, r.type.value, r.quantity, r.source,
             r.occurred_at.isoformat(), now, r.reason, r.order_line, r.account, r.restock,
             None, r.schema_version)
        )  # fmt: skip
    return rows


RAW_TABLE = (
    "CREATE TABLE raw_events (idempotency_key TEXT, sku TEXT, location TEXT, seq INTEGER,"
    " type TEXT, quantity INTEGER, source TEXT, occurred_at TEXT, recorded_at TEXT,"
    " reason TEXT, order_line TEXT, account TEXT, restock BOOLEAN, bundle TEXT,"
    " schema_version INTEGER)"
)
COMMITS_TABLE = "CREATE TABLE raw_deliveries (dedupe_key TEXT, payload {})"


def sqlite_commits_per_second(path: Path, bodies: Sequence[bytes]) -> float:
    """One row per transaction, with the store's pragmas: the webhook route's floor."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(COMMITS_TABLE.format("BLOB"))
    start = time.perf_counter()
    for n, body in enumerate(bodies):
        conn.execute("BEGIN")
        conn.execute("INSERT INTO raw_deliveries VALUES (?, ?)", (f"d{n}", body))
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return len(bodies) / elapsed


def pg_rows_per_second(url: str, rows: Sequence[tuple[object, ...]], batch: int) -> float:
    """The rows `COPY`ed into a bare table, one transaction per batch."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(RAW_TABLE)
        start = time.perf_counter()
        for i in range(0, len(rows), batch):
            with conn.transaction(), conn.cursor().copy("COPY raw_events FROM STDIN") as copy:
                for row in rows[i : i + batch]:
                    copy.write_row(row)
        return len(rows) / (time.perf_counter() - start)


def pg_commits_per_second(url: str, bodies: Sequence[bytes]) -> float:
    """One row per committed transaction (default durability: the WAL flushed each time)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(COMMITS_TABLE.format("BYTEA"))
        start = time.perf_counter()
        for n, body in enumerate(bodies):
            conn.execute("INSERT INTO raw_deliveries VALUES (%s, %s)", (f"d{n}", body))
        return len(bodies) / (time.perf_counter() - start)


def sqlite_ceilings(size: IngestSize, directory: Path) -> dict[str, float]:
    events = workload(size.ledger_size())
    bodies = [d.body for d in deliveries(size)]
    return {
        "sqlite_raw_rows_per_s": raw_sqlite_rows_per_second(
            directory / "raw.db", events, size.batch
        ),
        "sqlite_raw_commits_per_s": sqlite_commits_per_second(directory / "commits.db", bodies),
    }


def pg_ceilings(size: IngestSize, url: str) -> dict[str, float]:
    rows = raw_rows(workload(size.ledger_size()))
    bodies = [d.body for d in deliveries(size)]
    return {
        "postgres_raw_rows_per_s": pg_rows_per_second(url, rows, size.batch),
        "postgres_raw_commits_per_s": pg_commits_per_second(url, bodies),
    }


# --- the scenario ----------------------------------------------------------------------

FIGURES = ("api_events_per_s", "webhooks_per_s", "drain_webhooks_per_s")
CEILING_OF = {"api_events_per_s": "raw_rows_per_s", "webhooks_per_s": "raw_commits_per_s"}


async def run(size: IngestSize, repeat: int, postgres: str | None) -> dict[str, object]:
    """Medians (with min and max) over `repeat` repetitions, as `omnistock bench ingest` reports."""
    runs: dict[str, list[Measured]] = defaultdict(list)
    ceiling: dict[str, list[float]] = defaultdict(list)
    with Sender() as sender:
        for _ in range(repeat):
            with tempfile.TemporaryDirectory(prefix="omnistock-ingest-") as tmp:
                runs["sqlite"].append(await measure(f"sqlite:///{tmp}/ledger.db", size, sender))
                _extend(ceiling, sqlite_ceilings(size, Path(tmp)))
            if postgres:
                await _on_postgres(postgres, size, sender, runs, ceiling)
    stores = {name: _store_summary(name, measured, ceiling) for name, measured in runs.items()}
    sqlite = runs["sqlite"]
    return {
        "omnistock": stores,
        "ceiling": {name: spread(values) for name, values in ceiling.items()},
        "target_met": {
            "api_events_per_s": _median(sqlite, "api_events_per_s") >= TARGET_API_EVENTS_PER_S,
            "webhooks_per_s": _median(sqlite, "webhooks_per_s") >= TARGET_WEBHOOKS_PER_S,
        },
        "size": {
            "events": size.events,
            "skus": size.skus,
            "batch": size.batch,
            "webhooks": size.webhooks,
            "api_concurrency": size.api_concurrency,
            "webhook_concurrency": size.webhook_concurrency,
            "drain_budget_s": size.drain_budget_s,
            "repeat": repeat,
        },
    }


async def _on_postgres(
    dsn: str,
    size: IngestSize,
    sender: Sender,
    runs: dict[str, list[Measured]],
    ceiling: dict[str, list[float]],
) -> None:
    url = fresh_pg_schema(dsn)
    try:
        runs["postgres"].append(await measure(url, size, sender))
        _extend(ceiling, pg_ceilings(size, url))
    finally:
        drop_pg_schema(url)


def _extend(into: dict[str, list[float]], found: dict[str, float]) -> None:
    for name, value in found.items():
        into[name].append(value)


def _median(measured: Sequence[Measured], figure: str) -> float:
    return statistics.median(_values(measured, figure))


def _values(measured: Sequence[Measured], figure: str) -> list[float]:
    return [m.figures[figure] for m in measured]


def _store_summary(
    store: str, measured: Sequence[Measured], ceiling: dict[str, list[float]]
) -> dict[str, object]:
    summary: dict[str, object] = {f: spread(_values(measured, f)) for f in FIGURES}
    for figure, bound in CEILING_OF.items():
        values = ceiling.get(f"{store}_{bound}")
        if values:
            ratio = _median(measured, figure) / statistics.median(values)
            summary[f"{figure.removesuffix('_per_s')}_ratio_to_ceiling"] = round(ratio, 4)
    # Per repetition: what the answers said, and what processing the deliveries did.
    summary["api_results"] = [m.api_statuses for m in measured]
    summary["drain_results"] = [m.drain for m in measured]
    return summary
