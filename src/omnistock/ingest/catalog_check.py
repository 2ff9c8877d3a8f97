"""A catalog file's rows checked as a whole (pure): repeated records, bundles gathered from
their component rows, and references to what neither the catalog nor the file holds.

A record with any error is refused whole (a bundle with all its rows, so that no bundle is
ever written with part of its components); the others form the batch the ledger applies."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from omnistock.domain.bundles import MAX_COMPONENTS, Bundle, BundleComponent
from omnistock.domain.catalog import Item, Location
from omnistock.domain.catalog_batch import (
    AccountPolicy,
    CatalogBatch,
    CatalogIndex,
    ListingOverride,
)
from omnistock.domain.ids import Sku
from omnistock.ingest.catalog_file import BundleRowError, CatalogRow, ComponentRow, ParsedRow
from omnistock.ingest.textfile import RowError

V = TypeVar("V")
P = TypeVar("P", AccountPolicy, ListingOverride)


@dataclass(frozen=True, slots=True, kw_only=True)
class CheckedFile:
    """What of a file can be applied (`batch`), and every row refused, by line.

    `records` counts the file's records, a bundle once however many rows it has;
    `refused` how many of them were refused."""

    batch: CatalogBatch
    records: int
    refused: int
    errors: tuple[RowError, ...]


def check_rows(rows: Iterable[ParsedRow], index: CatalogIndex) -> CheckedFile:
    """Gather `rows` into records and check them against `index` and one another."""
    gathered = _Gathered()
    for row in rows:
        gathered.add(row)
    return _check_references(gathered, index)


@dataclass(slots=True)
class _Keyed(Generic[V]):
    """Records of one kind by key, each with its line; a key's second record is refused."""

    key_field: str
    found: dict[str, tuple[int, V]] = field(default_factory=dict)

    def add(self, key: str, line: int, value: V, errors: _Errors) -> None:
        if key in self.found:
            errors.refuse(
                line, f"{self.key_field}: {key!r} is already on line {self.found[key][0]}"
            )
        else:
            self.found[key] = (line, value)


@dataclass(slots=True)
class _BundleRows:
    lines: list[int] = field(default_factory=list)
    components: dict[Sku, tuple[int, BundleComponent]] = field(default_factory=dict)
    problem: tuple[int, str] | None = None  # the first one found refuses the bundle

    def flag(self, line: int, reason: str) -> None:
        if self.problem is None:
            self.problem = (line, reason)


@dataclass(slots=True)
class _Errors:
    by_line: dict[int, str] = field(default_factory=dict)
    refused: int = 0

    def refuse(self, line: int, reason: str) -> None:
        """One record refused: its (only) line and why."""
        self.by_line.setdefault(line, reason)
        self.refused += 1

    def refuse_bundle(self, sku: Sku, rows: _BundleRows, line: int, reason: str) -> None:
        """A whole bundle refused: the line at fault, and each other line named with it."""
        self.by_line.setdefault(line, reason)
        for other in rows.lines:
            self.by_line.setdefault(
                other, f"bundle_sku: bundle {sku!r} is refused as a whole (see line {line})"
            )
        self.refused += 1


class _Gathered:
    """The file's records by kind and key, in file order."""

    def __init__(self) -> None:
        self.errors = _Errors()
        self.locations: _Keyed[Location] = _Keyed("id")
        self.items: _Keyed[Item] = _Keyed("sku")
        self.bundles: dict[Sku, _BundleRows] = {}
        self.policies: _Keyed[AccountPolicy] = _Keyed("account")
        self.overrides: _Keyed[ListingOverride] = _Keyed("listing")

    def add(self, row: ParsedRow) -> None:
        if isinstance(row, RowError):
            self.errors.refuse(row.line, row.reason)
        elif isinstance(row, BundleRowError):
            self._bundle(row.bundle, row.line).flag(row.line, row.reason)
        else:
            self._record(row)

    def _record(self, row: CatalogRow) -> None:
        value, line, errors = row.value, row.line, self.errors
        if isinstance(value, Location):
            self.locations.add(value.id, line, value, errors)
        elif isinstance(value, Item):
            self.items.add(value.sku, line, value, errors)
        elif isinstance(value, ComponentRow):
            self._component(value, line)
        elif isinstance(value, AccountPolicy):
            self.policies.add(value.account, line, value, errors)
        else:
            self.overrides.add(value.listing, line, value, errors)

    def _component(self, row: ComponentRow, line: int) -> None:
        rows = self._bundle(row.bundle, line)
        sku = row.component.sku
        if sku in rows.components:
            before = rows.components[sku][0]
            rows.flag(line, f"component_sku: {sku!r} is already in the bundle on line {before}")
        else:
            rows.components[sku] = (line, row.component)

    def _bundle(self, sku: Sku, line: int) -> _BundleRows:
        rows = self.bundles.setdefault(sku, _BundleRows())
        rows.lines.append(line)
        return rows


def _check_references(gathered: _Gathered, index: CatalogIndex) -> CheckedFile:
    errors = gathered.errors
    locations: frozenset[str] = index.locations | set(gathered.locations.found)
    skus: frozenset[str] = index.skus | set(gathered.items.found)
    for sku, rows in gathered.bundles.items():
        if rows.problem is None:
            _check_bundle(sku, rows, skus, index)
    _check_nesting(gathered.bundles, index.bundles)
    bundles = []
    for sku, rows in gathered.bundles.items():
        if rows.problem is not None:
            errors.refuse_bundle(sku, rows, *rows.problem)
        else:
            parts = sorted(rows.components.values(), key=lambda part: part[1].sku)
            bundles.append(Bundle(sku, tuple(component for _, component in parts)))
    policies = _referring(gathered.policies, "account", index.accounts, locations, errors)
    overrides = _referring(gathered.overrides, "listing", index.listings, locations, errors)
    batch = CatalogBatch(
        locations=tuple(value for _, value in gathered.locations.found.values()),
        items=tuple(value for _, value in gathered.items.found.values()),
        bundles=tuple(bundles),
        account_policies=tuple(policies),
        listing_overrides=tuple(overrides),
    )
    return CheckedFile(
        batch=batch,
        records=errors.refused + _count(batch),
        refused=errors.refused,
        errors=tuple(RowError(line, reason) for line, reason in sorted(errors.by_line.items())),
    )


def _count(batch: CatalogBatch) -> int:
    return (
        len(batch.locations)
        + len(batch.items)
        + len(batch.bundles)
        + len(batch.account_policies)
        + len(batch.listing_overrides)
    )


def _check_bundle(sku: Sku, rows: _BundleRows, skus: frozenset[str], index: CatalogIndex) -> None:
    first = rows.lines[0]
    if sku not in skus:
        rows.flag(first, f"bundle_sku: unknown item {sku!r}")
    elif sku in index.stocked:
        rows.flag(
            first,
            f"bundle_sku: {sku!r} holds stock of its own; a bundle's comes from its components",
        )
    elif len(rows.components) > MAX_COMPONENTS:
        rows.flag(first, f"bundle_sku: bundle {sku!r} has more than {MAX_COMPONENTS} components")
    for component, (line, _) in rows.components.items():
        if component not in skus:
            rows.flag(line, f"component_sku: unknown item {component!r}")


def _check_nesting(file: Mapping[Sku, _BundleRows], stored: Mapping[Sku, frozenset[Sku]]) -> None:
    """Judged on the catalog as the file leaves it: stored bundles, redefined by the file's."""
    final = dict(stored)
    final.update({sku: frozenset(r.components) for sku, r in file.items() if r.problem is None})
    container = {part: sku for sku, parts in sorted(final.items()) for part in parts}
    for sku, rows in file.items():
        if rows.problem is not None:
            continue
        if sku in container:
            outer = container[sku]
            rows.flag(
                rows.lines[0],
                f"bundle_sku: {sku!r} is a component of bundle {outer!r}; bundles cannot be nested",
            )
        for component, (line, _) in rows.components.items():
            if component in final:
                rows.flag(
                    line, f"component_sku: {component!r} is a bundle; bundles cannot be nested"
                )


def _referring(
    records: _Keyed[P],
    name: str,
    known: frozenset[str],
    locations: frozenset[str],
    errors: _Errors,
) -> list[P]:
    """The records whose account (or listing) and locations exist; the others refused."""
    kept: list[P] = []
    for key, (line, value) in records.found.items():
        policy = value.policy if isinstance(value, AccountPolicy) else value.override
        unknown = sorted((policy.locations or frozenset()) - locations)
        if key not in known:
            errors.refuse(line, f"{name}: unknown {name} {key!r}")
        elif unknown:
            errors.refuse(line, f"locations: unknown location {unknown[0]!r}")
        else:
            kept.append(value)
    return kept
