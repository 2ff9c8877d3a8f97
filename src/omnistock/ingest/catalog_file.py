"""Catalog files (CSV or JSONL) read row by row into catalog records (pure).

Every kind has the same fields in both formats (docs/catalog-files.md); a row becomes a record
with its line, or a RowError naming the line, the field and the problem. Only a file that
cannot be read at all raises (InvalidInputError, field "file" or "header")."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TypeAlias

from omnistock.domain.allocation import AllocationPolicy, PolicyOverride, effective_policy
from omnistock.domain.bundles import BundleComponent
from omnistock.domain.catalog import Item, Location
from omnistock.domain.catalog_batch import AccountPolicy, CatalogKind, ListingOverride
from omnistock.domain.errors import InvalidInputError
from omnistock.domain.ids import (
    MAX_QUANTITY,
    AccountId,
    ListingId,
    LocationId,
    Sku,
    check_identifier,
)
from omnistock.ingest.imports import ImportFormat
from omnistock.ingest.textfile import (
    CsvFile,
    Record,
    RowError,
    check_columns,
    check_utf8,
    count_lines,
    integer,
    jsonl_records,
    shown,
    text_lines,
    unknown_field,
)

MAX_FILE_BYTES = 256 << 20
MAX_LINES = 2_000_000
MAX_LINE_CHARS = 1 << 16  # a JSONL line; CSV fields have csv's own limit (128 KiB)
LOCATION_SEPARATOR = ";"  # between the location ids of a CSV `locations` cell
POLICY_FIELDS = ("safety_buffer", "share", "max_shown", "zero_below", "locations", "low_stock")
COLUMNS: Mapping[CatalogKind, tuple[str, ...]] = {
    CatalogKind.LOCATION: ("id", "name"),
    CatalogKind.ITEM: ("sku", "name"),
    CatalogKind.BUNDLE: ("bundle_sku", "component_sku", "quantity"),
    CatalogKind.ACCOUNT_POLICY: ("account", *POLICY_FIELDS),
    CatalogKind.LISTING_OVERRIDE: ("listing", *POLICY_FIELDS),
}
# The column that names each kind's record, and so tells a CSV file's kind by its header.
KEY_COLUMN: Mapping[CatalogKind, str] = {kind: columns[0] for kind, columns in COLUMNS.items()}
_REQUIRED: Mapping[CatalogKind, tuple[str, ...]] = {
    **{kind: (key,) for kind, key in KEY_COLUMN.items()},
    CatalogKind.BUNDLE: COLUMNS[CatalogKind.BUNDLE],
}
_KIND_NAMES = frozenset(kind.value for kind in CatalogKind)
_KINDS = ", ".join(kind.value for kind in CatalogKind)
# What repr() writes of a float between 0 and 1 (1e-05 included); never nan, inf or "1_0".
_DECIMAL = re.compile(r"([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?")


@dataclass(frozen=True, slots=True)
class ComponentRow:
    """One component of a bundle (a bundle is as many rows as it has components)."""

    bundle: Sku
    component: BundleComponent


CatalogValue: TypeAlias = Location | Item | ComponentRow | AccountPolicy | ListingOverride


@dataclass(frozen=True, slots=True)
class CatalogRow:
    line: int
    value: CatalogValue


@dataclass(frozen=True, slots=True)
class BundleRowError:
    """A bad component row whose bundle is known: that whole bundle must be refused."""

    line: int
    bundle: Sku
    reason: str


ParsedRow: TypeAlias = CatalogRow | BundleRowError | RowError


@dataclass(frozen=True, slots=True)
class CatalogFile:
    """A file that passed the file-level checks: its number of lines and its rows, read
    lazily and only once, in file order."""

    lines: int
    rows: Iterator[ParsedRow]


def read_catalog_file(
    data: bytes, fmt: ImportFormat, kind: CatalogKind | None = None
) -> CatalogFile:
    """Check `data` as a whole and return its rows; `kind`, when given, is the only kind
    the file may hold (a CSV file's kind is otherwise told by its header).

    Raises InvalidInputError before any row is read: field "file" when the file is too large
    or not UTF-8 text, "header" when a CSV header is missing, names unknown, repeated or too
    few columns, or does not tell its kind."""
    if len(data) > MAX_FILE_BYTES:
        raise InvalidInputError("file", f"is larger than {MAX_FILE_BYTES} bytes; split it")
    lines = count_lines(data)
    if lines > MAX_LINES:
        raise InvalidInputError("file", f"has more than {MAX_LINES} lines; split it")
    check_utf8(data)
    text = text_lines(data)
    rows = _csv_rows(CsvFile(text), kind) if fmt is ImportFormat.CSV else _jsonl_rows(text, kind)
    return CatalogFile(lines, rows)


def _csv_rows(csv_file: CsvFile, kind: CatalogKind | None) -> Iterator[ParsedRow]:
    chosen = kind or csv_kind(csv_file.names)
    check_columns(csv_file, COLUMNS[chosen], _REQUIRED[chosen])
    return (
        parse_row(chosen, record) if isinstance(record, Record) else record
        for record in csv_file.records()
    )


def csv_kind(names: list[str]) -> CatalogKind:
    """The kind a CSV header's key column names; InvalidInputError unless exactly one."""
    kinds = [kind for kind, key in KEY_COLUMN.items() if key in names]
    if len(kinds) == 1:
        return kinds[0]
    keys = ", ".join(f"{key} ({kind})" for kind, key in KEY_COLUMN.items())
    raise InvalidInputError(
        "header", f"cannot tell the kind of the rows: name one of the columns {keys}, or --kind"
    )


def _jsonl_rows(lines: Iterator[str], only: CatalogKind | None) -> Iterator[ParsedRow]:
    for record in jsonl_records(lines, MAX_LINE_CHARS):
        if isinstance(record, RowError):
            yield record
            continue
        try:
            kind = _kind(record.fields.get("kind"), only)
        except InvalidInputError as exc:
            yield RowError(record.line, str(exc))
            continue
        fields = {name: value for name, value in record.fields.items() if name != "kind"}
        known = ("kind", *COLUMNS[kind])
        yield unknown_field(record, known) or parse_row(kind, Record(record.line, fields))


def _kind(value: object, only: CatalogKind | None) -> CatalogKind:
    if value is None or value == "":
        raise InvalidInputError("kind", f"is required (one of {_KINDS})")
    if not isinstance(value, str) or value not in _KIND_NAMES:
        raise InvalidInputError("kind", f"must be one of {_KINDS}, got {shown(value)}")
    kind = CatalogKind(value)
    if only is not None and kind is not only:
        raise InvalidInputError("kind", f"must be {only.value!r} (--kind), got {value!r}")
    return kind


def parse_row(kind: CatalogKind, record: Record) -> ParsedRow:
    """One record's fields (CSV text or JSON values) as the catalog record of `kind`."""
    fields = record.fields
    try:
        return CatalogRow(record.line, _PARSERS[kind](fields))
    except InvalidInputError as exc:
        bundle = fields.get("bundle_sku")
        if kind is CatalogKind.BUNDLE and isinstance(bundle, str) and _is_identifier(bundle):
            return BundleRowError(record.line, Sku(bundle), str(exc))
        return RowError(record.line, str(exc))


def _location(fields: Mapping[str, object]) -> Location:
    location = Location(id=LocationId(_identifier("id", fields)), name=_name(fields))
    _validate_as_fields(location)
    return location


def _item(fields: Mapping[str, object]) -> Item:
    item = Item(sku=Sku(_identifier("sku", fields)), name=_name(fields))
    _validate_as_fields(item)
    return item


def _validate_as_fields(value: Location | Item) -> None:
    try:
        value.validate()
    except InvalidInputError as exc:  # the domain says "item.name"; the file says "name"
        raise InvalidInputError(exc.field.rpartition(".")[2], exc.problem) from None


def _component(fields: Mapping[str, object]) -> ComponentRow:
    bundle = _identifier("bundle_sku", fields)
    component = _identifier("component_sku", fields)
    quantity = _count("quantity", fields.get("quantity"), minimum=1)
    if component == bundle:
        raise InvalidInputError("component_sku", "a bundle cannot contain itself")
    return ComponentRow(Sku(bundle), BundleComponent(Sku(component), quantity))


def _account_policy(fields: Mapping[str, object]) -> AccountPolicy:
    account = AccountId(_identifier("account", fields))
    # A row states the whole policy: a field left out takes its default, as in the TOML.
    return AccountPolicy(account, effective_policy(AllocationPolicy(), _override(fields)))


def _listing_override(fields: Mapping[str, object]) -> ListingOverride:
    listing = ListingId(_identifier("listing", fields))
    override = _override(fields)
    effective_policy(AllocationPolicy(), override)  # raises on an out-of-range field
    return ListingOverride(listing, override)


_PARSERS: Mapping[CatalogKind, Callable[[Mapping[str, object]], CatalogValue]] = {
    CatalogKind.LOCATION: _location,
    CatalogKind.ITEM: _item,
    CatalogKind.BUNDLE: _component,
    CatalogKind.ACCOUNT_POLICY: _account_policy,
    CatalogKind.LISTING_OVERRIDE: _listing_override,
}


def _override(fields: Mapping[str, object]) -> PolicyOverride:
    def count(name: str) -> int | None:
        value = fields.get(name)
        return None if _absent(value) else _count(name, value, minimum=0)

    return PolicyOverride(
        safety_buffer=count("safety_buffer"),
        share=_share(fields.get("share")),
        max_shown=count("max_shown"),
        zero_below=count("zero_below"),
        locations=_locations(fields.get("locations")),
        low_stock=count("low_stock"),
    )


def _absent(value: object) -> bool:
    """An optional field counts as absent when missing, null or empty."""
    return value is None or value == ""


def _identifier(name: str, fields: Mapping[str, object]) -> str:
    value = fields.get(name)
    if _absent(value):
        raise InvalidInputError(name, "is required")
    return check_identifier(name, value)


def _is_identifier(value: str) -> bool:
    try:
        check_identifier("", value)
    except InvalidInputError:
        return False
    return True


def _name(fields: Mapping[str, object]) -> str:
    value = fields.get("name")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise InvalidInputError("name", f"must be a string, got {type(value).__name__}")
    return value


def _count(name: str, value: object, *, minimum: int) -> int:
    noun = "a positive integer" if minimum == 1 else "a non-negative integer"
    number = integer(name, value, noun)
    if number < minimum:
        raise InvalidInputError(name, f"must be {noun}, got {shown(value)}")
    if number > MAX_QUANTITY:
        raise InvalidInputError(name, f"must be at most {MAX_QUANTITY}, got {shown(value)}")
    return number


def _share(value: object) -> float | None:
    if _absent(value):
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)  # its range is the policy's to check
    if isinstance(value, str) and _DECIMAL.fullmatch(value):
        return float(value)
    raise InvalidInputError("share", f"must be a number between 0 and 1, got {shown(value)}")


def _locations(value: object) -> frozenset[LocationId] | None:
    if _absent(value):
        return None
    if isinstance(value, str):  # CSV: ids separated by `;`
        ids: list[object] = [part.strip() for part in value.split(LOCATION_SEPARATOR)]
    elif isinstance(value, list):
        ids = value
    else:
        raise InvalidInputError("locations", f"must be a list of location ids, got {shown(value)}")
    seen: set[LocationId] = set()
    for location in ids:
        check_identifier("locations", location)
        if location in seen:
            raise InvalidInputError("locations", f"{location!r} is repeated")
        seen.add(LocationId(str(location)))
    if not seen:
        raise InvalidInputError("locations", "must name at least one location")
    return frozenset(seen)
