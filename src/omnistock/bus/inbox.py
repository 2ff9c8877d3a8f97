"""The Inbox port: a durable, deduplicating, leased queue between ingestion and processing,
with the records processing keeps beside it, and the values they exchange.

Webhook intake and pollers `put`; the processor `take`s, looks up which order lines already
happened (`known`), and `settle`s: one call that records an item's ledger events, its marks,
its incidents and its acknowledgement in one transaction, as an event-sourced process
recorder commits new events with the tracking record of what it consumed. The embedded
form is the ledger database (`ledger.inbox.SqlInbox`, reached as `Store.inbox`); a
distributed form (JetStream) implements the same Protocol against the same contract suite
(tests/contract/inbox_suite.py).

The port sits below the ledger in the layers: it is pure values and a Protocol, and the
ledger's implementation imports them from here."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Protocol, TypeAlias

from omnistock.domain.balance import Rejection
from omnistock.domain.errors import InvalidInputError
from omnistock.domain.events import LedgerEvent
from omnistock.domain.ids import MAX_KEY_LENGTH, AccountId, check_identifier

MAX_PAYLOAD = 1_000_000  # characters of JSON: a large order, far below any webhook limit
DEFAULT_LEASE_S = 30.0
DEFAULT_MAX_ATTEMPTS = 8
# A line needs at most two appends (a fulfilment seen first: reserve, then fulfil) and one
# mark; more rounds than this mean a settlement is not converging, a bug worth parking.
MAX_ROUNDS = 4


class InboxKind(StrEnum):
    CHANNEL_EVENT = "channel_event"
    LEDGER_EVENTS = "ledger_events"
    IMPORT_ROW = "import_row"


@dataclass(frozen=True, slots=True, kw_only=True)
class InboxMessage:
    """What is put into the inbox: `payload` is JSON text, `dedupe_key` stable across
    redelivery of the same fact."""

    kind: InboxKind
    account: AccountId | None
    dedupe_key: str
    payload: str

    def validate(self) -> None:
        InboxKind(self.kind)
        check_identifier("dedupe_key", self.dedupe_key, MAX_KEY_LENGTH)
        if self.account is not None:
            check_identifier("account", self.account)
        if not isinstance(self.payload, str) or len(self.payload) > MAX_PAYLOAD:
            raise InvalidInputError("payload", f"must be text of at most {MAX_PAYLOAD} chars")


@dataclass(frozen=True, slots=True, kw_only=True)
class InboxItem:
    """A message as taken from the inbox: `attempts` counts deliveries, this one included."""

    id: int
    kind: InboxKind
    account: AccountId | None
    dedupe_key: str
    payload: str
    received_at: datetime
    attempts: int
    last_error: str | None = None


@dataclass(frozen=True, slots=True)
class InboxCounts:
    pending: int  # waiting, leased or scheduled for a retry
    parked: int  # gave up after the maximum attempts; kept for inspection


class IncidentKind(StrEnum):
    OVERSOLD = "oversold"  # a channel order the ledger could not cover
    UNMAPPED_LINE = "unmapped_line"  # an order line whose SKU omnistock does not know
    REJECTED = "rejected"  # another ledger rule refused an order event (nothing reserved…)


@dataclass(frozen=True, slots=True, kw_only=True)
class Incident:
    """Something ingestion could not apply as asked; `key` makes recording it idempotent."""

    key: str
    kind: IncidentKind
    account: AccountId | None
    reason: str
    order_id: str | None = None
    line_id: str | None = None
    sku: str | None = None
    location: str | None = None
    quantity: int | None = None
    recorded_at: datetime | None = None  # set by the store
    position: int | None = None  # set by the store: the order incidents were recorded in


# What `known` answers: per key found, its rejection (None: it happened).
KnownKeys: TypeAlias = dict[str, Rejection | None]


@dataclass(frozen=True, slots=True, kw_only=True)
class Step:
    """One round of a settlement, as the processor decides it from the known keys: the
    ledger events and marks still called for, and, when `final`, the incidents to record
    and the inbox items to acknowledge once they are written."""

    events: Sequence[LedgerEvent] = ()
    marks: Collection[str] = ()
    final: bool = False
    incidents: Sequence[Incident] = ()
    ack: Collection[int] = ()


class Appended(Protocol):
    """What became of one ledger event a settlement appended."""

    @property
    def duplicate(self) -> bool: ...
    @property
    def applied(self) -> bool: ...


@dataclass(frozen=True, slots=True)
class Settled:
    """What a settlement wrote: each appended event with its result, and, per incident of
    the final step, whether it was new (False: that key was recorded before)."""

    appended: list[tuple[LedgerEvent, Appended]] = field(default_factory=list)
    fresh: list[bool] = field(default_factory=list)


Decide: TypeAlias = Callable[[KnownKeys], Step]


class Inbox(Protocol):
    async def put(self, messages: Sequence[InboxMessage]) -> list[bool]:
        """Store every message durably before returning; one answer per message, in order:
        False when its dedupe key was already received (nothing is stored again, so
        duplicates are harmless). Raises InvalidInputError (nothing stored) for a malformed
        message, StorageBusyError when the store stayed contended."""
        ...

    async def take(self, limit: int, lease: float = ...) -> list[InboxItem]:
        """Up to `limit` items, oldest first, leased for `lease` seconds: an item neither
        acknowledged nor failed by then is delivered again (a crash loses nothing). Each
        delivery counts an attempt; an item whose attempts ran out is parked instead."""
        ...

    async def ack(self, ids: Collection[int]) -> None:
        """Done with these items: they are never delivered again. Idempotent."""
        ...

    async def fail(self, item_id: int, error: str, retry_at: datetime) -> bool:
        """Keep the item with `error`, to be delivered again from `retry_at`; after the
        maximum attempts it is parked (kept and listed by `parked`, never dropped).
        Returns whether it was parked."""
        ...

    async def parked(self, limit: int = 100) -> list[InboxItem]:
        """Parked items, oldest first, with their last error."""
        ...

    async def counts(self) -> InboxCounts:
        """How many items are pending (including leased and scheduled) and parked."""
        ...

    async def known(self, keys: Collection[str]) -> KnownKeys:
        """Which of these ledger keys already happened: appended (with its rejection, None
        when applied) or marked by a settlement."""
        ...

    async def settle(self, keys: Collection[str], decide: Decide) -> Settled:
        """In one transaction: call `decide` with the known `keys`, write its step's events
        and marks, and again with what is known then, until a step is final; then record
        its incidents (once per key) and acknowledge its items. `decide` must be pure: a
        contended transaction runs it again from the start. Raises what the ledger's append
        raises (nothing is written then), and RuntimeError after MAX_ROUNDS steps."""
        ...

    async def cursor(self, account: AccountId) -> str | None:
        """The account's saved poll cursor."""
        ...

    async def save_cursor(self, account: AccountId, cursor: str) -> None:
        """Move the account's poll cursor (after the inbox holds what it covers)."""
        ...

    async def incidents(self, limit: int = 100) -> list[Incident]:
        """Recorded incidents, the most recent first."""
        ...

    async def incidents_after(self, position: int, limit: int = 100) -> list[Incident]:
        """Incidents recorded after `position`, oldest first (a feed's next stretch)."""
        ...
