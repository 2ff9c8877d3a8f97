"""The lower bound of the latency benchmark: a quantile of the wait for the next write call
plus a round trip, none when a platform cannot keep up, Amazon's feed schedule."""

from __future__ import annotations

import math

import pytest

from omnistock.adapters.amazon.limits import CAPABILITIES as AMAZON
from omnistock.adapters.ebay.limits import CAPABILITIES as EBAY
from omnistock.adapters.shopify.limits import CAPABILITIES as SHOPIFY
from omnistock.adapters.woocommerce.limits import CAPABILITIES as WOOCOMMERCE
from omnistock.kit.bench import latency_bound

TIMING = latency_bound.AmazonTiming(
    apply_delay_s=5.0, queue_s=30.0, base_s=30.0, per_message_s=0.01
)


def test_a_paced_platform_waits_a_quantile_of_its_call_interval_plus_a_round_trip() -> None:
    shopify = latency_bound.lower_bound_s("shopify", SHOPIFY, 150.0, 0.01, 5_000)
    assert shopify == pytest.approx(0.99 / 10 + 0.01)  # 100 points/s at 10 per write
    ebay = latency_bound.lower_bound_s("ebay", EBAY, 150.0, 0.01, 5_000)
    assert ebay == pytest.approx(0.99 * 86_400 / 2_000_000 + 0.01)
    woo = latency_bound.lower_bound_s("woocommerce", WOOCOMMERCE, 150.0, 0.004, 5_000)
    assert woo == pytest.approx(0.004 * (1 + 0.99 / 4))


def test_a_platform_that_cannot_keep_up_has_no_bound() -> None:
    assert latency_bound.lower_bound_s("ebay", EBAY, 10_000.0, 0.01, 100_000) is None


def test_amazon_at_full_load_needs_feeds_and_waits_minutes() -> None:
    bound = latency_bound.lower_bound_s("amazon", AMAZON, 150.0, 0.01, 5_000, amazon=TIMING)
    assert bound is not None
    every = latency_bound.feed_interval_s(150.0 * (1 - 5 / 150), 5_000, TIMING)
    assert every >= 120.0  # createFeed's 0.0083/s
    assert (
        TIMING.base_s + TIMING.per_message_s * latency_bound.distinct(145.0, every, 5_000) <= every
    )
    assert 120.0 < bound < 300.0


def test_amazon_over_few_listings_is_bound_by_coalesced_patches() -> None:
    bound = latency_bound.lower_bound_s("amazon", AMAZON, 30.0, 0.01, 80, amazon=TIMING)
    assert bound is not None
    assert TIMING.apply_delay_s < bound < 0.99 * 80 / 5 + 0.01 + TIMING.apply_delay_s + 1e-9


def test_distinct_listings_saturate_at_the_catalog() -> None:
    assert latency_bound.distinct(150.0, 0.0, 5_000) == 0
    assert latency_bound.distinct(150.0, 1e6, 5_000) == pytest.approx(5_000)
    assert latency_bound.distinct(1.0, 1.0, 5_000) == pytest.approx(5_000 * -math.expm1(-1 / 5_000))
