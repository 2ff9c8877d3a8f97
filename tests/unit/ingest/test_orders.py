"""Channel events into ledger events: each order action, redelivery, reordering, mapping."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

import pytest

from omnistock.adapters.base import ChannelEvent, ChannelEventType, OrderLine
from omnistock.domain.balance import Rejection, RejectionCode
from omnistock.domain.catalog import ChannelAccount, Listing
from omnistock.domain.events import (
    LedgerEvent,
    StockFulfilled,
    StockReleased,
    StockReserved,
    StockReturned,
)
from omnistock.domain.ids import AccountId, ListingId, LocationId, Sku
from omnistock.ingest.orders import (
    AccountContext,
    LineAction,
    Translation,
    keys_to_check,
    translate,
)

T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
SHOP = AccountId("shop")
KEY = "order:shop:100:7"


def context(**settings: str) -> AccountContext:
    account = ChannelAccount(
        id=SHOP, platform="woocommerce", settings={"location": "wh1", **settings}
    )
    listings = [
        Listing(
            id=ListingId("l1"),
            account=SHOP,
            sku=Sku("A"),
            external_ids={"product_id": "11", "variation_id": ""},
        ),
        Listing(
            id=ListingId("l2"),
            account=SHOP,
            sku=Sku("B"),
            external_ids={"product_id": "20", "variation_id": "21"},
        ),
    ]
    return AccountContext.build(account, listings, [Sku("A"), Sku("B"), Sku("C")])


def order(kind: ChannelEventType, *lines: OrderLine, restock: bool | None = None) -> ChannelEvent:
    return ChannelEvent(
        kind=kind,
        account=SHOP,
        dedupe_key=f"woo:100:{kind.value}",
        occurred_at=T0,
        order_id="100",
        lines=lines or (OrderLine(line_id="7", quantity=2, external_ids={"product_id": "11"}),),
        restock=restock,
    )


def done(*actions: LineAction) -> dict[str, Rejection | None]:
    return {f"{KEY}:{a.value}": None for a in actions}


def settle(
    event: ChannelEvent, ctx: AccountContext, known: Mapping[str, Rejection | None]
) -> tuple[list[LedgerEvent | str], dict[str, Rejection | None]]:
    """Apply translations as the processor would (everything applied) until settled."""
    now_known = dict(known)
    steps: list[LedgerEvent | str] = []
    for _ in range(5):
        result = translate(event, ctx, now_known)
        if result.settled:
            return steps, now_known
        steps.extend([*result.events, *result.marks])
        now_known.update(dict.fromkeys([e.idempotency_key for e in result.events], None))
        now_known.update(dict.fromkeys(result.marks, None))
    raise AssertionError("did not settle")


def test_a_placed_order_reserves_each_line_once() -> None:
    event = order(ChannelEventType.ORDER_PLACED)
    result = translate(event, context(), {})
    (reserved,) = result.events
    assert reserved == StockReserved(
        idempotency_key=f"{KEY}:reserved",
        sku=Sku("A"),
        location=LocationId("wh1"),
        quantity=2,
        source="channel:shop",
        occurred_at=T0,
        order_line="shop:100:7",
        account=SHOP,
    )
    reserved.validate()
    # Redelivered or re-polled (maybe with a later timestamp): nothing more to do.
    assert translate(event, context(), done(LineAction.RESERVED)) == Translation()


def test_lines_map_by_listing_ids_then_by_known_sku() -> None:
    lines = (
        OrderLine(line_id="1", quantity=1, external_ids={"product_id": "20", "variation_id": "21"}),
        OrderLine(line_id="2", quantity=1, sku=Sku("C"), external_ids={"product_id": "99"}),
        OrderLine(line_id="3", quantity=1, sku=Sku("ZZZ"), external_ids={"product_id": "98"}),
    )
    result = translate(order(ChannelEventType.ORDER_PLACED, *lines), context(), {})
    assert [e.sku for e in result.events] == ["B", "C"]
    (unmapped,) = result.unmapped
    assert unmapped.line.line_id == "3"
    assert "no listing or known SKU" in unmapped.reason


def test_an_account_without_a_location_rejects_its_lines_with_the_reason() -> None:
    ctx = AccountContext.build(ChannelAccount(id=SHOP, platform="woocommerce"), [], [Sku("A")])
    result = translate(order(ChannelEventType.ORDER_PLACED), ctx, {})
    assert result.events == ()
    assert "'location' setting" in result.unmapped[0].reason


@pytest.mark.parametrize("quantity", [0, -3, 2**31, 10**30])
def test_a_line_quantity_out_of_range_is_rejected_not_raised(quantity: int) -> None:
    line = OrderLine(line_id="7", quantity=quantity, external_ids={"product_id": "11"})
    result = translate(order(ChannelEventType.ORDER_PLACED, line), context(), {})
    assert result.events == ()
    assert f"quantity must be 1 to {2**31 - 1}, got {quantity}" in result.unmapped[0].reason


def test_a_cancellation_releases_an_open_reservation_once() -> None:
    event = order(ChannelEventType.ORDER_CANCELLED)
    (released,) = translate(event, context(), done(LineAction.RESERVED)).events
    assert isinstance(released, StockReleased)
    assert released.idempotency_key == f"{KEY}:released"
    assert translate(event, context(), done(LineAction.RESERVED, LineAction.RELEASED)).settled


def test_a_cancellation_seen_first_closes_the_line_so_a_late_placement_reserves_nothing() -> None:
    steps, known = settle(order(ChannelEventType.ORDER_CANCELLED), context(), {})
    assert steps == [f"{KEY}:closed"]
    assert translate(order(ChannelEventType.ORDER_PLACED), context(), known).settled


def test_a_refused_reservation_is_neither_released_nor_fulfilled_and_is_reported() -> None:
    refused = {f"{KEY}:reserved": Rejection(RejectionCode.INSUFFICIENT_STOCK, "available 0")}
    for kind in (ChannelEventType.ORDER_CANCELLED, ChannelEventType.ORDER_FULFILLED):
        assert translate(order(kind), context(), refused).settled
    (rejected,) = translate(order(ChannelEventType.ORDER_PLACED), context(), refused).rejected
    assert (rejected.action, rejected.rejection.code) == (
        LineAction.RESERVED,
        RejectionCode.INSUFFICIENT_STOCK,
    )


def test_closing_a_line_asks_to_read_its_level_back() -> None:
    # The channel restocks the units itself: only a read shows the level it reached, for a
    # line the ledger refused (no ledger change follows), took, or has not seen yet.
    refused = {f"{KEY}:reserved": Rejection(RejectionCode.INSUFFICIENT_STOCK, "available 0")}
    for known in (refused, done(LineAction.RESERVED), {}):
        for kind in (ChannelEventType.ORDER_CANCELLED, ChannelEventType.ORDER_REFUNDED):
            assert translate(order(kind), context(), known).verify == (Sku("A"),)
        for kind in (ChannelEventType.ORDER_PLACED, ChannelEventType.ORDER_FULFILLED):
            assert translate(order(kind), context(), known).verify == ()


def test_a_fulfilment_ships_the_reservation() -> None:
    event = order(ChannelEventType.ORDER_FULFILLED)
    (shipped,) = translate(event, context(), done(LineAction.RESERVED)).events
    assert isinstance(shipped, StockFulfilled)
    assert translate(event, context(), done(LineAction.RESERVED, LineAction.RELEASED)).settled


def test_a_fulfilment_seen_before_its_placement_reserves_then_fulfils() -> None:
    steps, _ = settle(order(ChannelEventType.ORDER_FULFILLED), context(), {})
    assert [type(s) for s in steps] == [StockReserved, StockFulfilled]


@pytest.mark.parametrize(
    ("event_restock", "setting", "expected"),
    [(None, "true", True), (None, "false", False), (False, "true", False), (True, "", True)],
)
def test_a_refund_after_shipping_returns_with_the_restock_policy(
    event_restock: bool | None, setting: str, expected: bool
) -> None:
    event = order(ChannelEventType.ORDER_REFUNDED, restock=event_restock)
    ctx = context(restock_on_refund=setting)
    (returned,) = translate(event, ctx, done(LineAction.RESERVED, LineAction.FULFILLED)).events
    assert isinstance(returned, StockReturned)
    assert returned.restock is expected
    known = done(LineAction.RESERVED, LineAction.FULFILLED, LineAction.RETURNED)
    assert translate(event, ctx, known).settled


def test_a_refund_before_shipping_releases_and_before_placing_closes() -> None:
    event = order(ChannelEventType.ORDER_REFUNDED)
    (released,) = translate(event, context(), done(LineAction.RESERVED)).events
    assert isinstance(released, StockReleased)
    assert translate(event, context(), {}).marks == (f"{KEY}:closed",)


def test_a_quantity_change_is_an_observation_not_a_ledger_event() -> None:
    event = ChannelEvent(
        kind=ChannelEventType.QUANTITY_CHANGED,
        account=SHOP,
        dedupe_key="woo:stock:21:4",
        occurred_at=T0,
        external_ids={"product_id": "20", "variation_id": "21"},
        quantity=4,
    )
    result = translate(event, context(), {})
    assert result.events == ()
    assert result.observation is not None
    assert (result.observation.sku, result.observation.quantity) == ("B", 4)
    assert keys_to_check(event, context()) == []


def test_keys_to_check_cover_every_action_of_every_line() -> None:
    keys = keys_to_check(order(ChannelEventType.ORDER_PLACED), context())
    assert keys == [f"{KEY}:{action.value}" for action in LineAction]
