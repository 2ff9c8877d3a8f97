"""Running a catalog import: a catalog file's rows checked against the store's catalog, then
applied in one transaction; and the export of a store's catalog as such a file.

A file with any bad row applies nothing, unless bad rows are to be skipped: then every good
record applies, together, and each bad row is reported by line."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from omnistock.domain.catalog_batch import CatalogKind, EditCounts
from omnistock.ingest.catalog_check import check_rows
from omnistock.ingest.catalog_export import export_lines
from omnistock.ingest.catalog_file import CatalogFile, ParsedRow
from omnistock.ingest.import_runner import Progress
from omnistock.ingest.imports import ImportFormat
from omnistock.ingest.textfile import RowError
from omnistock.ledger.store import Store

_PROGRESS_EVERY = 5_000  # rows between two progress reports


@dataclass(frozen=True, slots=True, kw_only=True)
class CatalogImportSummary:
    """What became of every record of one file (a bundle counts once, however many rows).

    `applied` says whether the good records were written: always when no row is bad, and
    with bad rows only when they were to be skipped. records = created + updated +
    unchanged + refused when applied; else nothing was written and only `refused` counts."""

    source: str
    records: int
    applied: bool
    by_kind: Mapping[CatalogKind, EditCounts]
    refused: int
    errors: tuple[RowError, ...]
    seconds: float

    @property
    def complete(self) -> bool:
        """Every record applied (created, updated or already as the file says)."""
        return self.applied and not self.errors

    def total(self) -> EditCounts:
        counts = self.by_kind.values()
        return EditCounts(
            created=sum(c.created for c in counts),
            updated=sum(c.updated for c in counts),
            unchanged=sum(c.unchanged for c in counts),
        )

    def to_json(self) -> dict[str, object]:
        total = self.total()
        return {
            "source": self.source,
            "records": self.records,
            "applied": self.applied,
            "created": total.created,
            "updated": total.updated,
            "unchanged": total.unchanged,
            "refused": self.refused,
            "by_kind": {
                kind.value: {"created": c.created, "updated": c.updated, "unchanged": c.unchanged}
                for kind, c in self.by_kind.items()
            },
            "errors": [{"line": e.line, "reason": e.reason} for e in self.errors],
            "seconds": round(self.seconds, 3),
        }


async def run_catalog_import(
    store: Store,
    source: str,
    catalog_file: CatalogFile,
    *,
    skip_bad_rows: bool = False,
    progress: Progress | None = None,
) -> CatalogImportSummary:
    """Check a file read by read_catalog_file and apply it (see the module's docstring).

    Raises what CatalogRepo.apply_batch raises when the store refuses the batch (the catalog
    changed since it was read); nothing is written then."""
    started = time.perf_counter()
    index = await store.catalog.index()
    checked = check_rows(_reported(catalog_file, progress), index)
    applied = skip_bad_rows or not checked.errors
    by_kind = await store.catalog.apply_batch(checked.batch) if applied else {}
    return CatalogImportSummary(
        source=source,
        records=checked.records,
        applied=applied,
        by_kind=by_kind,
        refused=checked.refused,
        errors=checked.errors,
        seconds=time.perf_counter() - started,
    )


def _reported(catalog_file: CatalogFile, progress: Progress | None) -> Iterator[ParsedRow]:
    total = catalog_file.lines
    for count, row in enumerate(catalog_file.rows, start=1):
        if progress is not None and count % _PROGRESS_EVERY == 0:
            progress(min(row.line, total), total)
        yield row
    if progress is not None:
        progress(total, total)


async def export_catalog(
    store: Store, fmt: ImportFormat, kind: CatalogKind | None = None
) -> list[str]:
    """The store's catalog as the lines of a catalog file (see catalog_export.export_lines),
    all of them built before any is returned, so that a failure writes no partial file."""
    return list(export_lines(await store.catalog.export(), fmt, kind))
