"""Shaping the seeded Shopify store like one that already sells: several locations with
every item stocked at each, items whose quantities Shopify does not track, and SKUs two
variants share (Shopify never required SKUs to be unique)."""

from __future__ import annotations

import random

from omnistock.kit.sandbox.common.mix import ListingMix
from omnistock.kit.sandbox.shopify.store import Level, ShopifyStore

MAX_QUANTITY = 40


def shape_store(store: ShopifyStore, mix: ListingMix, locations: int, seed: int) -> None:
    """Apply the shape to the seeded items (deterministic in `seed`); fires no webhook."""
    rng = random.Random(f"locations:{seed}")
    extra = [
        store.add_location(f"location-{n}") for n in range(len(store.locations) + 1, locations + 1)
    ]
    items = list(store.items.values())
    now = store.now()
    for item in items:
        for location in extra:
            item.levels[location] = Level(available=rng.randint(0, MAX_QUANTITY), updated_at=now)
    plan = mix.plan(len(items), seed)
    for index in plan.unmanaged:
        items[index].tracked = False
    for index, source in plan.copies.items():
        items[index].sku = items[source].sku
    if plan.copies:
        store.reindex()
