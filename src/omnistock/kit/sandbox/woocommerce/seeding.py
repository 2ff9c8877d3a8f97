"""Shaping the seeded WooCommerce catalog like a site that already sells: products whose
stock is not managed, variable products whose parent holds the stock (variations answer
`manage_stock: "parent"`), and SKUs two listings share (core refuses a duplicate SKU on
save, but imports and plugins that turn the check off leave them, and omnistock must cope)."""

from __future__ import annotations

import random

from omnistock.kit.sandbox.common.mix import ListingMix
from omnistock.kit.sandbox.woocommerce.store import WooProduct, WooStore


def shape_catalog(store: WooStore, mix: ListingMix, parent_stock_share: float, seed: int) -> None:
    """Apply the mix to the store's seeded listings (deterministic in `seed`); no webhook."""
    rng = random.Random(f"parent-stock:{seed}")
    for product in store.products.values():
        if product.type == "variable" and rng.random() < parent_stock_share:
            _stock_on_parent(store, product)
    items = list(store.sellable())
    plan = mix.plan(len(items), seed)
    for index in plan.unmanaged:
        item = items[index]
        if item.manage_stock:
            item.manage_stock, item.stock_quantity = False, None
    for index, source in plan.copies.items():
        items[index].sku = items[source].sku


def _stock_on_parent(store: WooStore, product: WooProduct) -> None:
    variations = [store.variations[v] for v in product.variation_ids]
    product.manage_stock = True
    product.stock_quantity = sum(v.stock_quantity or 0 for v in variations)
    for variation in variations:
        variation.manage_stock, variation.stock_quantity = False, None
    store.touch_quietly(product)
