"""Notification registration checked against the official Notifications API model: what the
adapter sends and what the sandbox answers (destinations, subscriptions, a missing one, a
replacement, removal, and the sandbox's refusals)."""

from __future__ import annotations

import httpx

from omnistock.adapters.amazon import create_adapter
from omnistock.adapters.amazon.settings import AmazonSettings
from omnistock.adapters.secrets import Secret
from omnistock.domain.ids import AccountId
from omnistock.kit.sandbox.amazon import AmazonSandbox
from tests.fidelity.amazon import models
from tests.fidelity.amazon.recording import RecordingTransport

NOTE = "/notifications/v1"


async def test_registration_stays_within_the_notifications_model() -> None:
    harness = AmazonSandbox.on_manual_clock()
    recorder = RecordingTransport(httpx.ASGITransport(app=harness.app))
    connection = harness.connection()
    adapter = create_adapter(
        AccountId("amazon-1"),
        AmazonSettings.of({"base_url": harness.base_url, **connection.settings}),
        {k: Secret(v) for k, v in connection.credentials.items()},
        timer=harness.timer,
        transport=recorder,
    )
    await adapter.register_notifications("arn:aws:sqs:us-east-1:111122223333:elsewhere")
    await adapter.register_notifications(harness.notification_queue)  # replaces both
    await adapter.register_notifications(harness.notification_queue)  # keeps both
    await adapter.remove_notifications(harness.notification_queue)
    await adapter.aclose()
    found = [p for e in recorder.exchanges for p in models.problems(e)]
    assert found == [], "\n".join(found[:20])
    assert models.operation_ids(recorder.exchanges) >= {
        "getDestinations:200",
        "createDestination:200",
        "getSubscription:200",
        "getSubscription:404",
        "createSubscription:200",
        "deleteSubscriptionById:200",
    }


async def test_the_sandboxes_refusals_stay_within_the_model() -> None:
    harness = AmazonSandbox.on_manual_clock()
    recorder = RecordingTransport(httpx.ASGITransport(app=harness.app))
    creds = harness.credentials()
    async with httpx.AsyncClient(transport=recorder, base_url=harness.base_url) as http:
        login = {k: creds[k] for k in ("client_id", "client_secret")}
        grantless = await http.post(
            "/auth/o2/token",
            data={
                "grant_type": "client_credentials",
                "scope": "sellingpartnerapi::notifications",
                **login,
            },
        )
        app = {"x-amz-access-token": grantless.json()["access_token"]}
        seller_login = await http.post(
            "/auth/o2/token",
            data={"grant_type": "refresh_token", "refresh_token": creds["refresh_token"], **login},
        )
        seller = {"x-amz-access-token": seller_login.json()["access_token"]}
        queue = {"name": "q", "resourceSpecification": {"sqs": {"arn": harness.notification_queue}}}
        made = await http.post(f"{NOTE}/destinations", json=queue, headers=app)
        again = await http.post(f"{NOTE}/destinations", json=queue, headers=app)
        by_seller = await http.get(f"{NOTE}/destinations", headers=seller)
        dest = made.json()["payload"]["destinationId"]
        body = {"payloadVersion": "1.0", "destinationId": dest}
        wrong_channel = await http.post(
            f"{NOTE}/subscriptions/LISTINGS_ITEM_MFN_QUANTITY_CHANGE", json=body, headers=seller
        )
        first = await http.post(f"{NOTE}/subscriptions/ORDER_CHANGE", json=body, headers=seller)
        second = await http.post(f"{NOTE}/subscriptions/ORDER_CHANGE", json=body, headers=seller)
        unknown = await http.delete(f"{NOTE}/destinations/nope", headers=app)
    statuses = [r.status_code for r in (made, again, by_seller, wrong_channel, first, second)]
    assert statuses == [200, 409, 403, 400, 200, 409]
    assert unknown.status_code == 404
    found = [p for e in recorder.exchanges for p in models.problems(e, refused_ok=True)]
    assert found == [], "\n".join(found[:20])
