"""The contract checker itself: it passes a well-formed exchange and catches each kind of
deviation it exists for (so a clean report from the other fidelity tests means something)."""

from __future__ import annotations

import base64
import json
from urllib.parse import urlencode

import httpx
import pytest

from tests.fidelity.ebay.contracts import EbayContracts
from tests.fidelity.ebay.recording import Exchange

HOST = "https://api.sandbox.ebay.test"
BULK = "/sell/inventory/v1/bulk_update_price_quantity"
INVENTORY_SCOPE = "https://api.ebay.com/oauth/api_scope/sell.inventory"
FULFILLMENT_SCOPE = "https://api.ebay.com/oauth/api_scope/sell.fulfillment"
JSON = {"content-type": "application/json"}


def exchange(
    method: str,
    path: str,
    *,
    body: object = None,
    headers: dict[str, str] | None = None,
    status: int | None = 200,
    answer: object = None,
) -> Exchange:
    sent = b"" if body is None else json.dumps(body).encode()
    returned = b"" if answer is None else json.dumps(answer).encode()
    return Exchange(
        method,
        httpx.URL(HOST + path),
        httpx.Headers(headers or {}),
        sent,
        status,
        httpx.Headers(JSON if answer is not None else {}),
        returned,
    )


def grant(token: str, scope: str) -> Exchange:
    basic = base64.b64encode(b"id:secret").decode()
    form = {"grant_type": "refresh_token", "refresh_token": "r", "scope": scope}
    return Exchange(
        "POST",
        httpx.URL(HOST + "/identity/v1/oauth2/token"),
        httpx.Headers(
            {
                "authorization": f"Basic {basic}",
                "content-type": "application/x-www-form-urlencoded",
            }
        ),
        urlencode(form).encode(),
        200,
        httpx.Headers(JSON),
        json.dumps(
            {"access_token": token, "expires_in": 7200, "token_type": "User Access Token"}
        ).encode(),
    )


def bulk(
    *,
    answer: object,
    status: int = 200,
    bearer: str = "good",
    content_type: bool = True,
) -> Exchange:
    headers = {"authorization": f"Bearer {bearer}"} | (JSON if content_type else {})
    body = {"requests": [{"sku": "A", "shipToLocationAvailability": {"quantity": 3}}]}
    return exchange("POST", BULK, body=body, headers=headers, status=status, answer=answer)


def problems(*exchanges: Exchange) -> list[str]:
    return EbayContracts().check([grant("good", INVENTORY_SCOPE), *exchanges]).problems


OK = {"responses": [{"statusCode": 200, "sku": "A", "errors": [], "warnings": []}]}


def error(error_id: int, category: str = "REQUEST") -> dict[str, object]:
    return {"errorId": error_id, "domain": "API_INVENTORY", "category": category, "message": "m"}


def test_a_well_formed_exchange_passes() -> None:
    report = EbayContracts().check([grant("good", INVENTORY_SCOPE), bulk(answer=OK)])
    assert (report.problems, report.checked) == ([], 1)
    assert report.operations == {f"POST {BULK}"}


@pytest.mark.parametrize(
    ("sent", "expected"),
    [
        (bulk(answer=OK, content_type=False), "Content-Type"),
        (bulk(answer={"responses": [{"statusCode": "200", "sku": "A"}]}), "not of type 'integer'"),
        (bulk(answer={"errors": [error(25001, "SYSTEM")]}, status=500), "domain/category"),
        (bulk(answer={"errors": [error(99999)]}, status=400), "99999 is not declared"),
        (bulk(answer={"errors": [error(25702)]}, status=400), "not declared for HTTP 400"),
        (bulk(answer={"errors": [{"errorId": "x"}]}, status=400), "error body"),
        (bulk(answer={"responses": [{"statusCode": 500, "errors": [error(1)]}]}, status=207), "1 "),
        (bulk(answer=OK, status=418), "418 is not declared"),
        (bulk(answer=OK, bearer="unknown"), "not obtained"),
        (exchange("GET", "/sell/inventory/v1/nowhere"), "no operation"),
    ],
)
def test_deviations_are_caught(sent: Exchange, expected: str) -> None:
    found = problems(sent)
    assert any(expected in p for p in found), found


def test_a_token_without_the_operations_scope_is_caught() -> None:
    report = EbayContracts().check(
        [grant("narrow", FULFILLMENT_SCOPE), bulk(answer=OK, bearer="narrow")]
    )
    assert any("lack any of" in p for p in report.problems)


def test_a_token_request_outside_the_declared_scopes_is_caught() -> None:
    report = EbayContracts().check([grant("odd", "https://api.ebay.com/oauth/api_scope/nope")])
    assert any("scopes no spec declares" in p for p in report.problems)


def test_invalid_requests_must_actually_be_invalid() -> None:
    checker = EbayContracts()
    checker.check([grant("good", INVENTORY_SCOPE)])
    assert (
        checker.check([bulk(answer=OK, content_type=False)], invalid_requests=True).problems == []
    )
    meant = checker.check([bulk(answer=OK)], invalid_requests=True).problems
    assert any("meant to break the contract" in p for p in meant)
