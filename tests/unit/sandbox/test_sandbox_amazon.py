"""The Amazon sandbox's own rules: LWA and token errors, buckets, ACCEPTED-then-applied,
INVALID issues, search refusals and the getOrders two-minute rule (feeds: contract suite)."""

from __future__ import annotations

import httpx

from omnistock.kit.sandbox.amazon import AmazonSandbox
from omnistock.kit.sandbox.amazon.listings_api import PREFIX
from omnistock.kit.sandbox.common.truth import OrderLine


async def _client(harness: AmazonSandbox) -> tuple[httpx.AsyncClient, dict[str, str]]:
    creds = harness.credentials()
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=harness.app), base_url="http://s")
    form = {
        "grant_type": "refresh_token",
        "refresh_token": creds["refresh_token"],
        "client_id": creds["client_id"],
        "client_secret": creds["client_secret"],
    }
    token = (await client.post("/auth/o2/token", data=form)).json()
    assert token["expires_in"] == 3600
    return client, {"x-amz-access-token": token["access_token"]}


async def test_patch_is_accepted_then_applied_after_the_delay() -> None:
    harness = AmazonSandbox.on_manual_clock()
    (ref,) = await harness.seed(1, quantity=5)
    client, auth = await _client(harness)
    seller, sku = harness.credentials()["seller_id"], ref.external_ids["sku"]
    body = {
        "productType": "PRODUCT",
        "patches": [
            {
                "op": "merge",
                "path": "/attributes/fulfillment_availability",
                "value": [{"fulfillment_channel_code": "DEFAULT", "quantity": 12}],
            }
        ],
    }
    url = f"{PREFIX}/{seller}/{sku}?marketplaceIds=ATVPDKIKX0DER"
    answer = await client.patch(url, json=body, headers=auth)
    assert answer.json()["status"] == "ACCEPTED"
    assert answer.headers["x-amzn-RateLimit-Limit"] == "5"
    assert harness.store.listings[sku].quantity == 5  # not yet
    assert await harness.held(ref) == 12
    body["patches"][0]["value"] = [{"fulfillment_channel_code": "DEFAULT", "quantity": -1}]  # type: ignore[index]
    invalid = (await client.patch(url, json=body, headers=auth)).json()
    assert (invalid["status"], invalid["issues"][0]["severity"]) == ("INVALID", "ERROR")
    await client.aclose()


async def test_delivered_waits_for_the_accepted_writes_to_apply_without_another_call() -> None:
    # Time moves lazily in this sandbox: a bench waiting for a shop at rest must not take
    # "no notification queued" for "nothing more to come" while an apply is still due.
    harness = AmazonSandbox.on_manual_clock()
    (ref,) = await harness.seed(1, quantity=5)
    client, auth = await _client(harness)
    seller, sku = harness.credentials()["seller_id"], ref.external_ids["sku"]
    value = [{"fulfillment_channel_code": "DEFAULT", "quantity": 12}]
    body = {
        "productType": "PRODUCT",
        "patches": [
            {"op": "merge", "path": "/attributes/fulfillment_availability", "value": value}
        ],
    }
    url = f"{PREFIX}/{seller}/{sku}?marketplaceIds=ATVPDKIKX0DER"
    assert (await client.patch(url, json=body, headers=auth)).json()["status"] == "ACCEPTED"
    store = harness.store
    assert store.next_due() is not None
    await harness.delivered()
    assert (store.listings[sku].quantity, store.next_due()) == (12, None)
    await client.aclose()


async def test_expired_tokens_and_empty_buckets_answer_like_amazon() -> None:
    harness = AmazonSandbox.on_manual_clock()
    (ref,) = await harness.seed(1)
    client, auth = await _client(harness)
    seller, sku = harness.credentials()["seller_id"], ref.external_ids["sku"]
    url = f"{PREFIX}/{seller}/{sku}?marketplaceIds=ATVPDKIKX0DER"
    statuses = [(await client.get(url, headers=auth)).status_code for _ in range(11)]
    assert statuses == [200] * 10 + [429]  # burst 10
    throttled = await client.get(url, headers=auth)
    assert throttled.json()["errors"][0]["code"] == "QuotaExceeded"
    assert "x-amzn-RateLimit-Limit" not in throttled.headers
    harness.expire_token()
    expired = await client.get(url, headers=auth)
    assert expired.status_code == 403
    assert "expired" in expired.json()["errors"][0]["details"]
    await client.aclose()


async def test_get_orders_hides_the_last_two_minutes_and_checks_before() -> None:
    harness = AmazonSandbox.on_manual_clock()
    (ref,) = await harness.seed(1, quantity=5)
    client, auth = await _client(harness)
    harness.store.place_order([OrderLine(sku=ref.sku, quantity=1)])
    query = {"MarketplaceIds": "ATVPDKIKX0DER", "LastUpdatedAfter": "2025-01-01T00:00:00Z"}
    early = await client.get("/orders/v0/orders", params=query, headers=auth)
    assert early.json()["payload"]["Orders"] == []
    harness.manual_clock.advance(121)
    later = (await client.get("/orders/v0/orders", params=query, headers=auth)).json()["payload"]
    assert [o["OrderStatus"] for o in later["Orders"]] == ["Unshipped"]
    future = query | {"LastUpdatedBefore": "2099-01-01T00:00:00Z"}
    assert (await client.get("/orders/v0/orders", params=future, headers=auth)).status_code == 400
    await client.aclose()


async def test_storefront_lists_mfn_offers_and_connects_both_notifications() -> None:
    harness = AmazonSandbox.on_manual_clock()
    (ref,) = await harness.seed(1, quantity=3)
    sandbox = harness
    sandbox.store.add_listing("NO-OFFER", None)
    (listing,) = sandbox.listings()
    assert (listing.sku, dict(listing.external_ids)) == (ref.sku, dict(ref.external_ids))
    assert sandbox.shown() == {ref.sku: 3}
    connection = sandbox.connection()
    assert connection.base_url("http://127.0.0.1:9/") == "http://127.0.0.1:9"
    assert set(connection.credentials) >= {"seller_id", "refresh_token", "notification_secret"}
    await sandbox.connect("https://receiver.test/amazon")
    assert set(sandbox.notifications.subscriptions) == {
        "LISTINGS_ITEM_MFN_QUANTITY_CHANGE",
        "ORDER_CHANGE",
    }


async def test_search_refuses_what_amazon_refuses_and_serves_skus_only() -> None:
    harness = AmazonSandbox.on_manual_clock()
    refs = await harness.seed(2)
    client, auth = await _client(harness)
    url = f"{PREFIX}/{harness.credentials()['seller_id']}"
    base = {"marketplaceIds": "ATVPDKIKX0DER", "pageSize": "20"}
    skus = ",".join(str(r.sku) for r in refs)
    refused = {
        "no type": base | {"identifiers": skus},
        "no identifiers": base | {"identifiersType": "SKU"},
        "21 identifiers": base
        | {"identifiers": ",".join(f"S-{n}" for n in range(21)), "identifiersType": "SKU"},
        "by ASIN": base | {"identifiers": "B000000000", "identifiersType": "ASIN"},
    }
    answers = {k: await client.get(url, params=q, headers=auth) for k, q in refused.items()}
    assert {k: a.status_code for k, a in answers.items()} == dict.fromkeys(refused, 400)
    assert {a.json()["errors"][0]["code"] for a in answers.values()} == {"InvalidInput"}
    assert "supports SKU only" in answers["by ASIN"].json()["errors"][0]["details"]
    found = await client.get(
        url,
        params=base | {"identifiers": f"{skus},{skus},NOPE", "identifiersType": "SKU"},
        headers=auth,
    )
    assert [i["sku"] for i in found.json()["items"]] == [str(r.sku) for r in refs]
    await client.aclose()


async def test_search_has_its_own_bucket_of_five() -> None:
    harness = AmazonSandbox.on_manual_clock()
    (ref,) = await harness.seed(1)
    client, auth = await _client(harness)
    seller, sku = harness.credentials()["seller_id"], str(ref.sku)
    query = {"marketplaceIds": "ATVPDKIKX0DER", "identifiers": sku, "identifiersType": "SKU"}
    statuses = [
        (await client.get(f"{PREFIX}/{seller}", params=query, headers=auth)).status_code
        for _ in range(6)
    ]
    assert statuses == [200] * 5 + [429]  # burst 5
    throttled = await client.get(f"{PREFIX}/{seller}", params=query, headers=auth)
    assert throttled.json()["errors"][0]["code"] == "QuotaExceeded"
    item = f"{PREFIX}/{seller}/{sku}?marketplaceIds=ATVPDKIKX0DER"
    assert (await client.get(item, headers=auth)).status_code == 200  # getListingsItem's own
    harness.manual_clock.advance(0.2)  # one token back at 5/s
    assert (await client.get(f"{PREFIX}/{seller}", params=query, headers=auth)).status_code == 200
    await client.aclose()
