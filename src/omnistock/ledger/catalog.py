"""The catalog in the store: locations, SKUs, bundles, channel accounts and listings.

Every edit that changes what a listing should show recomputes its desired quantity in the
same transaction, guarded by the SKU versions like an event append."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from omnistock.domain.bundles import Bundle
from omnistock.domain.catalog import ChannelAccount, Item, Listing, Location
from omnistock.domain.catalog_batch import (
    AccountPolicy,
    CatalogBatch,
    CatalogIndex,
    CatalogKind,
    EditCounts,
    ListingOverride,
)
from omnistock.domain.errors import StorageBusyError
from omnistock.domain.ids import AccountId, Sku
from omnistock.ledger.catalog_writes import (
    check_exist,
    listed_on,
    read_bundles,
    refresh,
    write_batch,
    write_bundles,
    write_items,
    write_locations,
)
from omnistock.ledger.codec import (
    decode_mapping,
    decode_override,
    decode_policy,
    encode_mapping,
    encode_override,
    encode_policy,
)
from omnistock.ledger.database import Database, RetryableError


class CatalogRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    def put_location(self, location: Location) -> None:
        """Create or rename a location."""
        location.validate()
        with self._db.transaction():
            write_locations(self._db, [location])

    def put_items(self, items: Collection[Item]) -> None:
        """Create or rename SKUs, all in one transaction."""
        for item in items:
            item.validate()
        with self._db.transaction():
            write_items(self._db, items)

    def put_bundle(self, bundle: Bundle) -> None:
        """Define or redefine a bundle; its listings' desired quantities follow."""
        bundle.validate()
        with self._db.transaction():
            write_bundles(self._db, [bundle])
            refresh(self._db, {bundle.sku, *(c.sku for c in bundle.components)})

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
            refresh(self._db, listed_on(self._db, [account.id]))

    def put_listings(self, listings: Collection[Listing]) -> None:
        """Create or update listings; each gets its desired quantity at once."""
        for listing in listings:
            listing.validate()
        with self._db.transaction():
            check_exist(self._db, "account", "accounts", "id", {x.account for x in listings})
            check_exist(self._db, "sku", "items", "sku", {x.sku for x in listings})
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
            refresh(self._db, {x.sku for x in listings})

    def apply_batch(self, batch: CatalogBatch) -> dict[CatalogKind, EditCounts]:
        """Apply every record of `batch` in one transaction, or none of them.

        A record already as the batch says is counted unchanged and not written, so applying
        the same batch again writes nothing. Raises InvalidInputError (a malformed record, a
        nested bundle, a bundle SKU holding stock), UnknownEntityError (a SKU, account or
        listing the catalog lacks) or StorageBusyError (a concurrent writer won the race)."""
        batch.validate()
        try:
            with self._db.transaction():
                return write_batch(self._db, batch)
        except RetryableError:
            raise StorageBusyError(
                "the catalog changed while the batch was applied; nothing was written"
            ) from None

    def index(self) -> CatalogIndex:
        """The ids the catalog holds, to check a batch's references before applying it."""
        bundles: dict[Sku, set[Sku]] = {}
        for bundle, component in self._db.rows("SELECT bundle, component FROM bundle_components"):
            bundles.setdefault(bundle, set()).add(component)
        stocked = "SELECT DISTINCT sku FROM balances WHERE on_hand <> 0 OR reserved <> 0"
        return CatalogIndex(
            locations=self._column("SELECT id FROM locations"),
            skus=self._column("SELECT sku FROM items"),
            bundles={sku: frozenset(parts) for sku, parts in bundles.items()},
            stocked=self._column(stocked),
            accounts=self._column("SELECT id FROM accounts"),
            listings=self._column("SELECT id FROM listings"),
        )

    def export(self) -> CatalogBatch:
        """The whole catalog as one batch, read in one transaction: every location, item and
        bundle, every account's policy and every listing override that is not empty."""
        with self._db.transaction():
            return CatalogBatch(
                locations=tuple(self.locations()),
                items=tuple(self.items()),
                bundles=tuple(self.bundles()),
                account_policies=tuple(AccountPolicy(a.id, a.policy) for a in self.accounts()),
                listing_overrides=tuple(
                    ListingOverride(x.id, x.override)
                    for x in self.listings()
                    if not x.override.is_empty()
                ),
            )

    def _column(self, sql: str) -> frozenset[Any]:
        return frozenset(row[0] for row in self._db.rows(sql))

    def locations(self) -> list[Location]:
        rows = self._db.rows("SELECT id, name FROM locations ORDER BY id")
        return [Location(id=i, name=n) for i, n in rows]

    def items(self) -> list[Item]:
        rows = self._db.rows("SELECT sku, name FROM items ORDER BY sku")
        return [Item(sku=s, name=n) for s, n in rows]

    def bundles(self) -> list[Bundle]:
        return list(read_bundles(self._db).values())

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

    def check_items(self, skus: Collection[Sku]) -> None:
        """Raises UnknownEntityError naming the first SKU the catalog does not have."""
        check_exist(self._db, "sku", "items", "sku", skus)
