"""Projection rebuild: replay the whole log and compare with the live projections.

Backs `omnistock ledger verify`: balances, per-SKU sequences and desired quantities rebuilt
from the events must equal the stored ones exactly."""

from __future__ import annotations

from dataclasses import dataclass, field

from omnistock.domain.balance import ZERO, Balance
from omnistock.domain.ids import Sku
from omnistock.domain.planning import plan_desired
from omnistock.domain.posting import BalanceTable, RecordedEvent, replay
from omnistock.ledger.database import Database
from omnistock.ledger.journal import Journal
from omnistock.ledger.projection import load_listings, load_slice

_PAGE = 5_000


@dataclass(slots=True)
class VerifyReport:
    events: int = 0
    balances: int = 0
    listings: int = 0
    mismatches: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.mismatches


def verify(db: Database, journal: Journal) -> VerifyReport:
    """Rebuild every projection from the log and list each difference found."""
    report = VerifyReport()
    recorded: list[RecordedEvent] = []
    after = 0
    while page := journal.read(after, _PAGE):
        recorded.extend(RecordedEvent(s.event, s.sequence, s.bundle) for s in page)
        after = page[-1].position
    report.events = len(recorded)
    rebuilt, sequences = replay(recorded)
    skus = {row[0] for row in db.rows("SELECT sku FROM items")}
    piece = load_slice(db, skus)
    _compare_balances(report, rebuilt, piece.balances)
    for sku, seq in sequences.items():
        if piece.last_seq.get(sku) != seq:
            report.mismatches.append(f"sku {sku}: last sequence {piece.last_seq.get(sku)} != {seq}")
    listings = load_listings(db, skus)
    report.listings = len(listings.plans)
    expected = plan_desired(listings.plans, rebuilt, piece.bundles, {}, {})
    for change in expected:
        stored = listings.desired.get(change.listing)
        if stored != change.quantity:
            report.mismatches.append(
                f"listing {change.listing}: desired {stored} != rebuilt {change.quantity}"
            )
    return report


def _compare_balances(report: VerifyReport, rebuilt: BalanceTable, live: BalanceTable) -> None:
    pairs = {(s, loc) for table in (rebuilt, live) for s, at in table.items() for loc in at}
    report.balances = len(pairs)
    for sku, loc in sorted(pairs):
        want = rebuilt.get(Sku(sku), {}).get(loc, ZERO)
        have = live.get(Sku(sku), {}).get(loc, ZERO)
        if want != have:
            report.mismatches.append(f"balance {sku}@{loc}: stored {_show(have)} != {_show(want)}")


def _show(balance: Balance) -> str:
    return f"on_hand={balance.on_hand} reserved={balance.reserved}"
