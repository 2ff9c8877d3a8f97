"""The catalog in the store: locations, SKUs, bundles, channel accounts and listings.

Every edit that changes what a listing should show recomputes its desired quantity in the
same transaction, guarded by the SKU versions like an event append."""

from __future__ import annotations

from collections.abc import Collection

from omnistock.domain.bundles import Bundle, BundleComponent
from omnistock.domain.catalog import ChannelAccount, Item, Listing, Location
from omnistock.domain.errors import InvalidInputError, UnknownEntityError
from omnistock.domain.ids import AccountId, Sku
from omnistock.ledger.codec import (
    decode_mapping,
    decode_override,
    decode_policy,
    encode_mapping,
    encode_override,
    encode_policy,
)
from omnistock.ledger.database import Database
from omnistock.ledger.projection import (
    ListingPlans,
    bump_catalog,
    bump_versions,
    load_slice,
    refresh_desired,
)


class CatalogRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    def put_location(self, location: Location) -> None:
        """Create or rename a location."""
        location.validate()
        with self._db.transaction():
            self._db.run(
                "INSERT INTO locations (id, name) VALUES (?, ?)"
                " ON CONFLICT (id) DO UPDATE SET name = excluded.name",
                (location.id, location.name),
            )

    def put_items(self, items: Collection[Item]) -> None:
        """Create or rename SKUs, all in one transaction."""
        for item in items:
            item.validate()
        with self._db.transaction():
            self._db.run_many(
                "INSERT INTO items (sku, name) VALUES (?, ?)"
                " ON CONFLICT (sku) DO UPDATE SET name = excluded.name",
                [(item.sku, item.name) for item in items],
            )

    def put_bundle(self, bundle: Bundle) -> None:
        """Define or redefine a bundle; its listings' desired quantities follow."""
        bundle.validate()
        with self._db.transaction():
            self._check_bundle(bundle)
            self._db.run("DELETE FROM bundle_components WHERE bundle = ?", (bundle.sku,))
            self._db.run_many(
                "INSERT INTO bundle_components (bundle, component, quantity) VALUES (?, ?, ?)",
                [(bundle.sku, c.sku, c.quantity) for c in bundle.components],
            )
            self._refresh({bundle.sku, *(c.sku for c in bundle.components)})

    def put_account(self, account: ChannelAccount) -> None:
        """Create or update a channel account; a new policy re-plans all its listings."""
        account.validate()
        with self._db.transaction():
            self._db.run(
                "INSERT INTO accounts (id, platform, name, policy, settings)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
                " platform = excluded.platform, name = excluded.name,"
                " policy = excluded.policy, settings = excluded.settings",
                (
                    account.id,
                    account.platform,
                    account.name,
                    encode_policy(account.policy),
                    encode_mapping(account.settings),
                ),
            )
            rows = self._db.rows(
                "SELECT DISTINCT sku FROM listings WHERE account = ?", (account.id,)
            )
            if rows:
                self._refresh({row[0] for row in rows})

    def put_listings(self, listings: Collection[Listing]) -> None:
        """Create or update listings; each gets its desired quantity at once."""
        for listing in listings:
            listing.validate()
        with self._db.transaction():
            self._check_exist("account", "accounts", "id", {x.account for x in listings})
            self._check_exist("sku", "items", "sku", {x.sku for x in listings})
            self._db.run_many(
                "INSERT INTO listings (id, account, sku, external_ids, override)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
                " account = excluded.account, sku = excluded.sku,"
                " external_ids = excluded.external_ids, override = excluded.override",
                [
                    (
                        x.id,
                        x.account,
                        x.sku,
                        encode_mapping(x.external_ids),
                        encode_override(x.override),
                    )
                    for x in listings
                ],
            )
            self._refresh({x.sku for x in listings})

    def locations(self) -> list[Location]:
        rows = self._db.rows("SELECT id, name FROM locations ORDER BY id")
        return [Location(id=i, name=n) for i, n in rows]

    def items(self) -> list[Item]:
        rows = self._db.rows("SELECT sku, name FROM items ORDER BY sku")
        return [Item(sku=s, name=n) for s, n in rows]

    def bundles(self) -> list[Bundle]:
        rows = self._db.rows(
            "SELECT bundle, component, quantity FROM bundle_components ORDER BY bundle, component"
        )
        parts: dict[Sku, list[BundleComponent]] = {}
        for bundle, component, quantity in rows:
            parts.setdefault(bundle, []).append(BundleComponent(component, quantity))
        return [Bundle(sku, tuple(c)) for sku, c in parts.items()]

    def accounts(self) -> list[ChannelAccount]:
        rows = self._db.rows(
            "SELECT id, platform, name, policy, settings FROM accounts ORDER BY id"
        )
        return [
            ChannelAccount(
                id=i, platform=p, name=n, policy=decode_policy(pol), settings=decode_mapping(s)
            )
            for i, p, n, pol, s in rows
        ]

    def listings(self, account: AccountId | None = None) -> list[Listing]:
        sql = "SELECT id, account, sku, external_ids, override FROM listings"
        params: tuple[object, ...] = ()
        if account is not None:
            sql += " WHERE account = ?"
            params = (account,)
        return [
            Listing(
                id=i, account=a, sku=s, external_ids=decode_mapping(e), override=decode_override(o)
            )
            for i, a, s, e, o in self._db.rows(sql + " ORDER BY id", params)
        ]

    def _check_bundle(self, bundle: Bundle) -> None:
        skus = {bundle.sku, *(c.sku for c in bundle.components)}
        self._check_exist("sku", "items", "sku", skus)
        nested = self._db.rows(
            "SELECT bundle, component FROM bundle_components"
            f" WHERE {self._db.any_of('bundle')} OR component = ?",
            (self._db.list_param(c.sku for c in bundle.components), bundle.sku),
        )
        if nested:
            raise InvalidInputError("bundle.components", "bundles cannot be nested")
        stocked = self._db.rows(
            "SELECT 1 FROM balances WHERE sku = ? AND (on_hand <> 0 OR reserved <> 0)",
            (bundle.sku,),
        )
        if stocked:
            raise InvalidInputError("bundle.sku", "already holds stock of its own")

    def check_items(self, skus: Collection[Sku]) -> None:
        """Raises UnknownEntityError naming the first SKU the catalog does not have."""
        self._check_exist("sku", "items", "sku", skus)

    def _check_exist(self, kind: str, table: str, column: str, values: Collection[str]) -> None:
        rows = self._db.rows(
            f"SELECT {column} FROM {table} WHERE {self._db.any_of(column)}",
            (self._db.list_param(values),),
        )
        missing = sorted(set(values) - {row[0] for row in rows})
        if missing:
            raise UnknownEntityError(kind, missing[0])

    def _refresh(self, skus: set[Sku]) -> None:
        bump_catalog(self._db)
        piece = load_slice(self._db, skus)
        touched = set(piece.versions)
        bump_versions(self._db, piece.versions, piece.last_seq, touched)
        listings = ListingPlans().get(self._db, touched)
        refresh_desired(
            self._db, listings, piece.balances, piece.bundles, piece.last_seq, create=True
        )
