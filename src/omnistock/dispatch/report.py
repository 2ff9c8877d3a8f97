"""What a dispatch pass did, as counts for metrics, logs and the demo.

Reports add up, so a run or a first sync sums the passes it made."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from omnistock.adapters.base import StockUpdate
from omnistock.domain.ids import ListingId
from omnistock.ledger.sync_state import PushOutcome, PushStatus


@dataclass(frozen=True, slots=True, kw_only=True)
class DispatchReport:
    pushed: int = 0  # listing updates sent to the platform
    succeeded: int = 0
    failed: int = 0
    calls: int = 0  # adapter push calls (one per batch)
    circuit_open: bool = False  # the pass stopped (or never started) at an open circuit

    @classmethod
    def of(cls, outcomes: Sequence[PushOutcome]) -> DispatchReport:
        """The report of one push call and its outcomes."""
        succeeded = sum(o.status is PushStatus.SUCCEEDED for o in outcomes)
        return cls(
            pushed=len(outcomes),
            succeeded=succeeded,
            failed=len(outcomes) - succeeded,
            calls=1,
        )

    def __add__(self, other: DispatchReport) -> DispatchReport:
        return DispatchReport(
            pushed=self.pushed + other.pushed,
            succeeded=self.succeeded + other.succeeded,
            failed=self.failed + other.failed,
            calls=self.calls + other.calls,
            circuit_open=other.circuit_open,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class FirstSyncReport:
    """A first sync: every listing's write (planned, or made) and what the pushes did."""

    updates: tuple[StockUpdate, ...]
    dry_run: bool
    report: DispatchReport = field(default_factory=DispatchReport)
    held: tuple[ListingId, ...] = ()  # dry run: held back, no stock known (not written)
