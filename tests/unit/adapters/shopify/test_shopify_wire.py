"""The Shopify adapter's pure tables: answers to errors, user errors to item results,
throttleStatus to rate signals, webhook verification and the polling cursor."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import pytest

from omnistock.adapters.base import ChannelEventType, ItemStatus, ListingRef, StockUpdate
from omnistock.adapters.secrets import Secret
from omnistock.adapters.shopify import events, wire
from omnistock.adapters.shopify.limits import rate_signal
from omnistock.domain.errors import (
    AuthFailedError,
    PermanentError,
    RateLimitedError,
    TransientError,
    WebhookRejectedError,
)
from omnistock.domain.ids import AccountId, ListingId, Sku

THROTTLED = {
    "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
    "extensions": {
        "cost": {
            "requestedQueryCost": 50,
            "actualQueryCost": None,
            "throttleStatus": {
                "maximumAvailable": 2000.0,
                "currentlyAvailable": 20.0,
                "restoreRate": 100.0,
            },
        }
    },
}


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (401, {"errors": "bad"}, AuthFailedError),
        (429, {"errors": "slow"}, RateLimitedError),
        (503, None, TransientError),
        (404, {"errors": "Not Found"}, PermanentError),
        (200, THROTTLED, RateLimitedError),
        (
            200,
            {"errors": [{"message": "x", "extensions": {"code": "BAD_REQUEST"}}]},
            PermanentError,
        ),
    ],
)
def test_call_errors(status: int, body: object, kind: type[Exception]) -> None:
    assert type(wire.call_error(status, body, None, account="a")) is kind


def test_data_is_no_error() -> None:
    assert wire.call_error(200, {"data": {}}, None, account="a") is None


def test_throttled_answer_says_when_the_cost_is_restored() -> None:
    signal = rate_signal(200, {}, THROTTLED, requested=50)
    assert signal is not None
    assert (signal.throttled, signal.remaining, signal.capacity) == (True, 20.0, 2000.0)
    assert signal.retry_after == pytest.approx(0.3)


def test_user_errors_map_to_rows() -> None:
    body = {
        "data": {
            "inventorySetQuantities": {
                "inventoryAdjustmentGroup": None,
                "userErrors": [
                    {
                        "field": ["input", "quantities", "1", "changeFromQuantity"],
                        "message": "m",
                        "code": wire.STALE,
                    }
                ],
            }
        }
    }
    answer = wire.set_answer(body, 2)
    assert (answer.applied, dict(answer.refused), answer.general) == (
        False,
        {1: (wire.STALE, "m")},
        (),
    )
    ref = ListingRef(listing=ListingId("l"), sku=Sku("s"))
    update = StockUpdate(ref=ref, quantity=1, sequence=1)
    assert wire.refused_result(update, wire.STALE, "m", 3).status is ItemStatus.FAILED_RETRYABLE
    assert wire.refused_result(update, "INVALID_LOCATION", "m", None).status is (
        ItemStatus.FAILED_PERMANENT
    )


def test_idempotency_key_changes_with_the_compare_value() -> None:
    target = wire.Target("1", "2")
    a = wire.Write(target, 5, 3, "l", 7, (0,))
    b = wire.Write(target, 5, 4, "l", 7, (0,))
    assert wire.set_variables([a])["key"] == wire.set_variables([a])["key"]
    assert wire.set_variables([a])["key"] != wire.set_variables([b])["key"]


def _signed(body: bytes, secret: str = "s") -> dict[str, str]:  # noqa: S107 - a test key
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return {
        "X-Shopify-Hmac-Sha256": base64.b64encode(digest).decode(),
        "X-Shopify-Topic": "inventory_levels/update",
    }


def test_webhook_verified_and_parsed() -> None:
    body = json.dumps(
        {
            "inventory_item_id": 1,
            "location_id": 2,
            "available": 4,
            "updated_at": "2026-01-01T00:00:00.000Z",
        }
    ).encode()
    parser = events.WebhookParser(AccountId("a"), Secret("s"))
    (event,) = parser.parse(_signed(body), body)
    assert (event.kind, event.quantity) == (ChannelEventType.QUANTITY_CHANGED, 4)
    with pytest.raises(WebhookRejectedError):
        parser.parse(_signed(body, "other"), body)


def test_cursor_pages_then_restarts_from_the_high_water_mark_minus_overlap() -> None:
    start = events.PollCursor(after=datetime(2026, 1, 1, tzinfo=UTC))
    t = datetime(2026, 1, 2, tzinfo=UTC)
    paging = events.next_cursor(start, [t], "c1", True, timedelta(minutes=2))
    assert (paging.after, paging.page) == (start.after, "c1")
    done = events.next_cursor(paging, [], None, False, timedelta(minutes=2))
    assert (done.after, done.page) == (t - timedelta(minutes=2), None)
    assert events.PollCursor.decode(done.encode()) == done
