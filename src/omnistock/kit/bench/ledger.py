"""`omnistock bench ledger`: mixed events appended in batches, next to raw SQLite inserts.

100,000 events over 10,000 SKUs with 4 listings each and 10% of SKUs in bundles; the raw
rate of inserting as many rows into a bare SQLite table is the ceiling."""

from __future__ import annotations

import random
import sqlite3
import statistics
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from omnistock.domain.allocation import AllocationPolicy
from omnistock.domain.bundles import Bundle, BundleComponent
from omnistock.domain.catalog import ChannelAccount, Item, Listing, Location
from omnistock.domain.events import (
    LedgerEvent,
    StockAdjusted,
    StockCounted,
    StockFulfilled,
    StockReceived,
    StockReleased,
    StockReserved,
    StockReturned,
    to_record,
)
from omnistock.domain.ids import AccountId, ListingId, LocationId, Sku
from omnistock.ledger.store import Store

PLATFORMS = ("shopify", "amazon", "ebay", "woocommerce")
LOCATIONS = (LocationId("wh1"), LocationId("wh2"))
T0 = datetime(2026, 11, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class LedgerBenchSize:
    events: int = 100_000
    skus: int = 10_000
    batch: int = 1_000


QUICK = LedgerBenchSize(events=10_000, skus=1_000, batch=1_000)


def workload(size: LedgerBenchSize, seed: int = 7) -> list[LedgerEvent]:
    """A deterministic, realistic mix: receipts, orders (10% for kits), cancellations and
    shipments of open order lines, adjustments, counts and returns."""
    rng = random.Random(seed)
    skus = [f"SKU{i:06d}" for i in range(size.skus)]
    kits = [f"KIT{i:05d}" for i in range(size.skus // 20)]
    open_lines: list[tuple[str, int, int]] = []  # (sku, line number, quantity)
    events: list[LedgerEvent] = []
    for n in range(size.events):
        roll = rng.random()
        if roll < 0.45:
            sku = rng.choice(kits) if rng.random() < 0.1 else rng.choice(skus)
            event = _mixed_stock_event(rng, sku, n, roll)
        elif roll < 0.75 or not open_lines:
            sku = rng.choice(kits) if rng.random() < 0.1 else rng.choice(skus)
            qty = rng.randint(1, 3)
            event = _reserve(sku, n, qty)
            open_lines.append((sku, n, qty))
        else:
            index = rng.randrange(len(open_lines))
            open_lines[index], open_lines[-1] = open_lines[-1], open_lines[index]
            sku, line, qty = open_lines.pop()
            cls = StockReleased if roll < 0.82 else StockFulfilled
            event = _line(cls, sku, n, qty, line)
        events.append(event)
    return events


def _mixed_stock_event(rng: random.Random, sku: str, n: int, roll: float) -> LedgerEvent:
    if sku.startswith("KIT"):  # kits have no stock of their own: receive their parts
        sku = f"SKU{2 * int(sku[3:]):06d}"
    if roll < 0.30:
        return _event(StockReceived, sku, n, rng.randint(5, 40))
    if roll < 0.36:
        return _adjust(sku, n, rng.choice((-2, -1, 1, 2)))
    if roll < 0.41:
        return _event(StockCounted, sku, n, rng.randint(10, 60))
    return _return(sku, n, rng.random() < 0.7)


def _common(sku: str, n: int, qty: int, line: int | None = None) -> dict[str, object]:
    return {
        "idempotency_key": f"bench-{n}",
        "sku": Sku(sku),
        "location": LOCATIONS[(n if line is None else line) % 2],
        "quantity": qty,
        "source": "bench",
        "occurred_at": T0 + timedelta(milliseconds=n),
    }


def _event(cls: type[StockReceived] | type[StockCounted], sku: str, n: int, q: int) -> LedgerEvent:
    return cls(**_common(sku, n, q))  # type: ignore[arg-type]


def _reserve(sku: str, n: int, q: int) -> LedgerEvent:
    return StockReserved(**_common(sku, n, q), order_line=f"L{n}")  # type: ignore[arg-type]


def _line(
    cls: type[StockReleased] | type[StockFulfilled], sku: str, n: int, q: int, line: int
) -> LedgerEvent:
    return cls(**_common(sku, n, q, line), order_line=f"L{line}")  # type: ignore[arg-type]


def _adjust(sku: str, n: int, delta: int) -> LedgerEvent:
    return StockAdjusted(**_common(sku, n, delta), reason="cycle")  # type: ignore[arg-type]


def _return(sku: str, n: int, restock: bool) -> LedgerEvent:
    return StockReturned(**_common(sku, n, 1), restock=restock)  # type: ignore[arg-type]


async def seed_catalog(store: Store, size: LedgerBenchSize) -> None:
    """SKUs, bundles of two components (10% of SKUs), 4 accounts, a listing per SKU each."""
    for location in LOCATIONS:
        await store.catalog.put_location(Location(id=location))
    skus = [Sku(f"SKU{i:06d}") for i in range(size.skus)]
    kits = [Sku(f"KIT{i:05d}") for i in range(size.skus // 20)]
    await store.catalog.put_items([Item(sku=s) for s in skus + kits])
    for i, kit in enumerate(kits):
        parts = (BundleComponent(skus[2 * i], 1), BundleComponent(skus[2 * i + 1], 2))
        await store.catalog.put_bundle(Bundle(kit, parts))
    for platform in PLATFORMS:
        account = AccountId(platform)
        policy = AllocationPolicy(safety_buffer=1, share=0.9 if platform == "amazon" else 1.0)
        await store.catalog.put_account(
            ChannelAccount(id=account, platform=platform, policy=policy)
        )
        await store.catalog.put_listings(
            [Listing(id=ListingId(f"{platform}:{s}"), account=account, sku=s) for s in skus + kits]
        )


async def events_per_second(url: str, size: LedgerBenchSize) -> float:
    """Append the workload in batches to a fresh store at `url`; events per second."""
    store = await Store.open(url)
    try:
        await seed_catalog(store, size)
        events = workload(size)
        start = time.perf_counter()
        for i in range(0, len(events), size.batch):
            await store.ledger.append(events[i : i + size.batch])
        elapsed = time.perf_counter() - start
    finally:
        await store.close()
    return len(events) / elapsed


def raw_sqlite_rows_per_second(path: Path, events: list[LedgerEvent], batch: int) -> float:
    """The ceiling: the same events as plain rows of the same columns into a bare table (no
    index, no constraint, no reads), in the same batches, with the store's pragmas."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(
        "CREATE TABLE raw (idempotency_key TEXT, sku TEXT, location TEXT, seq INTEGER,"
        " type TEXT, quantity INTEGER, source TEXT, occurred_at TEXT, recorded_at TEXT,"
        " reason TEXT, order_line TEXT, account TEXT, restock INTEGER, bundle TEXT,"
        " schema_version INTEGER)"
    )
    now = T0.isoformat()
    rows = []
    for n, event in enumerate(events):
        r = to_record(event)
        rows.append(
            (
                r.idempotency_key,
                r.sku,
                r.location,
                n,
                r.type.value,
                r.quantity,
                r.source,
                r.occurred_at.isoformat(),
                now,
                r.reason,
                r.order_line,
                r.account,
                r.restock,
                None,
                r.schema_version,
            )
        )
    start = time.perf_counter()
    for i in range(0, len(rows), batch):
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO raw VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            rows[i : i + batch],
        )
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - start
    conn.close()
    return len(rows) / elapsed


def fresh_pg_schema(dsn: str) -> str:
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in dsn else "?"
    return f"{dsn}{separator}options=-csearch_path%3D{schema}"


def drop_pg_schema(url: str) -> None:
    base, _, options = url.rpartition("options=-csearch_path%3D")
    with psycopg.connect(base.rstrip("?&"), autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA {options} CASCADE")


TARGET_SQLITE_EVENTS_PER_S = 20_000
TARGET_RATIO_TO_RAW = 0.08
TARGET_POSTGRES_EVENTS_PER_S = 5_000


async def run(size: LedgerBenchSize, repeat: int, pg_dsn: str | None) -> dict[str, object]:
    """Medians (with min and max) over `repeat` runs, as `omnistock bench ledger` reports."""
    sqlite_rates, raw_rates, pg_rates = [], [], []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory(prefix="omnistock-bench-") as tmp:
            sqlite_rates.append(await events_per_second(f"sqlite:///{tmp}/ledger.db", size))
            raw_path = Path(tmp) / "raw.db"
            raw_rates.append(raw_sqlite_rows_per_second(raw_path, workload(size), size.batch))
        if pg_dsn:
            url = fresh_pg_schema(pg_dsn)
            try:
                pg_rates.append(await events_per_second(url, size))
            finally:
                drop_pg_schema(url)
    sqlite_median = statistics.median(sqlite_rates)
    ratio = sqlite_median / statistics.median(raw_rates)
    result: dict[str, object] = {
        "sqlite": {
            **_summary("events_per_s", sqlite_rates),
            **_summary("raw_rows_per_s", raw_rates),
            "ratio_to_raw": round(ratio, 4),
            "target_met": {
                "events_per_s": sqlite_median >= TARGET_SQLITE_EVENTS_PER_S,
                "ratio_to_raw": ratio >= TARGET_RATIO_TO_RAW,
            },
        },
        "size": {"events": size.events, "skus": size.skus, "batch": size.batch, "repeat": repeat},
    }
    if pg_rates:
        result["postgres"] = {
            **_summary("events_per_s", pg_rates),
            "target_met": {
                "events_per_s": statistics.median(pg_rates) >= TARGET_POSTGRES_EVENTS_PER_S
            },
        }
    return result


def _summary(name: str, values: list[float]) -> dict[str, float]:
    return {
        name: round(statistics.median(values), 1),
        f"{name}_min": round(min(values), 1),
        f"{name}_max": round(max(values), 1),
    }
