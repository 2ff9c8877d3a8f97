"""Fidelity of the sandbox: every endpoint it serves, in its successful and refusing forms,
answers as eBay's OpenAPI contracts say (tests/fidelity/ebay/contracts.py). Requests that
break the contract on purpose (to reach a refusal) are checked to break it."""

from __future__ import annotations

import asyncio
import json

import httpx
from openapi_schema_validator import OAS30Validator

from omnistock.kit.sandbox.common.clock import ManualClock
from omnistock.kit.sandbox.common.face_controls import build_on_manual_clock
from omnistock.kit.sandbox.ebay import EbayConfig, EbaySandbox
from omnistock.kit.sandbox.ebay.notifications import challenge_response
from omnistock.kit.sandbox.ebay.quota import iso
from omnistock.kit.sandbox.ebay.store import REVISIONS_PER_DAY
from tests.fidelity.ebay.conftest import ANALYTICS, FUL, INV, NOTE, Recorded
from tests.fidelity.ebay.contracts import SPECS, EbayContracts
from tests.fidelity.ebay.recording import RecordingTransport

ITEM = {
    "availability": {
        "shipToLocationAvailability": {
            "quantity": 7,
            "availabilityDistributions": [{"merchantLocationKey": "main", "quantity": 7}],
        }
    },
    "condition": "NEW",
    "product": {"title": "Mug", "aspects": {"Colour": ["Blue"]}},
}


def quantity(sku: str, qty: int) -> dict[str, object]:
    return {"sku": sku, "shipToLocationAvailability": {"quantity": qty}}


async def test_inventory_items_and_bulk_calls(recorded: Recorded) -> None:
    http, harness = recorded.http, recorded.harness
    await recorded.as_user()
    refs = await harness.seed(3)
    sku = refs[0].sku
    lang = {"Content-Language": "en-US"}
    answers = [
        await http.get(f"{INV}/inventory_item/{sku}"),
        await http.get(f"{INV}/inventory_item/NOPE"),
        await http.get(f"{INV}/inventory_item", params={"limit": "2", "offset": "1"}),
        await http.put(f"{INV}/inventory_item/{sku}", json=ITEM, headers=lang),
        await http.post(f"{INV}/bulk_get_inventory_item", json={"requests": [{"sku": sku}]}),
        await http.post(
            f"{INV}/bulk_get_inventory_item", json={"requests": [{"sku": sku}, {"sku": "NOPE"}]}
        ),
        await http.post(
            f"{INV}/bulk_create_or_replace_inventory_item",
            json={"requests": [{"sku": refs[1].sku, "locale": "en_US", **ITEM}]},
            headers=lang,
        ),
        await http.post(
            f"{INV}/bulk_update_price_quantity",
            json={"requests": [quantity(r.sku, 4) for r in refs]},
        ),
        await http.post(
            f"{INV}/bulk_update_price_quantity",
            json={"requests": [quantity(sku, 1), quantity(sku, 2), quantity("NOPE", 1)]},
        ),
    ]
    assert [a.status_code for a in answers] == [200, 404, 200, 204, 200, 207, 200, 200, 207]
    report = recorded.check()
    assert report.checked == len(answers)


async def test_per_item_refusals_of_bulk_update(recorded: Recorded) -> None:
    http, harness = recorded.http, recorded.harness
    await recorded.as_user()
    busy, failing, spent = await harness.seed(3)
    harness.fail_item_writes(failing)
    harness.store.revisions[harness.store.listing_of(spent.sku) or ""] = (
        "9999-12-31",
        0,
    )
    for _ in range(REVISIONS_PER_DAY):
        harness.store.revise(spent.sku)
    body = {"requests": [quantity(r.sku, 9) for r in (busy, failing, spent)]}
    path = f"{INV}/bulk_update_price_quantity"
    first, second = await asyncio.gather(http.post(path, json=body), http.post(path, json=body))
    ids = {
        e["errorId"]
        for answer in (first, second)
        for item in answer.json()["responses"]
        for e in item.get("errors", [])
    }
    assert {25025, 25001, 25099} <= ids  # concurrent access, system error, revisions
    recorded.check()


async def test_offers_and_item_groups(recorded: Recorded) -> None:
    http, harness = recorded.http, recorded.harness
    await recorded.as_user()
    (ref,) = await harness.seed(1)
    variants = await harness.seed(2, variants=True)
    offers = await http.get(f"{INV}/offer", params={"sku": ref.sku})
    offer_id = offers.json()["offers"][0]["offerId"]
    group_key = harness.store.items[variants[0].sku].group_keys[0]
    group = {
        "title": "Shirt",
        "variantSKUs": [v.sku for v in variants],
        "variesBy": {"specifications": [{"name": "Size", "values": ["M"]}]},
        "aspects": {"Brand": ["Omni"]},
    }
    answers = [
        offers,
        await http.get(f"{INV}/offer/{offer_id}"),
        await http.get(f"{INV}/offer/999999"),
        await http.get(f"{INV}/inventory_item_group/{group_key}"),
        await http.put(
            f"{INV}/inventory_item_group/{group_key}",
            json=group,
            headers={"Content-Language": "en-US"},
        ),
        await http.get(f"{INV}/inventory_item_group/NOPE"),
    ]
    assert [a.status_code for a in answers] == [200, 200, 404, 200, 204, 404]
    recorded.check()


async def test_refused_inventory_requests_answer_in_ebay_terms(recorded: Recorded) -> None:
    http, harness = recorded.http, recorded.harness
    await recorded.as_user()
    (ref,) = await harness.seed(1)
    recorded.check()  # the token grant
    # The spec sets no bounds on `requests`; eBay's documentation does (1 to 25).
    empty = await http.post(f"{INV}/bulk_update_price_quantity", json={"requests": []})
    assert empty.json()["errors"][0]["errorId"] == 25709
    recorded.check()
    no_language = await http.put(f"{INV}/inventory_item/{ref.sku}", json=ITEM)
    assert no_language.json()["errors"][0]["errorId"] == 25709
    recorded.check(invalid_requests=True)


async def test_orders(recorded: Recorded) -> None:
    http, harness = recorded.http, recorded.harness
    await recorded.as_user()
    refs = await harness.seed(2, quantity=50)
    placed = await harness.place_orders(refs, 5, per_second=2)
    harness.cancel_order(placed[0])
    start = iso(harness.clock.now() - 86_400)
    answers = [
        await http.get(f"{FUL}/order"),
        await http.get(f"{FUL}/order", params={"filter": f"lastmodifieddate:[{start}..]"}),
        await http.get(
            f"{FUL}/order", params={"filter": f"creationdate:[{start}..]", "limit": "2"}
        ),
        await http.get(f"{FUL}/order", params={"limit": "2", "offset": "2"}),
        await http.get(f"{FUL}/order", params={"orderIds": ",".join(placed[:2])}),
        await http.get(f"{FUL}/order/{placed[0]}"),
        await http.get(f"{FUL}/order/NOPE"),
        await http.get(f"{FUL}/order", params={"limit": "500"}),
        await http.get(f"{FUL}/order", params={"filter": "lastmodifieddate:[yesterday..]"}),
    ]
    assert [a.status_code for a in answers] == [200] * 6 + [404, 400, 400]
    assert answers[5].json()["cancelStatus"]["cancelState"] == "CANCELED"
    recorded.check()


async def test_analytics_and_gateway_refusals(recorded: Recorded) -> None:
    http, harness = recorded.http, recorded.harness
    app = {"Authorization": f"Bearer {await recorded.token('client_credentials')}"}
    await recorded.as_user()
    harness.quotas.set_limit("sell.inventory", 1)
    answers = [
        await http.get(f"{ANALYTICS}/rate_limit/", params={"api_context": "sell"}, headers=app),
        await http.get(f"{ANALYTICS}/user_rate_limit/"),
        await http.get(f"{INV}/inventory_item"),
        await http.get(f"{INV}/inventory_item"),  # over the day's quota: 429
    ]
    harness.fail_next(503)
    answers.append(await http.get(f"{FUL}/order"))
    assert [a.status_code for a in answers] == [200, 200, 200, 429, 503]
    recorded.check()
    wrong_token = [
        await http.get(f"{ANALYTICS}/rate_limit/"),  # a user token
        await http.get(f"{INV}/inventory_item", headers=app),  # an application token
    ]
    assert [a.status_code for a in wrong_token] == [403, 403]
    recorded.check(invalid_requests=True)
    harness.expire_token()
    assert (await http.get(f"{INV}/inventory_item")).status_code == 401
    recorded.check()


async def test_notification_api() -> None:
    """Config, a destination through the endpoint challenge, a subscription, public keys."""
    token, endpoint = "t" * 40, "https://receiver.test/ebay"

    async def receiver(request: httpx.Request) -> httpx.Response:
        code = request.url.params["challenge_code"]
        return httpx.Response(
            200, json={"challengeResponse": challenge_response(code, token, endpoint)}
        )

    async with httpx.AsyncClient(transport=httpx.MockTransport(receiver)) as hooks:
        sandbox = EbaySandbox(EbayConfig(), clock=ManualClock(), webhook_client=hooks)
        recorder = RecordingTransport(httpx.ASGITransport(app=sandbox.app))
        async with httpx.AsyncClient(transport=recorder, base_url=sandbox.base_url) as http:
            contracts = EbayContracts()
            answers = await _notification_calls(http, sandbox, token, endpoint)
            assert [a.status_code for a in answers] == [409, 204, 201, 201, 200, 404, 400]
            report = contracts.check(recorder.take())
            report.assert_clean()
            assert len(report.operations) == 4
            bad = await http.put(f"{NOTE}/config", json={"alertEmail": "nobody"})
            assert bad.json()["errors"][0]["errorId"] == 195025
            contracts.check(recorder.take()).assert_clean()


async def _notification_calls(
    http: httpx.AsyncClient, sandbox: EbaySandbox, token: str, endpoint: str
) -> list[httpx.Response]:
    creds = sandbox.credentials()
    form = {"grant_type": "client_credentials", "scope": "https://api.ebay.com/oauth/api_scope"}
    grant = await http.post(
        "/identity/v1/oauth2/token", data=form, auth=(creds["client_id"], creds["client_secret"])
    )
    http.headers["Authorization"] = f"Bearer {grant.json()['access_token']}"
    destination = {
        "name": "omnistock",
        "status": "ENABLED",
        "deliveryConfig": {"endpoint": endpoint, "verificationToken": token},
    }
    answers = [await http.post(f"{NOTE}/destination", json=destination)]  # no config yet
    answers.append(await http.put(f"{NOTE}/config", json={"alertEmail": "ops@example.com"}))
    answers.append(await http.post(f"{NOTE}/destination", json=destination))
    destination_id = answers[-1].headers["location"].rsplit("/", 1)[-1]
    subscription = {
        "topicId": "ORDER_CONFIRMATION",
        "status": "ENABLED",
        "destinationId": destination_id,
        "payload": {"format": "JSON", "schemaVersion": "1.0", "deliveryProtocol": "HTTPS"},
    }
    answers.append(await http.post(f"{NOTE}/subscription", json=subscription))
    kid = sandbox.notifications.key.kid
    answers.append(await http.get(f"{NOTE}/public_key/{kid}"))
    answers.append(await http.get(f"{NOTE}/public_key/0000"))
    answers.append(await http.post(f"{NOTE}/subscription", json={**subscription, "topicId": "X"}))
    return answers


async def test_inventory_item_pages_as_discovery_reads_them(recorded: Recorded) -> None:
    """getInventoryItems (offset a page number): the first, a middle and the last page, one
    past the end, and a limit out of range; with `next`/`prev` links and `total`."""
    http, harness = recorded.http, recorded.harness
    await recorded.as_user()
    await harness.seed(450)
    pages = [
        await http.get(f"{INV}/inventory_item", params={"limit": "200", "offset": str(n)})
        for n in range(4)
    ]
    refused = await http.get(f"{INV}/inventory_item", params={"limit": "201"})
    assert [p.status_code for p in pages] + [refused.status_code] == [200] * 4 + [400]
    bodies = [p.json() for p in pages]
    assert [b["size"] for b in bodies] == [200, 200, 50, 0]
    assert {b["total"] for b in bodies} == {450}
    assert ["next" in b for b in bodies] == [True, True, False, False]
    assert ["prev" in b for b in bodies] == [False, True, True, True]
    assert bodies[0]["next"].endswith("limit=200&offset=1")
    assert recorded.check().checked == 5


async def test_the_catalogs_items_meet_the_unamended_inventory_items_schema(
    recorded: Recorded,
) -> None:
    """The root of `{} is not of type 'string'`: the sandbox invented an empty `aspects`
    for every catalog item (and group), which the official InventoryItems schema, checked
    here without the aspects erratum, types as a string. Items now carry none until the
    seller sets some."""
    config = EbayConfig(seed=5, skus=40)
    harness = build_on_manual_clock(EbaySandbox, config, signature_header="x", hang_s=1)
    transport = httpx.ASGITransport(app=harness.app)
    async with httpx.AsyncClient(transport=transport, base_url=harness.api_url()) as http:
        raw = Recorded(harness, http, recorded.recorder, recorded.contracts)
        await raw.as_user()
        page = (await http.get(f"{INV}/inventory_item", params={"limit": "200"})).json()
        group = next(iter(harness.store.groups))
        grouped = (await http.get(f"{INV}/inventory_item_group/{group}")).json()
    spec = json.loads((SPECS / "sell_inventory_v1_oas3.json").read_text())
    schemas = spec["components"]["schemas"]
    for name, body in (("InventoryItems", page), ("InventoryItemGroup", grouped)):
        schema = {**schemas[name], "components": {"schemas": schemas}}
        errors = list(OAS30Validator(schema).iter_errors(body))
        assert errors == [], f"{name}: {errors[0].message}"
    assert page["size"] == 40
