"""The pure eBay tables: per-item outcomes, whole-call errors, write plans, revisions,
notification signatures and the endpoint challenge."""

from __future__ import annotations

import base64
import json

import pytest

from omnistock.adapters.base import ListingRef, StockUpdate
from omnistock.adapters.ebay import notifications, wire
from omnistock.adapters.ebay.revisions import Admission, RevisionBudget
from omnistock.domain.errors import (
    AuthFailedError,
    PermanentError,
    RateLimitedError,
    TransientError,
    WebhookRejectedError,
)
from omnistock.domain.ids import AccountId, ListingId, Sku
from omnistock.kit.sandbox.ebay.notifications import SigningKey
from omnistock.kit.sandbox.ebay.notifications import challenge_response as sandbox_challenge


def _item(status: int, error_id: int | None = None) -> dict[str, object]:
    errors = [] if error_id is None else [{"errorId": error_id, "message": "m"}]
    return {"statusCode": status, "sku": "A", "errors": errors}


@pytest.mark.parametrize(
    ("status", "error_id", "outcome"),
    [
        (200, None, wire.Outcome.DONE),
        (500, 25025, wire.Outcome.CONTENDED),
        (500, 25001, wire.Outcome.RETRY),
        (400, 25099, wire.Outcome.REVISIONS_EXHAUSTED),
        (404, 25702, wire.Outcome.FAILED),
        (400, 25709, wire.Outcome.FAILED),
        (503, None, wire.Outcome.RETRY),
    ],
)
def test_item_outcomes(status: int, error_id: int | None, outcome: wire.Outcome) -> None:
    assert wire.item_outcome(_item(status, error_id)).outcome is outcome


@pytest.mark.parametrize(
    ("status", "error_id", "kind"),
    [
        (401, 1001, AuthFailedError),
        (403, 1100, AuthFailedError),
        (429, 2001, RateLimitedError),
        (500, 25025, TransientError),
        (503, None, TransientError),
        (400, 25002, PermanentError),
    ],
)
def test_call_errors(status: int, error_id: int | None, kind: type[Exception]) -> None:
    body = {"errors": [{"errorId": error_id, "message": "m"}]} if error_id else None
    error = wire.call_error(status, body, 3.0, account="a")
    assert type(error) is kind
    assert wire.call_error(207, {"responses": []}, None, account="a") is None


def test_a_sku_named_twice_is_written_once_with_its_last_quantity() -> None:
    def update(sku: str, quantity: int) -> StockUpdate:
        ref = ListingRef(listing=ListingId(sku), sku=Sku(sku))
        return StockUpdate(ref=ref, quantity=quantity, sequence=quantity)

    writes = wire.plan_writes([update("A", 1), update("B", 2), update("A", 3)])
    assert [(w.sku, w.quantity, w.indexes) for w in writes] == [("A", 3, (0, 2)), ("B", 2, (1,))]


def test_near_the_revision_limit_only_decreases_go() -> None:
    budget = RevisionBudget(limit=10, reserve=3)
    for t in range(7):
        assert budget.admit("L", decrease=False, now=t).admission is Admission.SEND
        budget.spend("L", float(t))
    held = budget.admit("L", decrease=False, now=7)
    assert (held.admission, held.retry_after) == (Admission.HOLD, 86_400 - 7)
    for t in range(7, 10):
        assert budget.admit("L", decrease=True, now=t).admission is Admission.SEND
        budget.spend("L", float(t))
    assert budget.admit("L", decrease=True, now=10).admission is Admission.HOLD
    assert budget.admit("L", decrease=False, now=86_407.5).admission is Admission.SEND


def test_a_signed_notification_verifies_and_a_changed_one_does_not() -> None:
    key = SigningKey(seed=3)
    body = b'{"metadata":{"topic":"ORDER_CONFIRMATION"},"notification":{"data":{}}}'
    headers = {"X-EBAY-SIGNATURE": key.header(body)}
    header = notifications.signature_header(headers)
    public = notifications.public_key(key.public_pem_one_line())
    notifications.verify(header, public, body)
    with pytest.raises(WebhookRejectedError):
        notifications.verify(header, public, body.replace(b"ORDER", b"ORDEX"))
    with pytest.raises(WebhookRejectedError):
        notifications.signature_header({"X-EBAY-SIGNATURE": base64.b64encode(b"{}").decode()})


def test_notification_lines_become_order_placed() -> None:
    data: dict[str, object] = {
        "orderId": "1-2",
        "lineItemId": "9",
        "sku": "A",
        "quantity": 2,
        "itemId": "7",
    }
    doc = {
        "metadata": {"topic": "ORDER_CONFIRMATION"},
        "notification": {
            "eventDate": "2026-01-01T00:00:00.000Z",
            "data": data,
        },
    }
    (event,) = notifications.notification_events(json.dumps(doc).encode(), AccountId("a"))
    (line,) = event.lines
    assert (event.order_id, line.sku, line.quantity, line.external_ids) == (
        "1-2",
        "A",
        2,
        {"listing_id": "7"},
    )
    del data["sku"]
    assert notifications.notification_events(json.dumps(doc).encode(), AccountId("a")) == []


def test_the_challenge_answer_matches_what_ebay_checks() -> None:
    token, endpoint = "t" * 40, "https://omnistock.example/webhooks/ebay-1"
    answer = notifications.challenge_response("abc", token, endpoint)
    assert answer == {"challengeResponse": sandbox_challenge("abc", token, endpoint)}
    assert len(answer["challengeResponse"]) == 64
