"""Channel events into ledger events, pure: what an order placed, cancelled, fulfilled or
refunded on a channel means for the ledger, given what already happened to each line.

Every order line has keys per action (`order:{account}:{order}:{line}:reserved`…), so a
redelivered or re-polled order changes nothing. `translate` is asked again after each
append (see the processor) until it has nothing left to add: a fulfilment seen before its
placement first reserves, then fulfils."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TypedDict

from omnistock.adapters.base import ChannelEvent, ChannelEventType, OrderLine
from omnistock.domain.account_settings import LOCATION
from omnistock.domain.balance import Rejection
from omnistock.domain.catalog import ChannelAccount, Listing
from omnistock.domain.events import (
    LedgerEvent,
    StockFulfilled,
    StockReleased,
    StockReserved,
    StockReturned,
)
from omnistock.domain.ids import MAX_QUANTITY, AccountId, LocationId, Sku

CHANNEL_SOURCE = "channel:"  # a ledger event's source, then the account it came from

IdsKey = frozenset[tuple[str, str]]


class LineAction(StrEnum):
    RESERVED = "reserved"
    RELEASED = "released"
    FULFILLED = "fulfilled"
    RETURNED = "returned"
    CLOSED = "closed"  # ended before omnistock saw it placed: never reserve it later


def ids_key(external_ids: Mapping[str, str]) -> IdsKey:
    """A listing's or line's platform ids as a lookup key (empty values carry nothing)."""
    return frozenset((name, value) for name, value in external_ids.items() if value)


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountContext:
    """What translation needs to know about one channel account."""

    account: AccountId
    location: LocationId | None
    restock_on_refund: bool = False
    skus_by_ids: Mapping[IdsKey, Sku] = field(default_factory=dict)
    known_skus: frozenset[Sku] = frozenset()

    @classmethod
    def build(
        cls, account: ChannelAccount, listings: Iterable[Listing], skus: Collection[Sku]
    ) -> AccountContext:
        options = account.options()
        return cls(
            account=account.id,
            location=options.location,
            restock_on_refund=options.restock_on_refund,
            skus_by_ids={
                ids_key(x.external_ids): x.sku for x in listings if ids_key(x.external_ids)
            },
            known_skus=frozenset(skus),
        )

    def sku_of(self, line: OrderLine) -> Sku | None:
        """The listing with exactly the line's platform ids, else the line's own SKU if
        omnistock stocks it."""
        by_ids = self.skus_by_ids.get(ids_key(line.external_ids))
        if by_ids is not None:
            return by_ids
        return line.sku if line.sku in self.known_skus else None


@dataclass(frozen=True, slots=True, kw_only=True)
class LineRef:
    order_id: str
    line_id: str
    order_line: str  # the ledger's order_line: account, order and line
    quantity: int
    sku: Sku | None = None  # None: could not be mapped
    location: LocationId | None = None

    def key(self, action: LineAction) -> str:
        return f"order:{self.order_line}:{action.value}"


@dataclass(frozen=True, slots=True, kw_only=True)
class UnmappedLine:
    line: LineRef
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RejectedLine:
    """The ledger refused an action on this line (kept in its outcomes)."""

    line: LineRef
    action: LineAction
    rejection: Rejection


@dataclass(frozen=True, slots=True, kw_only=True)
class DriftObservation:
    """A level a channel reported (QUANTITY_CHANGED, not our echo): for the dispatcher."""

    account: AccountId
    dedupe_key: str
    external_ids: Mapping[str, str]
    quantity: int
    occurred_at: datetime
    sku: Sku | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Translation:
    events: tuple[LedgerEvent, ...] = ()
    marks: tuple[str, ...] = ()  # keys to remember (lines closed before being placed)
    unmapped: tuple[UnmappedLine, ...] = ()
    rejected: tuple[RejectedLine, ...] = ()
    observation: DriftObservation | None = None
    # SKUs whose level the channel moved with no ledger counterpart: read them back.
    verify: tuple[Sku, ...] = ()

    @property
    def settled(self) -> bool:
        """Nothing left to append or mark: asking again would give the same answer."""
        return not self.events and not self.marks


def line_refs(event: ChannelEvent, ctx: AccountContext) -> list[LineRef]:
    """Every line of an order event, mapped to its SKU and location where possible."""
    order = event.order_id or ""
    return [
        LineRef(
            order_id=order,
            line_id=line.line_id,
            order_line=f"{event.account}:{order}:{line.line_id}",
            quantity=line.quantity,
            sku=ctx.sku_of(line),
            location=ctx.location,
        )
        for line in event.lines
    ]


def keys_to_check(event: ChannelEvent, ctx: AccountContext) -> list[str]:
    """The keys whose outcomes `translate` needs for this event."""
    return [ref.key(action) for ref in line_refs(event, ctx) for action in LineAction]


def translate(
    event: ChannelEvent, ctx: AccountContext, known: Mapping[str, Rejection | None]
) -> Translation:
    """The ledger events and marks `event` still calls for, given the `known` outcomes of
    its lines' keys (a key absent: not happened; None: applied; a Rejection: refused)."""
    if event.kind is ChannelEventType.QUANTITY_CHANGED:
        return Translation(observation=_observation(event, ctx))
    mapped = [_mapped(ref) for ref in line_refs(event, ctx)]
    lines = [m for m in mapped if isinstance(m, MappedLine)]
    steps = [_step(event, ctx, line, _state(line.ref, known)) for line in lines]
    return Translation(
        events=tuple(s for s in steps if s is not None and not isinstance(s, str)),
        marks=tuple(s for s in steps if isinstance(s, str)),
        unmapped=tuple(m for m in mapped if isinstance(m, UnmappedLine)),
        rejected=tuple(r for line in lines for r in _rejections(line.ref, known)),
        verify=tuple(line.sku for line in lines) if _restocks_itself(event) else (),
    )


def _restocks_itself(event: ChannelEvent) -> bool:
    """A cancel or refund: the channel puts the units back on its own listing, a level
    omnistock did not write. Only a read shows it: for a line the ledger refused (an
    oversell) no ledger change follows at all, and for one it took, the release's push can
    be coalesced away — a later change bringing the desired quantity back to what was
    pushed before the restock leaves the listing clean while the channel shows more."""
    return event.kind in (ChannelEventType.ORDER_CANCELLED, ChannelEventType.ORDER_REFUNDED)


@dataclass(frozen=True, slots=True)
class MappedLine:
    ref: LineRef
    sku: Sku
    location: LocationId


def _mapped(ref: LineRef) -> MappedLine | UnmappedLine:
    if ref.location is None:
        return UnmappedLine(line=ref, reason=f"account has no {LOCATION!r} setting")
    if ref.sku is None:
        return UnmappedLine(line=ref, reason="no listing or known SKU matches the line")
    if not 1 <= ref.quantity <= MAX_QUANTITY:
        return UnmappedLine(
            line=ref, reason=f"quantity must be 1 to {MAX_QUANTITY}, got {ref.quantity}"
        )
    return MappedLine(ref, ref.sku, ref.location)


@dataclass(frozen=True, slots=True, kw_only=True)
class _LineState:
    open: bool  # reserved, and neither released nor fulfilled
    fulfilled: bool
    returned: bool
    unseen: bool  # neither reserved, refused nor closed: placing it would reserve


def _state(ref: LineRef, known: Mapping[str, Rejection | None]) -> _LineState:
    def done(action: LineAction) -> bool:
        key = ref.key(action)
        return key in known and known[key] is None

    reservation = ref.key(LineAction.RESERVED)
    fulfilled = done(LineAction.FULFILLED)
    ended = done(LineAction.RELEASED) or fulfilled
    return _LineState(
        open=done(LineAction.RESERVED) and not ended,
        fulfilled=fulfilled,
        returned=done(LineAction.RETURNED),
        unseen=reservation not in known and ref.key(LineAction.CLOSED) not in known,
    )


_Step = LedgerEvent | str | None


def _step(event: ChannelEvent, ctx: AccountContext, line: MappedLine, state: _LineState) -> _Step:
    """The one next thing this line needs, if any: an event, or a key to mark."""
    match event.kind:
        case ChannelEventType.ORDER_PLACED:
            return _reserve(event, line) if state.unseen else None
        case ChannelEventType.ORDER_CANCELLED:
            return _end(event, line, state, LineAction.RELEASED)
        case ChannelEventType.ORDER_FULFILLED:
            if state.unseen:  # shipped before we saw it placed: reserve, then fulfil
                return _reserve(event, line)
            return _end(event, line, state, LineAction.FULFILLED)
        case ChannelEventType.ORDER_REFUNDED:
            if state.fulfilled and not state.returned:
                return _returned(event, ctx, line)
            return _end(event, line, state, LineAction.RELEASED)
    return None


def _end(event: ChannelEvent, line: MappedLine, state: _LineState, action: LineAction) -> _Step:
    """Release or fulfil an open reservation; close a line never seen placed."""
    if state.open:
        common = _common(event, line, action)
        if action is LineAction.FULFILLED:
            return StockFulfilled(**common, order_line=line.ref.order_line)
        return StockReleased(**common, order_line=line.ref.order_line)
    if state.unseen:
        return line.ref.key(LineAction.CLOSED)
    return None


def _reserve(event: ChannelEvent, line: MappedLine) -> StockReserved:
    return StockReserved(
        **_common(event, line, LineAction.RESERVED),
        order_line=line.ref.order_line,
        account=event.account,
    )


def _returned(event: ChannelEvent, ctx: AccountContext, line: MappedLine) -> StockReturned:
    restock = ctx.restock_on_refund if event.restock is None else event.restock
    return StockReturned(
        **_common(event, line, LineAction.RETURNED),
        restock=restock,
        order_line=line.ref.order_line,
    )


class _Common(TypedDict):
    idempotency_key: str
    sku: Sku
    location: LocationId
    quantity: int
    source: str
    occurred_at: datetime


def _common(event: ChannelEvent, line: MappedLine, action: LineAction) -> _Common:
    return _Common(
        idempotency_key=line.ref.key(action),
        sku=line.sku,
        location=line.location,
        quantity=line.ref.quantity,
        source=f"{CHANNEL_SOURCE}{event.account}",
        occurred_at=event.occurred_at,
    )


def _rejections(ref: LineRef, known: Mapping[str, Rejection | None]) -> list[RejectedLine]:
    return [
        RejectedLine(line=ref, action=action, rejection=rejection)
        for action in LineAction
        if (rejection := known.get(ref.key(action))) is not None
    ]


def _observation(event: ChannelEvent, ctx: AccountContext) -> DriftObservation | None:
    if event.quantity is None:
        return None
    return DriftObservation(
        account=event.account,
        dedupe_key=event.dedupe_key,
        external_ids=event.external_ids,
        quantity=event.quantity,
        occurred_at=event.occurred_at,
        sku=ctx.skus_by_ids.get(ids_key(event.external_ids)),
    )
