"""The Amazon adapter's pure tables: errors, submissions, reports, rates, orders, notifications."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import pytest

from omnistock.adapters.amazon import events, feeds, limits, wire
from omnistock.adapters.base import ChannelEventType, ItemStatus, ListingRef, RateBurst
from omnistock.adapters.secrets import Secret
from omnistock.domain.errors import (
    AuthFailedError,
    PermanentError,
    RateLimitedError,
    TransientError,
    WebhookRejectedError,
)
from omnistock.domain.ids import AccountId, ListingId, Sku
from omnistock.kit.sandbox.amazon.buckets import DEFAULT_RATES

ACCOUNT = AccountId("a")


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (429, "QuotaExceeded", RateLimitedError),
        (400, "QuotaExceeded", RateLimitedError),
        (403, "Unauthorized", AuthFailedError),
        (401, None, AuthFailedError),
        (400, "invalid_grant", AuthFailedError),
        (500, "InternalFailure", TransientError),
        (503, "ServiceUnavailable", TransientError),
        (404, "NOT_FOUND", PermanentError),
        (400, "InvalidInput", PermanentError),
    ],
)
def test_error_table(status: int, code: str | None, expected: type) -> None:
    assert wire.error_class(status, code) is expected


def test_call_error_quotes_the_error_list_and_keeps_retry_after() -> None:
    body = json.dumps({"errors": [{"code": "QuotaExceeded", "message": "slow down"}]}).encode()
    error = wire.call_error(429, body, 0.2, account=ACCOUNT)
    assert isinstance(error, RateLimitedError)
    assert (error.retry_after, "QuotaExceeded: slow down" in str(error)) == (0.2, True)


def test_an_expired_token_is_told_from_a_refused_one() -> None:
    expired = {
        "code": "Unauthorized",
        "message": "denied",
        "details": "The access token you provided has expired.",
    }
    refused = expired | {"details": "revoked"}
    assert wire.expired_token(wire.api_error(_error_list(expired)))
    assert not wire.expired_token(wire.api_error(_error_list(refused)))


def _error_list(error: dict[str, str]) -> bytes:
    return json.dumps({"errors": [error]}).encode()


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        (
            {"sku": "s", "status": "ACCEPTED", "submissionId": "x", "issues": []},
            ItemStatus.ACCEPTED,
        ),
        (
            {
                "status": "INVALID",
                "issues": [{"code": "InternalFailure", "message": "m", "severity": "ERROR"}],
            },
            ItemStatus.FAILED_RETRYABLE,
        ),
        (
            {
                "status": "INVALID",
                "issues": [{"code": "4000001", "message": "bad qty", "severity": "ERROR"}],
            },
            ItemStatus.FAILED_PERMANENT,
        ),
        ({"status": "INVALID", "issues": []}, ItemStatus.FAILED_PERMANENT),
    ],
)
def test_submission_outcomes(payload: dict[str, object], status: ItemStatus) -> None:
    assert wire.submission_outcome(payload).status is status


def test_invalid_submission_reason_carries_the_issue_text() -> None:
    payload = {
        "status": "INVALID",
        "issues": [{"code": "4000001", "message": "bad qty", "severity": "ERROR"}],
    }
    assert wire.submission_outcome(payload).reason == "4000001: bad qty"


def test_patch_body_merges_the_default_channel_quantity() -> None:
    ref = ListingRef(listing=ListingId("l"), sku=Sku("S-1"))
    body = wire.patch_body(ref, 7)
    assert body["productType"] == "PRODUCT"
    assert body["patches"] == [
        {
            "op": "merge",
            "path": "/attributes/fulfillment_availability",
            "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 7}],
        }
    ]


def test_shown_quantity_reads_only_the_default_channel() -> None:
    avail = [
        {"fulfillmentChannelCode": "AMAZON_NA", "quantity": 3},
        {"fulfillmentChannelCode": "DEFAULT", "quantity": 9},
    ]
    assert wire.shown_quantity({"fulfillmentAvailability": avail}) == 9
    assert wire.shown_quantity({"fulfillmentAvailability": avail[:1]}) is None
    assert wire.shown_quantity({"sku": "x"}) is None


def test_reads_search_twenty_skus_a_call_and_fetch_those_with_a_comma() -> None:
    skus = [f"S-{n}" for n in range(41)] + ["A,B"]
    batches, unsearchable = wire.search_batches(skus)
    assert [len(b) for b in batches] == [20, 20, 1]
    assert [s for b in batches for s in b] == skus[:41]
    assert unsearchable == ["A,B"]
    assert wire.search_query("M", batches[2]) == {
        "marketplaceIds": "M",
        "identifiers": "S-40",
        "identifiersType": "SKU",
        "includedData": "fulfillmentAvailability",
        "pageSize": "20",
    }


def test_searched_quantities_are_none_for_skus_left_out_or_without_an_offer() -> None:
    default = [{"fulfillmentChannelCode": "DEFAULT", "quantity": 4}]
    answer = {
        "numberOfResults": 2,
        "items": [
            {"sku": "B", "fulfillmentAvailability": []},
            {"sku": "A", "fulfillmentAvailability": default},
        ],
    }
    assert wire.searched_quantities(answer, ["A", "B", "C"]) == {"A": 4, "B": None, "C": None}
    odd_answers: tuple[object, ...] = ({"numberOfResults": 0}, {"items": [{"asin": "B0"}]}, [])
    for odd in odd_answers:
        with pytest.raises(ValueError, match=r"ItemSearchResults|sku"):
            wire.searched_quantities(odd, ["A"])


def test_rates_agree_with_the_sandbox_buckets() -> None:
    for operation, rate in limits.RATES.items():
        assert DEFAULT_RATES[operation.value] == (rate.per_s, rate.burst), operation


def test_lwa_lives_on_amazon_for_real_hosts_and_on_the_sandbox_otherwise() -> None:
    assert wire.lwa_url("https://sellingpartnerapi-eu.amazon.com") == wire.LWA_URL
    assert wire.lwa_url("http://127.0.0.1:9000/") == "http://127.0.0.1:9000/auth/o2/token"


def test_feed_threshold_from_the_patch_rate() -> None:
    assert limits.feed_threshold(RateBurst(per_s=5.0, burst=5), 300.0) == 1505
    assert limits.CAPABILITIES.max_batch == 25_000


def test_capabilities_ask_for_a_read_back_of_accepted_writes() -> None:
    assert limits.CAPABILITIES.confirm_after_s == limits.CONFIRM_AFTER_S == 300.0
    assert limits.capabilities(confirm_after_s=5.0).confirm_after_s == 5.0


def test_rate_signal_reads_the_limit_header_and_429() -> None:
    signal = limits.rate_signal(200, {"x-amzn-ratelimit-limit": "2.5"})
    assert signal is not None
    assert (signal.restore_per_s, signal.throttled) == (2.5, False)
    throttled = limits.rate_signal(429, {})
    assert throttled is not None
    assert (throttled.throttled, throttled.retry_after) == (True, None)
    assert limits.rate_signal(200, {"x-amzn-ratelimit-limit": "nan"}) is None


def test_report_outcomes_map_issues_to_messages() -> None:
    ref = ListingRef(listing=ListingId("l"), sku=Sku("S"))
    messages = [feeds.Message(n, f"S-{n}", ref, n) for n in (1, 2, 3)]
    report = {
        "summary": {"messagesProcessed": 3},
        "issues": [
            {"messageId": 2, "code": "InternalFailure", "severity": "ERROR", "message": "again"},
            {"messageId": 3, "code": "90220", "severity": "ERROR", "message": "bad"},
            {"messageId": 1, "code": "1", "severity": "WARNING", "message": "fyi"},
        ],
    }
    got = feeds.report_outcomes(report, messages)
    assert [got[n].status for n in (1, 2, 3)] == [
        ItemStatus.ACCEPTED,  # "the associated updates are being applied"
        ItemStatus.FAILED_RETRYABLE,
        ItemStatus.FAILED_PERMANENT,
    ]
    doc = json.loads(feeds.document("SELLER", messages))
    assert (doc["header"]["version"], len(doc["messages"])) == ("2.0", 3)


def test_order_kinds_table() -> None:
    assert events.order_kinds("Unshipped", "MFN") == (ChannelEventType.ORDER_PLACED,)
    assert events.order_kinds("Canceled", "MFN") == (ChannelEventType.ORDER_CANCELLED,)
    assert ChannelEventType.ORDER_FULFILLED in events.order_kinds("Shipped", "MFN")
    assert events.order_kinds("Unshipped", "AFN") == ()


def test_cursor_follows_next_token_then_resumes_before_the_high_mark() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    high = start + timedelta(hours=1)
    cursor = events.PollCursor(after=start)
    page = events.OrdersPage((), "page-2", high)
    paging, more = events.next_cursor(cursor, page, timedelta(minutes=2))
    assert (more, paging.token) == (True, "page-2")
    assert events.orders_query(paging, "M") == {"MarketplaceIds": "M", "NextToken": "page-2"}
    done, more = events.next_cursor(
        events.PollCursor.decode(paging.encode()),
        events.OrdersPage((), None, None),
        timedelta(minutes=2),
    )
    assert (more, done.after) == (False, high - timedelta(minutes=2))


def _signed(secret: str, envelope: Mapping[str, object]) -> tuple[dict[str, str], bytes]:
    body = json.dumps(envelope).encode()
    return {events.SIGNATURE_HEADER: events.sign(secret, body)}, body


def test_notifications_verify_then_parse() -> None:
    parser = events.NotificationParser(ACCOUNT, Secret("k"))
    envelope = {
        "NotificationType": "LISTINGS_ITEM_MFN_QUANTITY_CHANGE",
        "EventTime": "2026-01-01T00:00:00Z",
        "Payload": {
            "SellerId": "S",
            "FulfillmentChannelCode": "DEFAULT",
            "Sku": "X",
            "Quantity": 4,
        },
        "NotificationMetadata": {"NotificationId": "n-1"},
    }
    headers, body = _signed("k", envelope)
    (event,) = parser.parse(headers, body)
    assert (event.quantity, event.dedupe_key) == (4, "amazon:a:notification:n-1")
    with pytest.raises(WebhookRejectedError):
        parser.parse(*_signed("other", envelope))
    with pytest.raises(WebhookRejectedError):
        parser.parse({}, body)
