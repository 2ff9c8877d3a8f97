"""Loading the slice of the ledger a change touches, and keeping desired quantities current.

Shared by event appends and catalog edits: both recompute the desired quantity of every
affected listing in the transaction that changes its inputs."""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field

from omnistock.domain.allocation import AllocationPolicy, effective_policy
from omnistock.domain.balance import Balance
from omnistock.domain.bundles import Bundle, BundleComponent
from omnistock.domain.ids import AccountId, ListingId, LocationId, Sku
from omnistock.domain.planning import ListingPlan, plan_desired
from omnistock.ledger.codec import decode_override, decode_policy
from omnistock.ledger.database import BulkStatement, Database, RetryableError


@dataclass(slots=True)
class Slice:
    """Everything posting and planning need about a set of SKUs."""

    versions: dict[Sku, int] = field(default_factory=dict)  # concurrency tokens
    last_seq: dict[Sku, int] = field(default_factory=dict)
    bundles: dict[Sku, Bundle] = field(default_factory=dict)
    containing: dict[Sku, list[Sku]] = field(default_factory=dict)
    balances: dict[Sku, dict[LocationId, Balance]] = field(default_factory=dict)


@dataclass(slots=True)
class ListingSlice:
    plans: list[ListingPlan] = field(default_factory=list)
    desired: dict[ListingId, int] = field(default_factory=dict)
    pushed: dict[ListingId, int] = field(default_factory=dict)
    account: dict[ListingId, AccountId] = field(default_factory=dict)


def load_slice(db: Database, skus: Collection[Sku]) -> Slice:
    """The SKUs, every bundle related to them, those bundles' components, and balances."""
    result = Slice()
    wanted = db.list_param(skus)
    rows = db.rows(
        "SELECT bundle, component, quantity FROM bundle_components WHERE bundle IN"
        " (SELECT bundle FROM bundle_components"
        f" WHERE {db.any_of('component')} OR {db.any_of('bundle')})"
        " ORDER BY bundle, component",
        (wanted, wanted),
    )
    parts: dict[Sku, list[BundleComponent]] = {}
    for bundle, component, quantity in rows:
        parts.setdefault(bundle, []).append(BundleComponent(component, quantity))
        result.containing.setdefault(component, []).append(bundle)
    result.bundles = {sku: Bundle(sku, tuple(c)) for sku, c in parts.items()}
    everything = set(skus) | set(parts) | set(result.containing)
    listed = db.list_param(everything)
    for sku, version, last_seq in db.rows(
        f"SELECT sku, version, last_seq FROM items WHERE {db.any_of('sku')}", (listed,)
    ):
        result.versions[sku] = version
        result.last_seq[sku] = last_seq
    for sku, location, on_hand, reserved in db.rows(
        f"SELECT sku, location, on_hand, reserved FROM balances WHERE {db.any_of('sku')}",
        (listed,),
    ):
        result.balances.setdefault(sku, {})[location] = Balance(on_hand, reserved)
    return result


def _effective_policies(db: Database) -> Callable[[str, str | None], AllocationPolicy]:
    accounts = {a: decode_policy(text) for a, text in db.rows("SELECT id, policy FROM accounts")}

    @functools.cache
    def effective(account: str, override: str | None) -> AllocationPolicy:
        base = accounts[account]
        return base if override is None else effective_policy(base, decode_override(override))

    return effective


def load_listings(db: Database, skus: Collection[Sku]) -> ListingSlice:
    """The listings of `skus` with their effective policies and sync state."""
    effective = _effective_policies(db)
    result = ListingSlice()
    for listing, sku, account, override, desired, pushed in db.rows(
        "SELECT l.id, l.sku, l.account, l.override, s.desired_qty, s.pushed_qty"
        " FROM listings l LEFT JOIN listing_sync s ON s.listing = l.id"
        f" WHERE {db.any_of('l.sku')}",
        (db.list_param(skus),),
    ):
        result.plans.append(ListingPlan(listing, sku, effective(account, override)))
        result.account[listing] = account
        if desired is not None:
            result.desired[listing] = desired
        if pushed is not None:
            result.pushed[listing] = pushed
    return result


class ListingPlans:
    """Listings and their effective policies by SKU, cached until the catalog changes.

    Every catalog edit bumps `catalog_version` in its transaction; a writer whose cached
    plans went stale meanwhile also conflicts on the SKU versions the edit bumped."""

    def __init__(self) -> None:
        self._version = -1
        self._by_sku: dict[Sku, list[tuple[ListingPlan, AccountId]]] = {}

    def get(self, db: Database, skus: Collection[Sku]) -> list[tuple[ListingPlan, AccountId]]:
        [(version,)] = db.rows("SELECT version FROM catalog_version")
        if version != self._version:
            self._by_sku.clear()
            self._version = version
        missing = [sku for sku in skus if sku not in self._by_sku]
        if missing:
            self._load(db, missing)
        return [entry for sku in skus for entry in self._by_sku[sku]]

    def _load(self, db: Database, skus: list[Sku]) -> None:
        effective = _effective_policies(db)
        for sku in skus:
            self._by_sku[sku] = []
        for listing, sku, account, override in db.rows(
            f"SELECT id, sku, account, override FROM listings WHERE {db.any_of('sku')}",
            (db.list_param(skus),),
        ):
            plan = ListingPlan(listing, sku, effective(account, override))
            self._by_sku[sku].append((plan, account))


def bump_catalog(db: Database) -> None:
    """Mark every cached listing plan stale (call in the transaction of a catalog edit)."""
    db.run("UPDATE catalog_version SET version = version + 1")


_DESIRED_COLUMNS = (
    ("listing", "text"),
    ("desired_qty", "bigint"),
    ("desired_seq", "bigint"),
    ("priority", "bigint"),
)
_UPDATE_DESIRED = BulkStatement(
    name="desired",
    columns=_DESIRED_COLUMNS,
    per_row="UPDATE listing_sync SET desired_qty = ?2, desired_seq = ?3, priority = ?4"
    " WHERE listing = ?1 AND desired_qty <> ?2",
    set_based="UPDATE listing_sync AS s SET desired_qty = r.desired_qty,"
    " desired_seq = r.desired_seq, priority = r.priority FROM {rows} AS r"
    " WHERE s.listing = r.listing AND s.desired_qty <> r.desired_qty",
)
_UPSERT_DESIRED = BulkStatement(
    name="new_desired",
    columns=(*_DESIRED_COLUMNS, ("account", "text")),
    per_row="INSERT INTO listing_sync (listing, desired_qty, desired_seq, priority, account)"
    " VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (listing) DO UPDATE SET"
    " desired_qty = excluded.desired_qty, desired_seq = excluded.desired_seq,"
    " priority = excluded.priority WHERE listing_sync.desired_qty <> excluded.desired_qty",
    set_based="INSERT INTO listing_sync (listing, desired_qty, desired_seq, priority, account)"
    " SELECT listing, desired_qty, desired_seq, priority, account FROM {rows}"
    " ON CONFLICT (listing) DO UPDATE SET"
    " desired_qty = excluded.desired_qty, desired_seq = excluded.desired_seq,"
    " priority = excluded.priority WHERE listing_sync.desired_qty <> excluded.desired_qty",
)
_BUMP_VERSIONS = BulkStatement(
    name="versions",
    columns=(("sku", "text"), ("last_seq", "bigint"), ("version", "bigint")),
    per_row="UPDATE items SET version = version + 1, last_seq = ?2 WHERE sku = ?1 AND version = ?3",
    set_based="UPDATE items AS i SET version = i.version + 1, last_seq = r.last_seq"
    " FROM {rows} AS r WHERE i.sku = r.sku AND i.version = r.version",
)


def refresh_desired(
    db: Database,
    listings: list[tuple[ListingPlan, AccountId]],
    balances: Mapping[Sku, Mapping[LocationId, Balance]],
    bundles: Mapping[Sku, Bundle],
    sequences: Mapping[Sku, int],
    *,
    create: bool = False,
) -> None:
    """Recompute and store the desired quantity of `listings` (creating their sync rows
    when `create`); unchanged rows keep the sequence of their last real change.

    A trigger (see the schema) marks a listing dirty when desired moves away from pushed."""
    changes = plan_desired([plan for plan, _ in listings], balances, bundles, sequences, {})
    if create:
        account = {plan.listing: acc for plan, acc in listings}
        created = [(*c, account[c.listing]) for c in changes]
        db.run_bulk(_UPSERT_DESIRED, created)
    else:
        db.run_bulk(_UPDATE_DESIRED, changes)  # (listing, quantity, sequence, priority) rows


def release_held(db: Database, listings: list[tuple[ListingPlan, AccountId]]) -> None:
    """Make the held-back ones among `listings` dirty again (their stock is now known)."""
    if listings:
        db.run(
            f"UPDATE listing_sync SET dirty = 1, held = NULL WHERE {db.any_of('listing')}"
            " AND held IS NOT NULL",
            (db.list_param([plan.listing for plan, _ in listings]),),
        )


def bump_versions(
    db: Database, read: Mapping[Sku, int], last_seq: Mapping[Sku, int], skus: Iterable[Sku]
) -> None:
    """Advance the version of `skus` if no one else did since `read`; else RetryableError.

    Sorted so that two writers lock rows in the same order and cannot deadlock."""
    rows = [(sku, last_seq[sku], read[sku]) for sku in sorted(skus)]
    if db.run_bulk(_BUMP_VERSIONS, rows) != len(rows):
        raise RetryableError("a SKU changed since it was read")
