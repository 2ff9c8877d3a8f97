"""Schema-valid Admin GraphQL 2026-04 documents that omnistock's adapter does not send get
the answer the schema promises: a connection the schema declares non-null resolves."""

from __future__ import annotations

import httpx

from omnistock.kit.sandbox.shopify import ShopifyConfig, ShopifySandbox

GRAPHQL = "/admin/api/2026-04/graphql.json"
# Issue 20's example: InventoryItem.inventoryLevels is `InventoryLevelConnection!`.
LEVELS = (
    "{ inventoryItems(first: 5) { nodes { id sku inventoryLevels(first: 3) { nodes"
    ' { location { id } quantities(names: ["available"]) { name quantity } } } } } }'
)


async def test_an_inventory_item_s_levels_resolve_as_the_schema_declares() -> None:
    sandbox = ShopifySandbox(ShopifyConfig(seed=1, skus=5))
    credentials = sandbox.connection().credentials
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sandbox.app), base_url=sandbox.base_url
    ) as client:
        grant = await client.post(
            "/admin/oauth/access_token",
            data={
                "client_id": credentials["client_id"],
                "client_secret": credentials["client_secret"],
                "grant_type": "client_credentials",
            },
        )
        token = grant.json()["access_token"]
        answer = await client.post(
            GRAPHQL, json={"query": LEVELS}, headers={"X-Shopify-Access-Token": token}
        )
    body = answer.json()
    assert "errors" not in body, body
    items = body["data"]["inventoryItems"]["nodes"]
    assert len(items) == 5
    for item in items:
        [level] = item["inventoryLevels"]["nodes"]
        assert level["location"]["id"].startswith("gid://shopify/Location/")
        [available] = level["quantities"]
        assert available["name"] == "available"
        assert isinstance(available["quantity"], int)
