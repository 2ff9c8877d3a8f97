"""`omnistock bench onboarding`: discovering every listing of a large account on each
platform through the product's own path (the registry's adapter, the resumable
`DiscoveryRunner` saving page by page into a SQLite store), next to the lower bound the
platform's default limits allow; then linking and planning as many listings.

Each platform's discovery runs in a child process, so its peak memory (which includes the
sandbox serving it) is its own. The sandboxes run on manual clocks: platform time passes
only when the adapter waits for the platform (its rate limits, Amazon's report), so
`platform_s` is the waiting the limits impose and `wall_s` the work.

Where a limit gives a time (Shopify's cost bucket; Amazon's report processing, the
sandbox's figure), the target compares platform time with it; where it gives none
(WooCommerce is server-paced, eBay counts calls by the day), it compares the calls made
with the fewest the API allows."""

from __future__ import annotations

import asyncio
import math
import random
import resource
import tempfile
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from pathlib import Path

import httpx

from omnistock.adapters.amazon.discovery import SEARCH_REACHABLE
from omnistock.adapters.amazon.limits import RATES, Operation
from omnistock.adapters.amazon.wire import SEARCH_MAX_SKUS
from omnistock.adapters.base import DiscoversListings
from omnistock.adapters.ebay.discovery import PAGE_LIMIT as EBAY_PAGE
from omnistock.adapters.registry import PLATFORMS
from omnistock.adapters.shopify import discovery as shopify_pages
from omnistock.adapters.woocommerce import PRODUCT_ID, VARIATION_ID
from omnistock.clock import SystemClock
from omnistock.domain.allocation import AllocationPolicy
from omnistock.domain.balance import Balance
from omnistock.domain.ids import AccountId, ListingId, LocationId, Sku
from omnistock.domain.linking import link_listings
from omnistock.domain.planning import ListingPlan
from omnistock.domain.sync_plan import plan_first_sync
from omnistock.kit.bench.stats import merge_runs
from omnistock.kit.merchant import MerchantStore
from omnistock.kit.sandbox.amazon import AmazonConfig, AmazonSandbox
from omnistock.kit.sandbox.amazon.notifications import SIGNATURE_HEADER as AMAZON_SIGNATURE
from omnistock.kit.sandbox.common.face import SandboxFace
from omnistock.kit.sandbox.common.face_controls import build_on_manual_clock
from omnistock.kit.sandbox.common.mix import ListingMix
from omnistock.kit.sandbox.ebay import EbayConfig, EbaySandbox
from omnistock.kit.sandbox.ebay.notifications import SIGNATURE_HEADER as EBAY_SIGNATURE
from omnistock.kit.sandbox.shopify import ShopifySandbox
from omnistock.kit.sandbox.shopify.app import ShopifyConfig
from omnistock.kit.sandbox.shopify.face import SIGNATURE_HEADER as SHOPIFY_SIGNATURE
from omnistock.kit.sandbox.woocommerce import WooConfig, WooSandbox
from omnistock.kit.sandbox.woocommerce.face import SIGNATURE_HEADER as WOO_SIGNATURE
from omnistock.ledger.store import Store
from omnistock.onboarding.discovery import DiscoveryRunner
from omnistock.process import run as run_async

FULL, QUICK = 100_000, 10_000
TARGET_RATIO = 1.2  # discovery within 1.2x the bound, on every platform
TARGET_MEMORY_MB = 500.0
TARGET_LINK_PLAN_S = 10.0
MIX = ListingMix(unmanaged_share=0.05, duplicate_skus=50)  # realistic shops are not clean
SHOPIFY_LOCATIONS = 2
AMAZON_FBA_SHARE = 0.1  # fulfilled by Amazon: discovered, not managed by omnistock
WOO_PAGE = 100  # per_page at most
# Not calls of the platform's metered APIs: token grants and the report's S3 download.
UNMETERED = frozenset({"lwa.token", "oauth.token", "reportDocument.download"})
SECRET = "bench-webhook-secret"  # noqa: S105 - a sandbox's, signs nothing here
Figures = dict[str, object]


async def run(listings: int, repeat: int) -> Figures:
    """Every platform's discovery (each in a child process, `repeat` times) and linking and
    planning, with the targets."""
    results: Figures = {}
    context = get_context("spawn")  # a fresh interpreter: its peak memory is the run's own
    for platform in PLATFORMS:
        runs = []
        for _ in range(repeat):
            with ProcessPoolExecutor(1, mp_context=context) as child:
                runs.append(await asyncio.wrap_future(child.submit(measure, platform, listings)))
        results[platform] = merge_runs(runs)
    results["link_and_plan"] = merge_runs([link_and_plan(listings) for _ in range(repeat)])
    results["target_met"] = _targets(results, list(PLATFORMS))
    results["size"] = {"listings": listings, "repeat": repeat}
    return results


def measure(platform: str, listings: int) -> Figures:
    """One platform's discovery, in this process (the child's entry point)."""
    figures = run_async(discover(platform, listings))
    # ru_maxrss is in KiB on Linux.
    return figures | {
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    }


async def discover(platform: str, listings: int) -> Figures:
    face, config = _face(platform, listings)
    store_of = MerchantStore(AccountId(f"bench-{platform}"), platform, face, config.base_url)
    adapter = store_of.info().adapter(face.timer, httpx.ASGITransport(app=face.app))
    if not isinstance(adapter, DiscoversListings):
        raise TypeError(f"the {platform} adapter does not discover listings")
    with tempfile.TemporaryDirectory() as folder:
        store = await Store.open(f"sqlite:///{Path(folder) / 'bench.db'}")
        runner = DiscoveryRunner(store=store, clock=SystemClock(), timer=face.timer)
        account = AccountId("bench")
        try:
            async with face.running():
                clock = face.core.clock
                started, wall = clock.now(), time.perf_counter()
                done = await runner.run(account, adapter)
                wall_s, platform_s = time.perf_counter() - wall, clock.now() - started
            found = await store.discovery.listings(account)
        finally:
            await adapter.aclose()
            await store.close()
    by_operation = Counter(c.operation for c in face.core.calls.records())
    calls = sum(n for op, n in by_operation.items() if op not in UNMETERED)
    bound = _bound(config, listings, [x.external_ids for x in found], done.pages)
    # Platform time over the bound's, where the limits give a time; else calls over the
    # fewest the API allows.
    ratio = platform_s / bound.seconds if bound.seconds else calls / bound.calls
    return {
        "discovered": done.listings,
        "managed": sum(x.managed for x in found),
        "pages": done.pages,
        "api_calls": calls,
        "wall_s": round(wall_s, 2),
        "platform_s": round(platform_s, 1),
        "bound": bound.figures(),
        "ratio": round(ratio, 3),
    }


Config = WooConfig | ShopifyConfig | AmazonConfig | EbayConfig


def _face(platform: str, listings: int) -> tuple[SandboxFace, Config]:
    face: SandboxFace
    if platform == "woocommerce":
        woo = WooConfig(seed=1, skus=listings, variant_share=0.3, mix=MIX, webhook_secret=SECRET)
        face = build_on_manual_clock(WooSandbox, woo, signature_header=WOO_SIGNATURE, hang_s=1)
        return face, woo
    if platform == "shopify":
        shopify = ShopifyConfig(
            seed=1, skus=listings // SHOPIFY_LOCATIONS, locations=SHOPIFY_LOCATIONS, mix=MIX
        )
        face = build_on_manual_clock(
            ShopifySandbox, shopify, signature_header=SHOPIFY_SIGNATURE, hang_s=1
        )
        return face, shopify
    if platform == "amazon":
        fba = int(listings * AMAZON_FBA_SHARE)
        amazon = AmazonConfig(seed=1, skus=listings - fba, fba_listings=fba)
        face = build_on_manual_clock(
            AmazonSandbox, amazon, signature_header=AMAZON_SIGNATURE, hang_s=1
        )
        return face, amazon
    ebay = EbayConfig(seed=1, skus=listings)
    face = build_on_manual_clock(EbaySandbox, ebay, signature_header=EBAY_SIGNATURE, hang_s=1)
    return face, ebay


@dataclass(frozen=True, slots=True)
class Bound:
    """The least discovery can take under the platform's default limits."""

    calls: int  # the fewest calls the API allows
    seconds: float | None  # the time its limits impose (None: they impose none)
    model: str
    extra: tuple[tuple[str, float], ...] = ()

    def figures(self) -> Figures:
        return {
            "calls": self.calls,
            "seconds": self.seconds,
            "model": self.model,
            **dict(self.extra),
        }


def _bound(config: Config, listings: int, ids: Sequence[Mapping[str, str]], pages: int) -> Bound:
    if isinstance(config, WooConfig):
        # Products page by page, and each variable product's variations: the API lists
        # variations only under their parent. No published rate: the site paces itself.
        parents: Counter[str] = Counter(x[PRODUCT_ID] for x in ids if VARIATION_ID in x)
        products = sum(VARIATION_ID not in x for x in ids)
        calls = math.ceil(products / WOO_PAGE) + sum(
            math.ceil(n / WOO_PAGE) for n in parents.values()
        )
        return Bound(max(calls, 1), None, "server-paced: no rate")
    if isinstance(config, ShopifyConfig):
        variants = listings // SHOPIFY_LOCATIONS
        # What the answers cost: per variant its objects (node, item, levels), per page two.
        points = variants * (2 + shopify_pages.level_cost(SHOPIFY_LOCATIONS)) + 2 * pages
        seconds = max(points - config.bucket_size, 0.0) / config.restore_rate
        calls = math.ceil(variants / shopify_pages.page_size(SHOPIFY_LOCATIONS))
        model = f"cost bucket {config.bucket_size:.0f} points, {config.restore_rate:.0f}/s"
        return Bound(calls, round(seconds, 1), model)
    if isinstance(config, AmazonConfig):
        timing = config.report_timing
        search = RATES[Operation.SEARCH_LISTINGS_ITEMS]
        search_calls = math.ceil(listings / SEARCH_MAX_SKUS)
        # 20 listings a call at 5/s: what a small account is read by, and what the report
        # was chosen over for a larger one.
        search_s = round(max(search_calls - search.burst, 0) / search.per_s, 1)
        if listings <= SEARCH_REACHABLE:
            return Bound(search_calls, search_s or None, "searchListingsItems: 5/s, burst 5")
        return Bound(
            3,  # createReport, getReport once it is done, getReportDocument
            round(timing.queue_s + timing.base_s + timing.per_row_s * listings, 1),
            "report processing (the sandbox's figure; the rates cost nothing)",
            (("search_listings_items_s", search_s),),
        )
    return Bound(math.ceil(listings / EBAY_PAGE), None, "daily quota: no rate per second")


@dataclass(frozen=True, slots=True)
class _Found:
    """A discovered listing as linking reads it."""

    key: str
    sku: str
    managed: bool
    location: str | None = None


def link_and_plan(listings: int) -> Figures:
    """Linking `listings` discovered listings (one in ten spelled differently, 5%
    unmanaged) to the catalog, exactly and normalised; then the first push's plan of the
    linked ones from their balances and the levels discovery read."""
    rng = random.Random(7)
    found = [
        _Found(str(n), f"sku-{n:07d}" if n % 10 else f" SKU-{n:07d} ", rng.random() > 0.05)
        for n in range(listings)
    ]
    catalog = {Sku(f"sku-{n:07d}") for n in range(listings)}
    figures: Figures = {}
    started = time.perf_counter()
    exact = link_listings(found, catalog, normalise=False)
    figures["link_exact_s"] = round(time.perf_counter() - started, 3)
    started = time.perf_counter()
    report = link_listings(found, catalog, normalise=True)
    normalised_s = time.perf_counter() - started
    figures["link_normalised_s"] = round(normalised_s, 3)
    figures["linked_exact"], figures["linked_normalised"] = len(exact.linked), len(report.linked)
    main, policy = LocationId("main"), AllocationPolicy()
    plans = [ListingPlan(ListingId(f"a:{n}"), Sku(f"sku-{n:07d}"), policy) for n in range(listings)]
    balances = {p.sku: {main: Balance(rng.randint(0, 20), 0)} for p in plans if rng.random() < 0.9}
    shown: dict[ListingId, int | None] = {p.listing: rng.randint(0, 20) for p in plans}
    started = time.perf_counter()
    plan = plan_first_sync(AccountId("a"), plans, balances, {}, shown)
    plan_s = time.perf_counter() - started
    figures["plan_s"] = round(plan_s, 3)
    figures["planned"] = len(plan.writes)
    figures["total_s"] = round(normalised_s + plan_s, 3)
    return figures


def _targets(results: Figures, platforms: Sequence[str]) -> Figures:
    met: Figures = {}
    for platform in platforms:
        met[f"{platform}_within_1_2x_bound"] = _median(results, platform, "ratio") <= TARGET_RATIO
        met[f"{platform}_memory_500mb"] = (
            _median(results, platform, "peak_rss_mb") <= TARGET_MEMORY_MB
        )
    met["link_and_plan_10s"] = _median(results, "link_and_plan", "total_s") <= TARGET_LINK_PLAN_S
    return met


def _median(results: Figures, part: str, name: str) -> float:
    """A figure of `results[part]`: its median when it varied over the runs."""
    figures = results[part]
    value = figures.get(name) if isinstance(figures, dict) else None
    if isinstance(value, dict):
        value = value.get("median")
    if not isinstance(value, int | float):
        raise TypeError(f"{part}.{name} is not a number: {value!r}")
    return float(value)
