"""Imports into a real SQLite store: good rows apply while bad rows are reported, and
importing the same file again changes nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from omnistock.clock import ManualClock
from omnistock.domain.balance import Balance
from omnistock.domain.bundles import Bundle, BundleComponent
from omnistock.domain.catalog import Item, Location
from omnistock.domain.errors import InvalidInputError
from omnistock.domain.events import StockAdjusted, StockCounted
from omnistock.domain.ids import LocationId, Sku
from omnistock.ingest import import_runner
from omnistock.ingest.import_runner import ImportSummary, run_import
from omnistock.ingest.imports import ImportFormat, ImportMode, RowError
from omnistock.ledger.store import Store
from tests.contract.builders import WH, desired, seed

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
WH2 = LocationId("wh2")


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(f"sqlite:///{tmp_path / 'imports.db'}")
    await seed(opened, ["A", "B", "C"])
    await opened.catalog.put_location(Location(id=WH2, name="Second"))
    await opened.catalog.put_items([Item(sku=Sku("KIT"))])
    await opened.catalog.put_bundle(Bundle(Sku("KIT"), (BundleComponent(Sku("A"), 2),)))
    yield opened
    await opened.close()


async def _import(
    store: Store,
    data: bytes,
    *,
    mode: ImportMode = ImportMode.ABSOLUTE,
    fmt: ImportFormat = ImportFormat.CSV,
    clock: ManualClock | None = None,
) -> ImportSummary:
    return await run_import(
        store, "stock.csv", data, fmt=fmt, default_mode=mode, clock=clock or ManualClock(T0)
    )


async def _on_hand(store: Store, *skus: str) -> dict[str, int]:
    balances = await store.ledger.balances([Sku(s) for s in skus])
    return {s: balances.get(Sku(s), {}).get(WH, Balance(0, 0)).on_hand for s in skus}


MIXED = (
    b"sku,location,quantity,mode,reason\n"
    b"A,wh1,10,,\n"  # 2 applied
    b"NOPE,wh1,5,,\n"  # 3 unknown sku
    b"B,wh1,7,,\n"  # 4 applied
    b"B,attic,1,,\n"  # 5 unknown location
    b"KIT,wh1,3,,\n"  # 6 refused by the ledger: a bundle's stock is derived
    b"C,wh1,x,,\n"  # 7 not an integer
    b"C,wh1,-4,delta,shrinkage\n"  # 8 refused by the ledger: on hand would go below zero
    b"A,wh1,-3,delta,damaged\n"  # 9 applied
    b"C,wh2,2,,\n"  # 10 applied at the second location
)


async def test_good_rows_apply_while_bad_rows_are_reported(store: Store) -> None:
    summary = await _import(store, MIXED)
    assert (summary.rows, summary.applied, summary.duplicates) == (9, 4, 0)
    assert summary.errors == (
        RowError(3, "unknown sku 'NOPE'"),
        RowError(5, "unknown location 'attic'"),
        RowError(7, "quantity: must be an integer, got 'x'"),
    )
    assert [(r.line, r.code) for r in summary.rejected] == [
        (6, "derived_stock"),
        (8, "negative_on_hand"),
    ]
    assert not summary.complete
    assert await _on_hand(store, "A", "B", "C") == {"A": 7, "B": 7, "C": 0}
    assert (await store.ledger.balances([Sku("C")]))[Sku("C")][WH2] == Balance(2, 0)
    assert await desired(store, "A") == 7  # listings follow the import like any other event
    assert summary.source == "import:stock.csv"


async def test_the_ledger_records_what_each_row_said(store: Store) -> None:
    data = (
        b"sku,location,quantity,mode,reason,occurred_at\n"
        b"A,wh1,10,,,2026-11-20T08:00:00+02:00\n"
        b"A,wh1,-1,delta,,\n"
    )
    summary = await _import(store, data)
    stored = [s.event for s in await store.ledger.read()]
    assert stored == [
        StockCounted(
            idempotency_key=f"import:{summary.file_id}:2",
            sku=Sku("A"),
            location=WH,
            quantity=10,
            source="import:stock.csv",
            occurred_at=datetime(2026, 11, 20, 6, tzinfo=UTC),
        ),
        StockAdjusted(
            idempotency_key=f"import:{summary.file_id}:3",
            sku=Sku("A"),
            location=WH,
            quantity=-1,
            source="import:stock.csv",
            occurred_at=T0,
            reason="import",
        ),
    ]


async def test_reimporting_the_same_file_is_all_duplicates(store: Store) -> None:
    first = await _import(store, MIXED)
    events = len(await store.ledger.read())
    # Later and under another mode: rows without their own time or mode would now read
    # differently, yet the file was imported already, so nothing changes.
    later = ManualClock(T0 + timedelta(hours=5))
    again = await _import(store, MIXED, mode=ImportMode.DELTA, clock=later)
    assert (again.rows, again.applied, again.duplicates) == (9, 0, 4)
    assert again.rejected == first.rejected  # refused rows stay refused, with the first answer
    assert again.errors == first.errors
    assert len(await store.ledger.read()) == events
    assert await _on_hand(store, "A", "B", "C") == {"A": 7, "B": 7, "C": 0}


async def test_deltas_are_not_applied_twice_but_another_file_applies(store: Store) -> None:
    deltas = b"sku,location,quantity\nA,wh1,5\nB,wh1,2\n"
    for _ in range(3):
        await _import(store, deltas, mode=ImportMode.DELTA)
    assert await _on_hand(store, "A", "B") == {"A": 5, "B": 2}
    # The same rows in a different file (here: one blank line more) are a new delivery.
    summary = await _import(store, deltas + b"\n", mode=ImportMode.DELTA)
    assert summary.applied == 2
    assert await _on_hand(store, "A", "B") == {"A": 10, "B": 4}


async def test_rows_apply_in_file_order_across_chunks(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(import_runner, "CHUNK", 2)
    data = b"sku,location,quantity,mode\nA,wh1,10,\nA,wh1,-3,delta\nA,wh1,4,\nA,wh1,1,delta\n"
    summary = await _import(store, data)
    assert summary.applied == 4
    assert await _on_hand(store, "A") == {"A": 5}


async def test_jsonl_imports_like_csv(store: Store) -> None:
    data = (
        b'{"sku": "A", "location": "wh1", "quantity": 3}\n'
        b'{"sku": "A", "location": "wh1", "quantity": 2, "mode": "delta"}\n'
        b'{"sku": "A", "location": "wh1", "quantity": "lots"}\n'
    )
    summary = await _import(store, data, fmt=ImportFormat.JSONL)
    assert (summary.applied, summary.errors) == (
        2,
        (RowError(3, "quantity: must be an integer, got 'lots'"),),
    )
    assert await _on_hand(store, "A") == {"A": 5}


async def test_a_file_level_error_writes_nothing(store: Store) -> None:
    with pytest.raises(InvalidInputError, match="header: unknown column 'colour'"):
        await _import(store, b"sku,location,quantity,colour\nA,wh1,1,red\n")
    with pytest.raises(InvalidInputError, match="file: is not UTF-8 text"):
        await _import(store, b"sku,location,quantity\nA,wh1,1\n\xff,wh1,1\n")
    assert await store.ledger.read() == []


async def test_progress_reports_lines_up_to_the_total(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(import_runner, "CHUNK", 2)
    seen: list[tuple[int, int]] = []
    data = b"sku,location,quantity\nA,wh1,1\nB,wh1,2\nC,wh1,3\n\n"
    await run_import(
        store,
        "s.csv",
        data,
        fmt=ImportFormat.CSV,
        default_mode=ImportMode.ABSOLUTE,
        clock=ManualClock(T0),
        progress=lambda done, total: seen.append((done, total)),
    )
    assert seen == [(3, 5), (4, 5), (5, 5)]


async def test_two_imports_of_one_file_at_once_apply_each_row_once(store: Store) -> None:
    data = b"sku,location,quantity\n" + b"A,wh1,1\nB,wh1,1\n" * 50
    first, second = await asyncio.gather(
        _import(store, data, mode=ImportMode.DELTA),
        _import(store, data, mode=ImportMode.DELTA, clock=ManualClock(T0 + timedelta(1))),
    )
    assert first.applied + second.applied == 100
    assert first.duplicates + second.duplicates == 100
    assert await _on_hand(store, "A", "B") == {"A": 50, "B": 50}


async def test_twenty_thousand_rows_import_in_a_few_seconds(store: Store) -> None:
    skus = [f"S{i:04d}" for i in range(1_000)]
    await store.catalog.put_items([Item(sku=Sku(s)) for s in skus])
    data = b"sku,location,quantity\n" + b"".join(
        b"%s,wh1,%d\n" % (skus[i % 1_000].encode(), i % 40) for i in range(20_000)
    )
    summary = await _import(store, data)
    assert (summary.applied, summary.complete) == (20_000, True)
    assert summary.seconds < 10, summary.seconds
    again = await _import(store, data)
    assert again.duplicates == 20_000
    assert (again.rejected, again.errors) == ((), ())
