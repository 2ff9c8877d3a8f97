"""The catalog's writes inside a caller's transaction: the single edits (`CatalogRepo.put_*`)
and a whole batch (a catalog file) share them, and re-plan the listings whose inputs moved.

Nothing here opens a transaction; everything raises before its caller commits."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import TypeVar

from omnistock.domain.allocation import AllocationPolicy, PolicyOverride
from omnistock.domain.bundles import Bundle, BundleComponent
from omnistock.domain.catalog import Item, Location
from omnistock.domain.catalog_batch import CatalogBatch, CatalogKind, EditCounts, diff
from omnistock.domain.errors import InvalidInputError, UnknownEntityError
from omnistock.domain.ids import AccountId, ListingId, Sku
from omnistock.ledger.codec import decode_override, decode_policy, encode_override, encode_policy
from omnistock.ledger.database import BulkStatement, Database, Row
from omnistock.ledger.projection import (
    ListingPlans,
    bump_catalog,
    bump_versions,
    load_slice,
    refresh_desired,
)

K = TypeVar("K", bound=str)

_UPSERT_ITEMS = BulkStatement(
    name="items",
    columns=(("sku", "text"), ("name", "text")),
    per_row="INSERT INTO items (sku, name) VALUES (?1, ?2)"
    " ON CONFLICT (sku) DO UPDATE SET name = excluded.name",
    set_based="INSERT INTO items (sku, name) SELECT sku, name FROM {rows}"
    " ON CONFLICT (sku) DO UPDATE SET name = excluded.name",
)


def write_locations(db: Database, locations: Iterable[Location]) -> None:
    db.run_many(
        "INSERT INTO locations (id, name) VALUES (?, ?)"
        " ON CONFLICT (id) DO UPDATE SET name = excluded.name",
        [(location.id, location.name) for location in locations],
    )


def write_items(db: Database, items: Iterable[Item]) -> None:
    # One row per SKU, the last winning as one upsert after another would: PostgreSQL's
    # set-based upsert refuses to touch a row twice.
    last = {item.sku: item.name for item in items}
    db.run_bulk(_UPSERT_ITEMS, list(last.items()))


def write_bundles(db: Database, bundles: Collection[Bundle]) -> None:
    """Replace the components of `bundles` (the caller re-plans their listings).

    Raises UnknownEntityError for a SKU the catalog lacks, InvalidInputError for a bundle SKU
    that holds stock of its own or for bundles nested in one another."""
    if not bundles:
        return
    skus = {b.sku for b in bundles}
    check_exist(db, "sku", "items", "sku", skus | {c.sku for b in bundles for c in b.components})
    stocked = db.rows(
        f"SELECT sku FROM balances WHERE {db.any_of('sku')}"
        " AND (on_hand <> 0 OR reserved <> 0) ORDER BY sku",
        (db.list_param(skus),),
    )
    if stocked:
        raise InvalidInputError("bundle.sku", f"{stocked[0][0]!r} already holds stock of its own")
    db.run(f"DELETE FROM bundle_components WHERE {db.any_of('bundle')}", (db.list_param(skus),))
    db.run_many(
        "INSERT INTO bundle_components (bundle, component, quantity) VALUES (?, ?, ?)",
        [(b.sku, c.sku, c.quantity) for b in bundles for c in b.components],
    )
    _check_not_nested(db, skus)


def _check_not_nested(db: Database, skus: Collection[Sku]) -> None:
    # Checked on what the transaction wrote, so that bundles redefined together are judged
    # by their new components rather than their old ones.
    wanted = db.list_param(skus)
    nested = db.rows(
        "SELECT a.bundle FROM bundle_components a"
        " JOIN bundle_components b ON b.bundle = a.component"
        f" WHERE {db.any_of('a.bundle')} OR {db.any_of('b.bundle')} LIMIT 1",
        (wanted, wanted),
    )
    if nested:
        raise InvalidInputError("bundle.components", "bundles cannot be nested")


def read_bundles(db: Database, skus: Collection[Sku] | None = None) -> dict[Sku, Bundle]:
    """The bundles among `skus` (all of them for None), components in SKU order."""
    sql = "SELECT bundle, component, quantity FROM bundle_components"
    params: tuple[object, ...] = ()
    if skus is not None:
        sql += f" WHERE {db.any_of('bundle')}"
        params = (db.list_param(skus),)
    parts: dict[Sku, list[BundleComponent]] = {}
    for bundle, component, quantity in db.rows(sql + " ORDER BY bundle, component", params):
        parts.setdefault(bundle, []).append(BundleComponent(component, quantity))
    return {sku: Bundle(sku, tuple(components)) for sku, components in parts.items()}


def listed_on(db: Database, accounts: Collection[AccountId]) -> set[Sku]:
    """The SKUs listed on `accounts`: the ones a change of their policy re-plans."""
    rows = db.rows(
        f"SELECT DISTINCT sku FROM listings WHERE {db.any_of('account')}",
        (db.list_param(accounts),),
    )
    return {row[0] for row in rows}


def check_exist(db: Database, kind: str, table: str, column: str, values: Collection[str]) -> None:
    """Raise UnknownEntityError naming the first of `values` missing from `table`."""
    rows = db.rows(
        f"SELECT {column} FROM {table} WHERE {db.any_of(column)}", (db.list_param(values),)
    )
    _check_all_found(kind, values, {row[0] for row in rows})


def refresh(db: Database, skus: set[Sku]) -> None:
    """Re-plan the desired quantity of every listing of `skus` (and of related bundles)."""
    if not skus:
        return
    bump_catalog(db)
    piece = load_slice(db, skus)
    touched = set(piece.versions)
    bump_versions(db, piece.versions, piece.last_seq, touched)
    listings = ListingPlans().get(db, touched)
    refresh_desired(db, listings, piece.balances, piece.bundles, piece.last_seq, create=True)


def write_batch(db: Database, batch: CatalogBatch) -> dict[CatalogKind, EditCounts]:
    """Write what differs from the store, kind by kind, then re-plan the listings once.

    Raises as `write_bundles` does, and UnknownEntityError for an account or listing the
    catalog lacks; the caller's transaction then writes nothing."""
    writer = _BatchWriter(db)
    counts = {
        CatalogKind.LOCATION: writer.locations(batch.locations),
        CatalogKind.ITEM: writer.items(batch.items),
        CatalogKind.BUNDLE: writer.bundles(batch.bundles),
        CatalogKind.ACCOUNT_POLICY: writer.policies(
            {entry.account: entry.policy for entry in batch.account_policies}
        ),
        CatalogKind.LISTING_OVERRIDE: writer.overrides(
            {entry.listing: entry.override for entry in batch.listing_overrides}
        ),
    }
    refresh(db, writer.replan)
    return counts


class _BatchWriter:
    """Compares each kind's records with the stored ones and writes only those that differ,
    collecting the SKUs whose listings must be re-planned."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self.replan: set[Sku] = set()

    def locations(self, locations: Iterable[Location]) -> EditCounts:
        wanted = {x.id: x for x in locations}
        changed, counts = self._renamed("locations", "id", {k: x.name for k, x in wanted.items()})
        write_locations(self._db, [wanted[key] for key in changed])
        return counts

    def items(self, items: Iterable[Item]) -> EditCounts:
        wanted = {x.sku: x for x in items}
        changed, counts = self._renamed("items", "sku", {k: x.name for k, x in wanted.items()})
        write_items(self._db, [wanted[key] for key in changed])
        return counts

    def _renamed(
        self, table: str, column: str, names: Mapping[K, str]
    ) -> tuple[list[K], EditCounts]:
        rows = self._stored(f"SELECT {column}, name FROM {table}", column, names)
        return diff(names, dict(rows))

    def bundles(self, bundles: Iterable[Bundle]) -> EditCounts:
        # Components in SKU order, as they are read back, so that equal bundles compare equal.
        wanted = {b.sku: Bundle(b.sku, tuple(sorted(b.components, key=_sku))) for b in bundles}
        changed, counts = diff(wanted, read_bundles(self._db, wanted))
        write_bundles(self._db, [wanted[key] for key in changed])
        for key in changed:
            self.replan |= {key, *(c.sku for c in wanted[key].components)}
        return counts

    def policies(self, wanted: Mapping[AccountId, AllocationPolicy]) -> EditCounts:
        rows = self._stored("SELECT id, policy FROM accounts", "id", wanted)
        stored = {i: decode_policy(text) for i, text in rows}
        _check_all_found("account", wanted, stored)
        changed, counts = diff(wanted, stored)
        self._db.run_many(
            "UPDATE accounts SET policy = ? WHERE id = ?",
            [(encode_policy(wanted[key]), key) for key in changed],
        )
        if changed:
            self.replan |= listed_on(self._db, changed)
        return counts

    def overrides(self, wanted: Mapping[ListingId, PolicyOverride]) -> EditCounts:
        rows = self._stored("SELECT id, override, sku FROM listings", "id", wanted)
        stored = {i: decode_override(text) for i, text, _ in rows}
        _check_all_found("listing", wanted, stored)
        changed, counts = diff(wanted, stored)
        self._db.run_many(
            "UPDATE listings SET override = ? WHERE id = ?",
            [(encode_override(wanted[key]), key) for key in changed],
        )
        skus = {i: sku for i, _, sku in rows}
        self.replan |= {skus[key] for key in changed}
        return counts

    def _stored(self, select: str, column: str, keys: Collection[str]) -> list[Row]:
        if not keys:
            return []
        return self._db.rows(
            f"{select} WHERE {self._db.any_of(column)}", (self._db.list_param(keys),)
        )


def _check_all_found(kind: str, wanted: Collection[str], stored: Collection[str]) -> None:
    """Raise UnknownEntityError naming the first of `wanted` (sorted) not `stored`."""
    missing = sorted(set(wanted) - set(stored))
    if missing:
        raise UnknownEntityError(kind, missing[0])


def _sku(component: BundleComponent) -> Sku:
    return component.sku
