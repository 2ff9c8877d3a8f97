"""The Shopify sandbox's GraphQL endpoint checks each query text once and answers alike."""

from __future__ import annotations

import httpx

from omnistock.kit.sandbox.shopify import ShopifySandbox, graphql_api
from omnistock.kit.sandbox.shopify.app import GRAPHQL_PATH, TOKEN_PATH

LOCATIONS = "{ locations(first: 1) { nodes { name } } }"
SHOP_NAME = "query { locations(first: 5) { nodes { name } } }"


async def _client(harness: ShopifySandbox) -> httpx.AsyncClient:
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=harness.app), base_url=harness.api_url()
    )
    creds = harness.credentials()
    form = {"grant_type": "client_credentials", **creds}
    token = (await client.post(TOKEN_PATH, data=form)).json()["access_token"]
    client.headers["X-Shopify-Access-Token"] = token
    return client


async def _ask(client: httpx.AsyncClient, query: str) -> dict[str, object]:
    response = await client.post(GRAPHQL_PATH, json={"query": query})
    assert response.status_code == 200
    body: dict[str, object] = response.json()
    return body


async def test_a_query_sent_again_gets_the_same_answer_and_a_bad_one_the_same_errors() -> None:
    harness = ShopifySandbox.on_manual_clock()
    async with harness.running():
        client = await _client(harness)
        first, again = await _ask(client, SHOP_NAME), await _ask(client, SHOP_NAME)
        assert first["data"] == again["data"]
        assert "main" in str(first["data"])
        bad = "query { locations(first: 1) { noSuchField } }"
        refused, refused_again = await _ask(client, bad), await _ask(client, bad)
        assert refused["errors"] == refused_again["errors"]
        assert "noSuchField" in str(refused["errors"])
        unparsable = await _ask(client, "query {")
        assert "parseError" in str(unparsable["errors"])
        await client.aclose()


async def test_the_checked_queries_are_bounded() -> None:
    harness = ShopifySandbox.on_manual_clock()
    async with harness.running():
        client = await _client(harness)
        for n in range(graphql_api.MAX_CHECKED_QUERIES + 5):
            body = await _ask(
                client, f"query Q{n} {{ locations(first: 1) {{ nodes {{ name }} }} }}"
            )
            assert "data" in body
        endpoint = harness._graphql  # the cache has no public view
        assert len(endpoint._checked) == graphql_api.MAX_CHECKED_QUERIES
        assert "data" in await _ask(
            client, "query Q0 { locations(first: 1) { nodes { name } } }"
        )  # checked again
        await client.aclose()
