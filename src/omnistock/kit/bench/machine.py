"""How fast this machine is at the time of a run: the same fixed work on every run, so that
figures taken on different days (the targets are absolute) can be told apart from the
machine's own speed. Measured on this project's 2-core machines: the bare SQLite insert
rate varied 3.7-fold between sessions on the same code."""

from __future__ import annotations

import json
import os
import sqlite3
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROUNDS = 5


@dataclass(frozen=True, slots=True)
class _Item:
    sku: str
    quantity: int
    reserved: int


def run() -> dict[str, object]:
    """Median rates of ROUNDS rounds of each fixed workload."""
    with tempfile.TemporaryDirectory(prefix="omnistock-machine-") as tmp:
        sqlite_rates = [_sqlite_rows_per_s(Path(tmp) / f"{n}.db") for n in range(ROUNDS)]
    return {
        "cpus": os.cpu_count(),
        "python_ops_per_s": round(statistics.median(_python_ops_per_s() for _ in range(ROUNDS))),
        "sqlite_rows_per_s": round(statistics.median(sqlite_rates)),
    }


def _python_ops_per_s(ops: int = 20_000) -> float:
    """What the engine does most between I/O: small objects built, JSON encoded and
    decoded, dicts grouped (one op: one item through all of it)."""
    start = time.perf_counter()
    grouped: dict[str, list[_Item]] = {}
    for n in range(ops):
        item = _Item(sku=f"SKU-{n % 997:05d}", quantity=n % 50, reserved=n % 7)
        doc = json.loads(json.dumps({"sku": item.sku, "quantity": item.quantity}))
        grouped.setdefault(doc["sku"], []).append(item)
    return ops / (time.perf_counter() - start)


def _sqlite_rows_per_s(path: Path, rows: int = 50_000) -> float:
    """Rows inserted in one transaction with the store's pragmas (WAL, synchronous=NORMAL)."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("CREATE TABLE t (id TEXT PRIMARY KEY, sku TEXT, quantity INTEGER)")
        data = [(f"e{n:08d}", f"SKU-{n % 997:05d}", n % 50) for n in range(rows)]
        start = time.perf_counter()
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO t VALUES (?, ?, ?)", data)
        conn.execute("COMMIT")
        return rows / (time.perf_counter() - start)
    finally:
        conn.close()
