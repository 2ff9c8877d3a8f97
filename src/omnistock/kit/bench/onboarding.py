"""Onboarding figures: discovering a large shop on WooCommerce and Shopify (in process, into
a SQLite store) and linking it, with the lower bound each platform's rate limit allows.

Not wired into `omnistock bench` yet: `measure_onboarding()` returns the figures as a dict.
Shopify runs on platform time (`ScaledTime`, the sandbox at the same scale), since its
cost bucket allows about ten listings a second on the Standard plan."""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

from omnistock.adapters.base import DiscoversListings
from omnistock.adapters.http import account_client
from omnistock.adapters.secrets import Secret
from omnistock.adapters.shopify import ShopifyAdapter
from omnistock.adapters.shopify import discovery as shopify_plan
from omnistock.adapters.woocommerce import WooCommerceAdapter
from omnistock.clock import ScaledTime, SystemClock, SystemTimer, Timer
from omnistock.domain.ids import AccountId, Sku
from omnistock.domain.linking import link_listings
from omnistock.kit.sandbox.common.mix import ListingMix
from omnistock.kit.sandbox.shopify.app import ShopifyConfig, ShopifyEmulator
from omnistock.kit.sandbox.woocommerce.app import WooConfig, WooEmulator
from omnistock.ledger.store import Store
from omnistock.onboarding.discovery import DiscoveryProgress, DiscoveryRunner

MIX = ListingMix(unmanaged_share=0.05, duplicate_skus=50)
SHOPIFY_SCALE = 100.0  # platform seconds per wall second (CPU time is scaled too)
Figures = dict[str, object]


async def measure_onboarding(listings: int = 100_000) -> Figures:
    """Discover `listings` on each sandbox and link them; wall seconds, pages, and the
    rate limit's lower bound."""
    with tempfile.TemporaryDirectory() as folder:
        woo = await _woo(listings, Path(folder) / "woo.db")
        shopify = await _shopify(listings, Path(folder) / "shopify.db")
    return {
        "listings": listings,
        "woocommerce": woo,
        "shopify": shopify,
        "linking": _linking(listings),
    }


async def _woo(listings: int, db: Path) -> Figures:
    site = WooEmulator(WooConfig(skus=listings, variant_share=0.3, mix=MIX))
    creds = site.credentials()
    client = account_client(
        site.base_url + "/wp-json/wc/v3/", transport=httpx.ASGITransport(app=site.app)
    )
    adapter = WooCommerceAdapter(
        AccountId("woo"),
        client,
        consumer_key=Secret(creds["consumer_key"]),
        consumer_secret=Secret(creds["consumer_secret"]),
        webhook_secret=Secret("unused"),
        timer=SystemTimer(),
    )
    figures = await _discover(adapter, db, SystemTimer(), platform_time=None)
    await adapter.aclose()
    # Server-paced: the site publishes no limit, so the rate allows any speed; the bound
    # is its own answer time (a 100-product page takes ~0.3-1 s on a typical PHP host).
    return {**figures, "rate_lower_bound_s": 0.0, "rate_model": "server-paced (no published limit)"}


async def _shopify(listings: int, db: Path) -> Figures:
    locations = 2
    config = ShopifyConfig(
        skus=listings // locations, locations=locations, mix=MIX, time_scale=SHOPIFY_SCALE
    )
    shop = ShopifyEmulator(config)
    platform = ScaledTime(SHOPIFY_SCALE)
    client = account_client(shop.base_url, transport=httpx.ASGITransport(app=shop.app))
    creds = {
        "client_id": shop.app_credentials.client_id,
        "secret": shop.app_credentials.client_secret,
    }
    adapter = ShopifyAdapter(
        AccountId("shopify"),
        client,
        client_id=Secret(creds["client_id"]),
        client_secret=Secret(creds["secret"]),
        access_token=Secret(shop.access_token),
        timer=platform,
    )
    figures = await _discover(adapter, db, platform, platform_time=platform)
    await adapter.aclose()
    per_variant = 4 + 3 * locations  # objects a variant's answer holds: its actual cost
    first = shopify_plan.page_size(locations)
    points = (listings // locations) * per_variant + 2 * int(figures["pages"])  # type: ignore[call-overload]
    bound = max(points - config.bucket_size, 0.0) / config.restore_rate
    return {
        **figures,
        "variants_per_page": first,
        "rate_lower_bound_s": round(bound, 1),
        "rate_model": f"cost bucket {config.bucket_size:.0f} points, {config.restore_rate:.0f}/s",
    }


async def _discover(
    adapter: DiscoversListings, db: Path, timer: Timer, *, platform_time: ScaledTime | None
) -> Figures:
    store = await Store.open(f"sqlite:///{db}")
    runner = DiscoveryRunner(store=store, clock=SystemClock(), timer=timer, rng=random.Random(1))
    started, platform_started = time.perf_counter(), _at(platform_time)
    done: DiscoveryProgress = await runner.run(AccountId("bench"), adapter)
    wall = time.perf_counter() - started
    saved = await store.discovery.count(AccountId("bench"))
    await store.close()
    figures: Figures = {
        "discovered": done.listings,
        "saved": saved,
        "pages": done.pages,
        "wall_s": round(wall, 2),
    }
    if platform_time is not None:
        figures["platform_s"] = round(_at(platform_time) - platform_started, 1)
    return figures


def _at(platform: ScaledTime | None) -> float:
    return 0.0 if platform is None else platform.monotonic()


class _Found:
    __slots__ = ("key", "location", "managed", "sku")

    def __init__(self, key: str, sku: str, managed: bool) -> None:
        self.key, self.sku, self.managed, self.location = key, sku, managed, None


def _linking(listings: int) -> Figures:
    rng = random.Random(7)
    found: Sequence[_Found] = [
        _Found(str(n), f"sku-{n:07d}" if n % 10 else f" SKU-{n:07d} ", rng.random() > 0.05)
        for n in range(listings)
    ]
    catalog = {Sku(f"sku-{n:07d}") for n in range(0, listings, 1)}
    figures: Figures = {}
    for normalise in (False, True):
        started = time.perf_counter()
        report = link_listings(found, catalog, normalise=normalise)
        figures["normalised_s" if normalise else "exact_s"] = round(
            time.perf_counter() - started, 3
        )
        figures["normalised_linked" if normalise else "exact_linked"] = len(report.linked)
    return figures


if __name__ == "__main__":  # pragma: no cover - `python -m omnistock.kit.bench.onboarding`
    import json
    import sys

    size = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    sys.stdout.write(json.dumps(asyncio.run(measure_onboarding(size)), indent=2) + "\n")
