"""The WooCommerce adapter's pure parts (wire.py, events.py, limits.py): batch planning, the
error tables, the orders cursor, order and webhook normalisation, and the rate signal."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from omnistock.adapters.base import ChannelEventType, ItemStatus, ListingRef, StockUpdate
from omnistock.adapters.secrets import Secret
from omnistock.adapters.woocommerce import events, wire
from omnistock.adapters.woocommerce.limits import CAPABILITIES, rate_signal
from omnistock.domain.errors import (
    AuthFailedError,
    InvalidInputError,
    PermanentError,
    RateLimitedError,
    TransientError,
    WebhookRejectedError,
)
from omnistock.domain.ids import AccountId, ListingId, Sku

ACCOUNT = AccountId("woo-1")
T0 = datetime(2026, 1, 1, tzinfo=UTC)
OVERLAP = timedelta(seconds=120)


def ref(n: int, product: int | str | None, variation: int | str | None = None) -> ListingRef:
    ids = {} if product is None else {wire.PRODUCT_ID: str(product)}
    if variation is not None:
        ids[wire.VARIATION_ID] = str(variation)
    return ListingRef(listing=ListingId(f"L{n}"), sku=Sku(f"S{n}"), external_ids=ids)


def update(n: int, product: int | None, variation: int | None = None, qty: int = 5) -> StockUpdate:
    return StockUpdate(ref=ref(n, product, variation), quantity=qty, sequence=n)


# --- ids and push planning -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("ids", "expected"),
    [
        ((10, None), wire.Target(10)),
        ((10, 11), wire.Target(10, 11)),
        ((10, 0), wire.Target(10)),
        ((None, None), None),
        (("abc", None), None),
        ((10, "x"), None),
        ((0, None), None),
    ],
)
def test_target_of(ids: tuple[object, object], expected: wire.Target | None) -> None:
    product, variation = ids
    assert wire.target_of(ref(1, product, variation)) == expected  # type: ignore[arg-type]


def test_250_simple_updates_make_three_batches_in_order() -> None:
    updates = [update(i, 1000 + i) for i in range(250)]
    plan = wire.plan_push(updates, CAPABILITIES.max_batch)
    assert [len(c.writes) for c in plan.calls] == [100, 100, 50]
    assert {c.path for c in plan.calls} == {"products/batch"}
    indexes = [i for c in plan.calls for w in c.writes for i in w.indexes]
    assert indexes == list(range(250))


def test_variations_are_grouped_by_parent() -> None:
    updates = [update(0, 1, 2), update(1, 5), update(2, 1, 3), update(3, 7, 8)]
    plan = wire.plan_push(updates, 100)
    paths = {c.path: [w.target.item_id for w in c.writes] for c in plan.calls}
    assert paths == {
        "products/1/variations/batch": [2, 3],
        "products/batch": [5],
        "products/7/variations/batch": [8],
    }


def test_an_item_named_twice_is_written_once_with_its_last_quantity() -> None:
    plan = wire.plan_push([update(0, 9, qty=1), update(1, 9, qty=4)], 100)
    (call,) = plan.calls
    assert call.body() == {"update": [{"id": 9, "manage_stock": True, "stock_quantity": 4}]}
    assert call.writes[0].indexes == (0, 1)


def test_refs_without_ids_are_unaddressable_not_sent() -> None:
    plan = wire.plan_push([update(0, None), update(1, 3)], 100)
    assert plan.unaddressable == (0,)
    assert [w.target for c in plan.calls for w in c.writes] == [wire.Target(3)]


# --- per-item outcomes ------------------------------------------------------------------


def woo_error(code: str, status: int | None) -> wire.WooError:
    data = None if status is None else wire.WooErrorData(status=status)
    return wire.WooError(code=code, message="m", data=data)


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("woocommerce_rest_product_invalid_id", 400, ItemStatus.FAILED_PERMANENT),
        ("woocommerce_rest_product_variation_invalid_id", 400, ItemStatus.FAILED_PERMANENT),
        ("rest_invalid_param", 400, ItemStatus.FAILED_PERMANENT),
        ("product_invalid_sku", 400, ItemStatus.FAILED_PERMANENT),
        ("woocommerce_rest_cannot_edit", 403, ItemStatus.FAILED_PERMANENT),
        ("db_update_error", 500, ItemStatus.FAILED_RETRYABLE),
        ("something_new", 503, ItemStatus.FAILED_RETRYABLE),
        ("something_new", 429, ItemStatus.FAILED_RETRYABLE),
        ("something_new", 409, ItemStatus.FAILED_RETRYABLE),
        ("something_new", None, ItemStatus.FAILED_RETRYABLE),
        ("something_new", 422, ItemStatus.FAILED_PERMANENT),
    ],
)
def test_item_status_table(code: str, status: int | None, expected: ItemStatus) -> None:
    assert wire.item_status(woo_error(code, status)) is expected


def test_batch_outcomes_match_items_by_id() -> None:
    call = wire.plan_push([update(0, 1, qty=3), update(1, 2, qty=4), update(2, 3, qty=5)], 100)
    payload = {
        "update": [
            {"id": 3, "manage_stock": True, "stock_quantity": 5},
            {
                "id": 2,
                "error": {
                    "code": "woocommerce_rest_product_invalid_id",
                    "message": "Invalid ID.",
                    "data": {"status": 400},
                },
            },
        ]
    }
    missing, gone, ok = wire.batch_outcomes(call.calls[0], payload)
    assert (ok.status, ok.observed) == (ItemStatus.SUCCEEDED, 5)
    assert gone.status is ItemStatus.FAILED_PERMANENT
    assert gone.reason == "woocommerce_rest_product_invalid_id: Invalid ID."
    assert missing.status is ItemStatus.FAILED_RETRYABLE


def test_a_quantity_the_channel_did_not_keep_is_retryable() -> None:
    call = wire.plan_push([update(0, 1, qty=3)], 100).calls[0]
    payload = {"update": [{"id": 1, "manage_stock": True, "stock_quantity": 2}]}
    (outcome,) = wire.batch_outcomes(call, payload)
    assert (outcome.status, outcome.observed) == (ItemStatus.FAILED_RETRYABLE, 2)


def test_a_malformed_batch_response_is_a_value_error() -> None:
    call = wire.plan_push([update(0, 1)], 100).calls[0]
    with pytest.raises(ValueError, match="update"):
        wire.batch_outcomes(call, {"update": "nope"})


def test_failed_call_outcomes_carry_reason_and_retry_after() -> None:
    limited = wire.failed_call_outcome(RateLimitedError("slow", account=ACCOUNT, retry_after=3))
    refused = wire.failed_call_outcome(PermanentError("bad", account=ACCOUNT, status=400))
    assert (limited.status, limited.retry_after) == (ItemStatus.FAILED_RETRYABLE, 3)
    assert refused.status is ItemStatus.FAILED_PERMANENT
    assert refused.reason == "woo-1: bad (HTTP 400)"


# --- whole-call failures ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code", "retry_after", "expected"),
    [
        (401, "woocommerce_rest_cannot_view", None, AuthFailedError),
        (403, "woocommerce_rest_cannot_edit", None, AuthFailedError),
        (403, None, 30.0, RateLimitedError),
        (429, None, None, RateLimitedError),
        (429, None, 5.0, RateLimitedError),
        (503, None, 5.0, RateLimitedError),
        (503, None, None, TransientError),
        (500, "internal_server_error", None, TransientError),
        (502, None, None, TransientError),
        (504, None, None, TransientError),
        (408, None, None, TransientError),
        (400, "rest_invalid_param", None, PermanentError),
        (404, "rest_no_route", None, PermanentError),
        (413, "woocommerce_rest_request_entity_too_large", None, PermanentError),
        (400, "woocommerce_rest_authentication_error", None, AuthFailedError),
    ],
)
def test_error_class_table(
    status: int, code: str | None, retry_after: float | None, expected: type
) -> None:
    assert wire.error_class(status, code, retry_after) is expected


def test_call_error_quotes_woo_errors_but_not_host_pages() -> None:
    body = b'{"code":"rest_no_route","message":"No route.","data":{"status":404}}'
    woo = wire.call_error(404, body, None, account=ACCOUNT)
    host = wire.call_error(429, b"<html>ck_secret</html>", 7.0, account=ACCOUNT)
    assert type(woo) is PermanentError
    assert str(woo) == "woo-1: rest_no_route: No route. (HTTP 404)"
    assert isinstance(host, RateLimitedError)
    assert (host.retry_after, host.status) == (7.0, 429)
    assert "ck_secret" not in str(host)


@pytest.mark.parametrize(
    ("status", "headers", "expected"),
    [
        (200, {}, None),
        (500, {}, None),
        (429, {}, (None, True)),
        (429, {"Retry-After": "5"}, (5.0, True)),
        (503, {"Retry-After": "2"}, (2.0, True)),
        (403, {}, None),
        (403, {"Retry-After": "9"}, (9.0, True)),
        (200, {"Retry-After": "1"}, (1.0, False)),
    ],
)
def test_rate_signal(status: int, headers: dict[str, str], expected: object) -> None:
    signal = rate_signal(status, httpx.Headers(headers))
    got = None if signal is None else (signal.retry_after, signal.throttled)
    assert got == expected


# --- read -------------------------------------------------------------------------------


def test_reads_are_grouped_and_capped_at_a_page() -> None:
    targets = [wire.Target(i) for i in range(1, 151)] + [wire.Target(7, 8), None, wire.Target(1)]
    calls = wire.plan_read(targets)
    assert [(c.collection, len(c.ids)) for c in calls] == [
        ("products", 100),
        ("products", 50),
        ("products/7/variations", 1),
    ]
    assert calls[2].params() == {"include": "8", "per_page": "100"}


def test_shown_levels_only_count_managed_stock() -> None:
    call = wire.ReadCall("products/7/variations", (8, 9, 10))
    rows = [
        {"id": 8, "manage_stock": True, "stock_quantity": 4},
        {"id": 9, "manage_stock": "parent", "stock_quantity": 6},
        {"id": 10, "manage_stock": False, "stock_quantity": None},
    ]
    found = wire.shown_levels(call, rows)
    refs = [ref(i, 7, v) for i, v in enumerate((8, 9, 10, 11))] + [ref(5, None)]
    levels = wire.observed_levels(refs, [wire.target_of(r) for r in refs], found)
    assert [lv.quantity for lv in levels] == [4, 6, None, None, None]
    assert [lv.listing for lv in levels] == [r.listing for r in refs]


# --- the orders cursor --------------------------------------------------------------------


def test_cursor_round_trips_and_rejects_garbage() -> None:
    window = events.PollCursor(after=T0, before=T0 + OVERLAP, page=3, pages=4)
    keyset = events.PollCursor(after=T0)
    assert events.PollCursor.decode(window.encode()) == window
    assert events.PollCursor.decode(keyset.encode()) == keyset
    for garbage in ("nope", base64.urlsafe_b64encode(b'{"v":1}').decode()):
        with pytest.raises(InvalidInputError):
            events.PollCursor.decode(garbage)


def test_orders_query_keyset_then_window() -> None:
    keyset = events.orders_query(events.PollCursor(after=T0))
    assert keyset == {
        "modified_after": "2026-01-01T00:00:00",
        "dates_are_gmt": "true",
        "orderby": "modified",
        "order": "asc",
        "per_page": "100",
        "page": "1",
    }
    window = events.orders_query(events.PollCursor(after=T0, before=T0 + OVERLAP, page=2, pages=2))
    assert (window["orderby"], window["modified_before"], window["page"]) == (
        "id",
        "2026-01-01T00:02:00",
        "2",
    )


def test_next_cursor_steps() -> None:
    start = events.PollCursor(after=T0)
    late = T0 + timedelta(hours=1)
    assert events.next_cursor(start, [], 0, OVERLAP) == (start, False)
    # Last page: keep the high-water mark minus the overlap.
    assert events.next_cursor(start, [late], 1, OVERLAP) == (
        events.PollCursor(after=late - OVERLAP),
        False,
    )
    # More pages and room to advance: keyset.
    assert events.next_cursor(start, [T0 + timedelta(seconds=1), late], 3, OVERLAP) == (
        events.PollCursor(after=late - OVERLAP),
        True,
    )
    # A full page inside the overlap: sweep the window, probe first.
    dense = events.PollCursor(after=late - OVERLAP)
    probe = events.PollCursor(after=late - OVERLAP, before=late + timedelta(seconds=1))
    assert events.next_cursor(dense, [late] * 100, 2, OVERLAP) == (probe, True)
    last = events.PollCursor(after=probe.after, before=probe.before, page=2, pages=2)
    assert events.next_cursor(probe, [late] * 100, 2, OVERLAP) == (last, True)
    first = events.PollCursor(after=probe.after, before=probe.before, page=1, pages=2)
    assert events.next_cursor(last, [late] * 30, 2, OVERLAP) == (first, True)
    assert events.next_cursor(first, [late] * 100, 2, OVERLAP) == (
        events.PollCursor(after=late),
        True,
    )
    # A spread page leaves its top second to the keyset, where late arrivals still land.
    spread = [late - timedelta(seconds=9), *[late] * 99]
    assert events.next_cursor(dense, spread, 2, OVERLAP) == (
        events.PollCursor(after=dense.after, before=late),
        True,
    )
    swept = events.PollCursor(after=dense.after, before=late, page=1, pages=1)
    assert events.next_cursor(swept, spread, 1, OVERLAP) == (
        events.PollCursor(after=late - timedelta(seconds=1)),
        True,
    )


class FakeOrders:
    """WooCommerce's /orders filters and pagination over (id, modified) pairs, for the model
    test; `touch` re-modifies an order while a poll is under way, as a live site does."""

    def __init__(self, modified: list[int]) -> None:
        self.orders = {i + 1: T0 + timedelta(seconds=s) for i, s in enumerate(modified)}
        self.now = max(self.orders.values(), default=T0)

    def page(self, cursor: events.PollCursor) -> tuple[list[tuple[int, datetime]], int]:
        found = [
            (i, m)
            for i, m in self.orders.items()
            if m > cursor.after and (cursor.before is None or m < cursor.before)
        ]
        by_id = cursor.before is not None
        found.sort(key=lambda o: (o[0],) if by_id else (o[1], o[0]))
        pages = -(-len(found) // wire.PER_PAGE)
        start = (cursor.page - 1) * wire.PER_PAGE
        return found[start : start + wire.PER_PAGE], pages

    def touch(self, order_id: int) -> None:
        self.now += timedelta(seconds=1)
        self.orders[order_id] = self.now

    def arrive(self) -> None:
        """A new order in the same second as the latest change."""
        self.orders[max(self.orders, default=0) + 1] = self.now


def poll_to_exhaustion(server: FakeOrders, touch_every: int = 0, arrive: bool = False) -> set[int]:
    cursor, seen = events.PollCursor(after=events.EPOCH), set[int]()
    for step in range(1, 500):
        rows, pages = server.page(cursor)
        seen.update(i for i, _ in rows)
        cursor, more = events.next_cursor(cursor, [m for _, m in rows], pages, OVERLAP)
        if touch_every and step % touch_every == 0 and rows:
            server.touch(rows[0][0])  # an order already read changes again: pages shift
        arriving = arrive and step < 30
        if arriving:
            server.arrive()
        if not more and not arriving:  # a poller keeps polling while orders come in
            return seen
    raise AssertionError("polling never finished")


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 400), min_size=0, max_size=450),
    st.integers(0, 3),
    st.booleans(),
)
def test_polling_sees_every_order_despite_ties_and_shifting_pages(
    seconds: list[int], touch_every: int, arrive: bool
) -> None:
    server = FakeOrders(seconds)
    assert poll_to_exhaustion(server, touch_every, arrive) == set(server.orders)


def test_orders_arriving_in_a_dense_windows_last_second_are_not_lost() -> None:
    # The window's top second is the current one: orders still land in it while we sweep.
    server = FakeOrders([5] * 50 + [6] * 60)
    assert poll_to_exhaustion(server, arrive=True) == set(server.orders)


@pytest.mark.parametrize("touch_every", [0, 1, 2, 3])
@pytest.mark.parametrize("same_second", [150, 260])
def test_polling_survives_hundreds_of_orders_in_one_second(
    same_second: int, touch_every: int
) -> None:
    # Paging forward through such a window while orders leave it loses one per shift.
    server = FakeOrders([5] * same_second + [6] * 3)
    assert poll_to_exhaustion(server, touch_every) == set(server.orders)


# --- orders and webhooks ----------------------------------------------------------------


def order(status: str, modified: str = "2026-01-01T00:00:05") -> dict[str, object]:
    return {
        "id": 42,
        "status": status,
        "date_modified_gmt": modified,
        "line_items": [
            {"id": 7, "product_id": 10, "variation_id": 0, "sku": "A", "quantity": 2},
            {"id": 8, "product_id": 11, "variation_id": 12, "sku": "", "quantity": 1},
        ],
    }


@pytest.mark.parametrize(
    ("status", "kinds"),
    [
        ("pending", []),
        ("processing", [ChannelEventType.ORDER_PLACED]),
        ("on-hold", [ChannelEventType.ORDER_PLACED]),
        ("completed", [ChannelEventType.ORDER_PLACED, ChannelEventType.ORDER_FULFILLED]),
        ("cancelled", [ChannelEventType.ORDER_CANCELLED]),
        ("failed", [ChannelEventType.ORDER_CANCELLED]),
        ("refunded", [ChannelEventType.ORDER_REFUNDED]),
        ("trash", []),
        ("checkout-draft", []),
    ],
)
def test_order_status_table(status: str, kinds: list[ChannelEventType]) -> None:
    got = events.order_events(wire.WooOrder.model_validate(order(status)), ACCOUNT)
    assert [e.kind for e in got] == kinds
    assert len({e.dedupe_key for e in got}) == len(got)


def test_order_events_carry_lines_and_content_keys() -> None:
    (placed,) = events.order_events(wire.WooOrder.model_validate(order("processing")), ACCOUNT)
    (later,) = events.order_events(
        wire.WooOrder.model_validate(order("processing", "2026-01-01T00:00:09")), ACCOUNT
    )
    (refund,) = events.order_events(wire.WooOrder.model_validate(order("refunded")), ACCOUNT)
    assert placed.order_id == "42"
    assert placed.occurred_at == T0 + timedelta(seconds=5)
    assert [(ln.line_id, ln.sku, dict(ln.external_ids), ln.quantity) for ln in placed.lines] == [
        ("7", "A", {"product_id": "10"}, 2),
        ("8", None, {"product_id": "11", "variation_id": "12"}, 1),
    ]
    assert placed.dedupe_key != later.dedupe_key
    assert (placed.restock, refund.restock) == (None, False)


SECRET = Secret("whsec-test")


def signed(
    topic: str,
    payload: object,
    secret: str = "whsec-test",  # noqa: S107 - test key
) -> tuple[dict[str, str], bytes]:
    body = json.dumps(payload, separators=(",", ":")).encode()
    digest = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    return {"X-WC-Webhook-Topic": topic, "X-WC-Webhook-Signature": digest}, body


PARSER = events.WebhookParser(ACCOUNT, SECRET)
PRODUCT = {
    "id": 10,
    "manage_stock": True,
    "stock_quantity": 4,
    "date_modified_gmt": "2026-01-01T00:00:01",
}


def test_signed_product_updated_becomes_quantity_changed() -> None:
    (event,) = PARSER.parse(*signed("product.updated", PRODUCT))
    assert (event.kind, event.quantity) == (ChannelEventType.QUANTITY_CHANGED, 4)
    assert dict(event.external_ids) == {"product_id": "10"}
    variation = {**PRODUCT, "id": 12, "type": "variation", "parent_id": 11}
    (event,) = PARSER.parse(*signed("product.updated", variation))
    assert dict(event.external_ids) == {"product_id": "11", "variation_id": "12"}
    assert PARSER.parse(*signed("product.updated", {**PRODUCT, "manage_stock": False})) == ()


def test_duplicate_deliveries_share_a_dedupe_key() -> None:
    first = PARSER.parse(*signed("order.updated", order("completed")))
    again = PARSER.parse(*signed("order.updated", order("completed")))
    assert [e.dedupe_key for e in first] == [e.dedupe_key for e in again]


def test_forged_unsigned_and_tampered_webhooks_are_401() -> None:
    headers, body = signed("product.updated", PRODUCT)
    forged, _ = signed("product.updated", PRODUCT, secret="guess")  # noqa: S106 - test key
    unsigned = {"X-WC-Webhook-Topic": "product.updated"}
    for h, b in ((forged, body), (unsigned, body), (headers, body.replace(b"4", b"9"))):
        with pytest.raises(WebhookRejectedError) as caught:
            PARSER.parse(h, b)
        assert caught.value.status == 401


def test_signed_but_malformed_webhooks_are_400() -> None:
    cases = [
        signed("product.updated", {"id": "x"}),
        signed("order.updated", {"id": 1}),
        signed("", PRODUCT),
        ({"X-WC-Webhook-Topic": "order.created", **signed("o", {})[0]}, b"{not json"),
    ]
    headers, body = cases[3]
    headers["X-WC-Webhook-Signature"] = events.signature("whsec-test", body)
    for h, b in cases:
        with pytest.raises(WebhookRejectedError) as caught:
            PARSER.parse(h, b)
        assert caught.value.status == 400


def test_the_activation_ping_and_other_topics_give_no_events() -> None:
    assert (
        PARSER.parse({"Content-Type": "application/x-www-form-urlencoded"}, b"webhook_id=3") == ()
    )
    assert PARSER.parse(*signed("order.deleted", {"id": 42})) == ()
    assert PARSER.parse(*signed("customer.created", {"id": 1})) == ()


def test_the_parser_does_not_show_its_secret() -> None:
    assert "whsec-test" not in repr(PARSER)


@pytest.mark.parametrize(
    "text",
    ["2026-11-28T14:16:21", "1999-01-01T00:00:00", "2026-1-2T3:4:5", "2024-02-29T23:59:59"],
)
def test_a_wordpress_gmt_date_parses_as_strptime_reads_it(text: str) -> None:
    assert events.parse_gmt(text) == datetime.strptime(text, events.WP_DATE).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    ["2026-11-28T14:16:2x", "2026-W48-6T14:16:21", "2026-11-28T14:16:21Z", "2026-11-28 14:16:21"],
)
def test_a_date_not_in_wordpress_shape_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"format|unconverted data"):
        events.parse_gmt(text)
