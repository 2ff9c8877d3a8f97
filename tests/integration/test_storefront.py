"""Every sandbox's storefront answers for one SKU what it shows for the whole store."""

from __future__ import annotations

from pathlib import Path

from omnistock.kit.merchant import PLATFORM_ORDER
from tests.integration.engine_rig import engine_rig


async def test_shown_of_agrees_with_shown_on_every_platform(tmp_path: Path) -> None:
    async with engine_rig(tmp_path, PLATFORM_ORDER) as (_, shop, _):
        for store in shop.stores:
            sandbox = store.sandbox
            sandbox.core.shoppers.buy_once()  # a sale moves one level off the sync
            shown = sandbox.shown()
            assert any(shown.values()), store.platform  # first-synced: stock on show
            skus = [listing.sku for listing in sandbox.listings()]
            assert {sku: sandbox.shown_of(sku) for sku in skus} == {
                sku: shown.get(sku, 0) for sku in skus
            }, store.platform
            assert sandbox.shown_of("NOT-SOLD-HERE") == 0
