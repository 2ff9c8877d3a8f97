"""A catalog written as a catalog file (pure), in the format catalog_file reads.

Records come out sorted by key with every field written, so that a file exported, imported
into another store and exported again comes out byte for byte the same."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator, Mapping, Sequence

from omnistock.domain.allocation import AllocationPolicy, PolicyOverride
from omnistock.domain.catalog_batch import CatalogBatch, CatalogKind
from omnistock.domain.errors import InvalidInputError
from omnistock.ingest.catalog_file import COLUMNS, LOCATION_SEPARATOR, POLICY_FIELDS
from omnistock.ingest.imports import ImportFormat

Value = str | int | float | list[str] | None
Fields = dict[str, Value]


def export_lines(
    catalog: CatalogBatch, fmt: ImportFormat, kind: CatalogKind | None = None
) -> Iterator[str]:
    """The file's lines, each ending with a line feed: every kind in JSONL (or only `kind`);
    one kind, which must be given, in CSV (a CSV file holds one kind).

    Raises InvalidInputError when CSV is asked for without a kind, or for a location id that
    holds the CSV `locations` separator."""
    kinds = list(CatalogKind) if kind is None else [kind]
    if fmt is ImportFormat.JSONL:
        return (_json_line(k, fields) for k in kinds for fields in records(catalog, k))
    if kind is None:
        raise InvalidInputError("kind", "a CSV file holds one kind of record: give --kind")
    return _csv_lines(kind, records(catalog, kind))


def records(catalog: CatalogBatch, kind: CatalogKind) -> Iterator[Fields]:
    """The records of one kind as the file's fields, sorted by key."""
    return _RECORDS[kind](catalog)


def _locations(catalog: CatalogBatch) -> Iterator[Fields]:
    for location in sorted(catalog.locations, key=lambda x: x.id):
        yield {"id": location.id, "name": location.name}


def _items(catalog: CatalogBatch) -> Iterator[Fields]:
    for item in sorted(catalog.items, key=lambda x: x.sku):
        yield {"sku": item.sku, "name": item.name}


def _bundles(catalog: CatalogBatch) -> Iterator[Fields]:
    for bundle in sorted(catalog.bundles, key=lambda x: x.sku):
        for part in sorted(bundle.components, key=lambda c: c.sku):
            yield {"bundle_sku": bundle.sku, "component_sku": part.sku, "quantity": part.quantity}


def _account_policies(catalog: CatalogBatch) -> Iterator[Fields]:
    for entry in sorted(catalog.account_policies, key=lambda x: x.account):
        yield {"account": entry.account, **_policy(entry.policy)}


def _listing_overrides(catalog: CatalogBatch) -> Iterator[Fields]:
    for entry in sorted(catalog.listing_overrides, key=lambda x: x.listing):
        yield {"listing": entry.listing, **_policy(entry.override)}


_RECORDS: Mapping[CatalogKind, Callable[[CatalogBatch], Iterator[Fields]]] = {
    CatalogKind.LOCATION: _locations,
    CatalogKind.ITEM: _items,
    CatalogKind.BUNDLE: _bundles,
    CatalogKind.ACCOUNT_POLICY: _account_policies,
    CatalogKind.LISTING_OVERRIDE: _listing_overrides,
}


def _policy(policy: AllocationPolicy | PolicyOverride) -> Fields:
    locations = None if policy.locations is None else sorted(map(str, policy.locations))
    fields: Fields = {
        "safety_buffer": policy.safety_buffer,
        "share": policy.share,
        "max_shown": policy.max_shown,
        "zero_below": policy.zero_below,
        "locations": locations,
        "low_stock": policy.low_stock,
    }
    return {name: fields[name] for name in POLICY_FIELDS}


def _json_line(kind: CatalogKind, fields: Fields) -> str:
    return json.dumps({"kind": kind.value, **fields}, ensure_ascii=False) + "\n"


def _csv_lines(kind: CatalogKind, rows: Iterator[Fields]) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")

    def line(cells: Sequence[str]) -> str:
        writer.writerow(cells)
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    columns = COLUMNS[kind]
    yield line(columns)
    for fields in rows:
        yield line([_cell(fields[name]) for name in columns])


def _cell(value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        bad = [location for location in value if LOCATION_SEPARATOR in location]
        if bad:
            raise InvalidInputError(
                "locations",
                f"{bad[0]!r} holds {LOCATION_SEPARATOR!r}, which CSV cannot write; export JSONL",
            )
        return LOCATION_SEPARATOR.join(value)
    return repr(value) if isinstance(value, float) else str(value)
