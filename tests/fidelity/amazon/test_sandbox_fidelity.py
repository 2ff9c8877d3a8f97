"""The sandbox's answers to the calls the adapter never makes (put, delete, getOrder, search
refusals and throttling, a FATAL feed) checked against the official models; and the
validator itself shown to catch a departure of each kind it checks."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator

import httpx
import pytest

from omnistock.kit.sandbox.amazon import AmazonSandbox
from omnistock.kit.sandbox.amazon.feeds_api import FeedTiming
from omnistock.kit.sandbox.amazon.listings_api import PREFIX
from omnistock.kit.sandbox.amazon.orders_v2026 import ORDERS_PATH
from omnistock.kit.sandbox.common.truth import OrderLine
from tests.fidelity.amazon import models
from tests.fidelity.amazon.recording import Exchange, RecordingTransport

MARKET = {"marketplaceIds": "ATVPDKIKX0DER"}
FEEDS = "/feeds/2021-06-30"
REPORTS = "/reports/2021-06-30"


class Session:
    def __init__(self, harness: AmazonSandbox, recorder: RecordingTransport) -> None:
        self.harness = harness
        self.recorder = recorder
        self.client = httpx.AsyncClient(transport=recorder, base_url=harness.base_url)
        self.auth: dict[str, str] = {}
        self.seller = harness.credentials()["seller_id"]

    async def login(self) -> None:
        creds = self.harness.credentials()
        form = {"grant_type": "refresh_token"} | {
            k: creds[k] for k in ("refresh_token", "client_id", "client_secret")
        }
        token = (await self.client.post("/auth/o2/token", data=form)).json()["access_token"]
        self.auth = {"x-amz-access-token": token}

    async def call(self, method: str, path: str, **kwargs: object) -> httpx.Response:
        return await self.client.request(method, path, headers=self.auth, **kwargs)  # type: ignore[arg-type]

    def problems(self) -> list[str]:
        found = (models.problems(e, refused_ok=True) for e in self.recorder.exchanges)
        return [p for listed in found for p in listed]


@pytest.fixture
async def session() -> AsyncIterator[Session]:
    harness = AmazonSandbox.on_manual_clock()
    recorder = RecordingTransport(httpx.ASGITransport(app=harness.app))
    opened = Session(harness, recorder)
    await opened.login()
    yield opened
    await opened.client.aclose()


def _fulfillment(quantity: int) -> list[dict[str, object]]:
    return [{"fulfillment_channel_code": "DEFAULT", "quantity": quantity}]


async def test_listings_put_delete_search_and_refusals(session: Session) -> None:
    (ref,) = await session.harness.seed(1)
    item = f"{PREFIX}/{session.seller}/{ref.sku}"
    put = {"productType": "PRODUCT", "attributes": {"fulfillment_availability": _fulfillment(3)}}
    assert (
        await session.call("PUT", f"{PREFIX}/{session.seller}/NEW-1", params=MARKET, json=put)
    ).status_code == 200
    bad = {
        "productType": "PRODUCT",
        "patches": [
            {
                "op": "merge",
                "path": "/attributes/fulfillment_availability",
                "value": [{"fulfillment_channel_code": "AMAZON_NA", "quantity": 1}],
            }
        ],
    }
    assert (await session.call("PATCH", item, params=MARKET, json=bad)).json()[
        "status"
    ] == "INVALID"
    assert (
        await session.call("PATCH", item, params=MARKET, json={"patches": []})
    ).status_code == 400
    search = MARKET | {"identifiers": str(ref.sku), "identifiersType": "SKU", "pageSize": "1"}
    search |= {"includedData": "summaries,fulfillmentAvailability,issues"}
    listings = f"{PREFIX}/{session.seller}"
    assert (await session.call("GET", listings, params=search)).status_code == 200
    untyped = MARKET | {"identifiers": str(ref.sku)}
    assert (await session.call("GET", listings, params=untyped)).status_code == 400
    searched = [(await session.call("GET", listings, params=search)).status_code for _ in range(5)]
    assert 429 in searched
    everything = MARKET | {"includedData": "summaries,fulfillmentAvailability,issues"}
    assert (await session.call("GET", item, params=everything)).status_code == 200
    assert (
        await session.call("GET", f"{PREFIX}/OTHER/{ref.sku}", params=MARKET)
    ).status_code == 403
    assert (await session.call("DELETE", item, params=MARKET)).json()["status"] == "ACCEPTED"
    assert (await session.call("DELETE", f"{PREFIX}/{session.seller}/GONE", params=MARKET)).json()[
        "status"
    ] == "INVALID"
    session.auth = {}
    assert (await session.call("GET", item, params=MARKET)).status_code == 403  # no token
    await session.login()
    throttled = [(await session.call("GET", item, params=MARKET)).status_code for _ in range(11)]
    assert 429 in throttled
    assert session.problems() == []


async def test_orders_search_get_and_refusals(session: Session) -> None:
    (ref,) = await session.harness.seed(1, quantity=9)
    store = session.harness.store
    order_id = store.place_order([OrderLine(sku=ref.sku, quantity=2)])
    store.cancel(store.orders[order_id])
    session.harness.manual_clock.advance(121)
    since = MARKET | {"lastUpdatedAfter": "2025-01-01T00:00:00Z"}
    full = since | {"includedData": "FULFILLMENT,BUYER", "fulfillmentStatuses": "CANCELLED"}
    assert len((await session.call("GET", ORDERS_PATH, params=full)).json()["orders"]) == 1
    assert (
        await session.call("GET", ORDERS_PATH, params={"createdAfter": "2025-01-01T00:00:00Z"})
    ).status_code == 200
    assert (
        await session.call("GET", ORDERS_PATH, params=since | {"maxResultsPerPage": "0"})
    ).status_code == 400
    assert (
        await session.call(
            "GET", f"{ORDERS_PATH}/{order_id}", params={"includedData": "FULFILLMENT"}
        )
    ).status_code == 200
    assert (await session.call("GET", f"{ORDERS_PATH}/111-0000000-0000000")).status_code == 404
    v0 = {"MarketplaceIds": "ATVPDKIKX0DER", "LastUpdatedAfter": "2025-01-01T00:00:00Z"}
    assert (await session.call("GET", "/orders/v0/orders", params=v0)).status_code == 200
    assert (
        await session.call("GET", "/orders/v0/orders", params={"MarketplaceIds": "ATVPDKIKX0DER"})
    ).status_code == 400
    assert (
        await session.call("GET", f"/orders/v0/orders/{order_id}/orderItems")
    ).status_code == 200
    session.harness.orders_2026.enabled = False
    assert (await session.call("GET", ORDERS_PATH, params=since)).status_code == 403
    assert session.problems() == []


async def test_feeds_fatal_throttled_and_unknown(session: Session) -> None:
    session.harness.feeds._timing = FeedTiming(queue_s=1, base_s=1, per_message_s=0)
    ids = []
    for n in range(6):  # JSON_LISTINGS_FEED: 5 per 5 minutes
        doc = (
            await session.call(
                "POST",
                f"{FEEDS}/documents",
                json={"contentType": "application/json; charset=UTF-8"},
            )
        ).json()
        content = (
            b"not a feed"
            if n == 0
            else json.dumps(
                {
                    "header": {"sellerId": session.seller, "version": "2.0"},
                    "messages": [{"messageId": 1, "sku": "X", "operationType": "DELETE"}],
                }
            ).encode()
        )
        assert (await session.client.put(doc["url"], content=content)).status_code == 200
        body = {
            "feedType": "JSON_LISTINGS_FEED",
            "marketplaceIds": ["ATVPDKIKX0DER"],
            "inputFeedDocumentId": doc["feedDocumentId"],
        }
        created = await session.call("POST", f"{FEEDS}/feeds", json=body)
        ids.append(created.json().get("feedId"))
    assert created.status_code == 429
    session.harness.manual_clock.advance(30)
    fatal = (await session.call("GET", f"{FEEDS}/feeds/{ids[0]}")).json()
    assert fatal["processingStatus"] == "FATAL"
    report = (
        await session.call("GET", f"{FEEDS}/documents/{fatal['resultFeedDocumentId']}")
    ).json()
    assert (await session.client.get(report["url"])).status_code == 200
    assert (await session.call("GET", f"{FEEDS}/feeds/0")).status_code == 404
    assert (await session.call("GET", f"{FEEDS}/documents/none")).status_code == 404
    problems = session.problems()
    # The first upload is deliberately not a feed document: the validator must say so.
    assert len(problems) == 1
    assert "/feed-documents/" in problems[0]
    assert "not JSON" in problems[0]


async def test_reports_refusals_throttling_and_an_invented_field(session: Session) -> None:
    """createReport refused (another report type, another marketplace), unknown reports and
    documents, createReport's bucket (burst 15) emptied; and a report answer with a field the
    model lacks is caught."""
    listings = {"reportType": "GET_MERCHANT_LISTINGS_ALL_DATA", "marketplaceIds": ["ATVPDKIKX0DER"]}
    answers = [
        await session.call("POST", f"{REPORTS}/reports", json={**listings, "reportType": "X"}),
        await session.call(
            "POST", f"{REPORTS}/reports", json={**listings, "marketplaceIds": ["A1PA6795UKMFR9"]}
        ),
        await session.call("GET", f"{REPORTS}/reports/0"),
        await session.call("GET", f"{REPORTS}/documents/none"),
    ]
    assert [a.status_code for a in answers] == [400, 400, 404, 404]
    created = [await session.call("POST", f"{REPORTS}/reports", json=listings) for _ in range(16)]
    assert [c.status_code for c in created] == [202] * 13 + [
        429
    ] * 3  # the 2 refusals took 2 of the 15
    report = await session.call("GET", f"{REPORTS}/reports/{created[0].json()['reportId']}")
    assert report.json()["processingStatus"] == "IN_QUEUE"
    assert session.problems() == []
    invented = session.recorder.exchanges[-1]
    forged = dataclasses.replace(
        invented, response_body=json.dumps(report.json() | {"rows": 3}).encode()
    )
    assert models.problems(forged)


# --- the validator can fail ----------------------------------------------------------------


def _exchange(method: str, url: str, sent: object, status: int, answer: object) -> Exchange:
    return Exchange(
        method,
        httpx.URL(url),
        httpx.Headers(),
        b"" if sent is None else json.dumps(sent).encode(),
        status,
        httpx.Headers({"x-amzn-RequestId": "r"}),
        json.dumps(answer).encode(),
    )


def test_the_validator_catches_each_kind_of_departure() -> None:
    item = "https://s/listings/2021-08-01/items/S/SKU?marketplaceIds=M"
    good = {"sku": "SKU", "status": "ACCEPTED", "submissionId": "x", "issues": []}
    patch = {"productType": "P", "patches": [{"op": "merge", "path": "/attributes/x"}]}
    assert models.problems(_exchange("PATCH", item, patch, 200, good)) == []
    cases = {
        "invented": _exchange("PATCH", item, patch, 200, good | {"applied": True}),
        "enum": _exchange(
            "PATCH", item, {"productType": "P", "patches": [{"op": "set", "path": "/a"}]}, 200, good
        ),
        "query": _exchange("PATCH", item + "&colour=red", patch, 200, good),
        "required": _exchange("PATCH", item.split("?")[0], patch, 200, good),
        "status": _exchange("PATCH", item, patch, 404, {"errors": []}),
        "date": _exchange(
            "GET",
            "https://s/orders/2026-01-01/orders?lastUpdatedAfter=yesterday",
            None,
            200,
            {"orders": []},
        ),
        "unknown": _exchange("GET", "https://s/nowhere", None, 200, {}),
    }
    for name, exchange in cases.items():
        assert models.problems(exchange), name
