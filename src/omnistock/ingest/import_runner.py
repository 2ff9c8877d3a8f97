"""Running an ERP/WMS import: a stock file's rows checked against the catalog and appended
to the ledger in chunks, then one summary of what applied, repeated, was refused or was bad.

Good rows apply while bad rows are reported: one bad row never blocks the others."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from omnistock.clock import Clock
from omnistock.domain.balance import Rejection
from omnistock.domain.errors import IdempotencyConflictError
from omnistock.ingest.imports import (
    ImportFormat,
    ImportMode,
    ImportOptions,
    ImportRow,
    ParsedRow,
    RowError,
    read_stock_file,
)
from omnistock.ledger.store import Store

CHUNK = 1_000  # rows per append: one transaction each, far below the journal's MAX_BATCH
# Two imports of the same file at once can both find a row new and then race to append it;
# the loser sees a key conflict (its default occurred_at differs) and asks again.
_CONFLICT_ATTEMPTS = 3

Progress = Callable[[int, int], None]  # (lines done, lines in the file)


@dataclass(frozen=True, slots=True)
class RejectedRow:
    """A row the ledger refused by rule (e.g. a count on a bundle SKU, a delta below zero)."""

    line: int
    code: str
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ImportSummary:
    """What became of every row of one file.

    `applied` rows changed the ledger now; `duplicates` were applied by an earlier import of
    the same file; `rejected` rows were refused by the ledger (now or when first imported);
    `errors` never became events. rows = applied + duplicates + rejected + errors."""

    source: str
    file_id: str
    rows: int
    applied: int
    duplicates: int
    rejected: tuple[RejectedRow, ...]
    errors: tuple[RowError, ...]
    seconds: float

    @property
    def complete(self) -> bool:
        """Every row applied, now or before."""
        return not self.rejected and not self.errors

    def to_json(self) -> dict[str, object]:
        return {
            "source": self.source,
            "file_id": self.file_id,
            "rows": self.rows,
            "applied": self.applied,
            "duplicates": self.duplicates,
            "rejected": [
                {"line": r.line, "code": r.code, "reason": r.reason} for r in self.rejected
            ],
            "errors": [{"line": e.line, "reason": e.reason} for e in self.errors],
            "seconds": round(self.seconds, 3),
        }


async def run_import(
    store: Store,
    source_name: str,
    data: bytes,
    *,
    fmt: ImportFormat,
    default_mode: ImportMode,
    clock: Clock,
    progress: Progress | None = None,
) -> ImportSummary:
    """Import one CSV or JSONL stock file; rows are appended in file order.

    Raises InvalidInputError, before anything is written, when the file as a whole cannot be
    imported (see read_stock_file); the events' source is `import:<source_name>`."""
    started = time.perf_counter()
    options = ImportOptions(
        default_mode=default_mode, occurred_at=clock.now(), source=f"import:{source_name}"
    )
    stock_file = read_stock_file(data, fmt, options)
    catalog = await _Catalog.load(store)
    tally = _Tally()
    for chunk in _chunks(stock_file.rows, CHUNK):
        await _apply(store, catalog.screen(chunk, tally), tally)
        if progress is not None:
            progress(min(chunk[-1].line, stock_file.lines), stock_file.lines)
    if progress is not None:
        progress(stock_file.lines, stock_file.lines)
    return tally.summary(options.source, stock_file.file_id, time.perf_counter() - started)


@dataclass(frozen=True, slots=True)
class _Catalog:
    """The SKUs and locations that exist, read once per import."""

    skus: frozenset[str]
    locations: frozenset[str]

    @classmethod
    async def load(cls, store: Store) -> _Catalog:
        items = await store.catalog.items()
        locations = await store.catalog.locations()
        return cls(frozenset(i.sku for i in items), frozenset(loc.id for loc in locations))

    def screen(self, chunk: Iterable[ParsedRow], tally: _Tally) -> list[ImportRow]:
        """The rows worth appending; the others go to the tally as row errors.

        Checked here rather than left to the ledger, which refuses a whole batch that
        names an unknown SKU or location."""
        good = []
        for row in chunk:
            if isinstance(row, RowError):
                tally.errors.append(row)
            elif row.event.sku not in self.skus:
                tally.errors.append(RowError(row.line, f"unknown sku {row.event.sku!r}"))
            elif row.event.location not in self.locations:
                tally.errors.append(RowError(row.line, f"unknown location {row.event.location!r}"))
            else:
                good.append(row)
        return good


@dataclass(slots=True)
class _Tally:
    applied: int = 0
    duplicates: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    def count(self, row: ImportRow, rejection: Rejection | None, *, before: bool) -> None:
        if rejection is not None:
            self.rejected.append(RejectedRow(row.line, rejection.code.value, rejection.message))
        elif before:
            self.duplicates += 1
        else:
            self.applied += 1

    def summary(self, source: str, file_id: str, seconds: float) -> ImportSummary:
        return ImportSummary(
            source=source,
            file_id=file_id,
            rows=self.applied + self.duplicates + len(self.rejected) + len(self.errors),
            applied=self.applied,
            duplicates=self.duplicates,
            rejected=tuple(sorted(self.rejected, key=lambda r: r.line)),
            errors=tuple(sorted(self.errors, key=lambda e: e.line)),
            seconds=seconds,
        )


async def _apply(store: Store, rows: list[ImportRow], tally: _Tally) -> None:
    for attempt in range(1, _CONFLICT_ATTEMPTS + 1):
        try:
            await _apply_once(store, rows, tally)
        except IdempotencyConflictError:
            if attempt == _CONFLICT_ATTEMPTS:
                raise
        else:
            return


async def _apply_once(store: Store, rows: list[ImportRow], tally: _Tally) -> None:
    """Append the rows not seen before; the tally changes only once the append succeeded."""
    if not rows:
        return
    # Rows already imported are answered from their recorded outcome, never appended again:
    # a row without its own occurred_at carries this import's time, so appending it again
    # would be a key reused with another payload rather than a duplicate.
    seen = await store.inbox.known([row.event.idempotency_key for row in rows])
    fresh = [row for row in rows if row.event.idempotency_key not in seen]
    results = await store.ledger.append([row.event for row in fresh]) if fresh else []
    for row in rows:
        key = row.event.idempotency_key
        if key in seen:
            tally.count(row, seen[key], before=True)
    for row, result in zip(fresh, results, strict=True):
        tally.count(row, result.rejection, before=result.duplicate)


def _chunks(rows: Iterator[ParsedRow], size: int) -> Iterator[list[ParsedRow]]:
    while chunk := list(itertools.islice(rows, size)):
        yield chunk
