"""The Amazon push benchmark at a small size: both paths write every listing, the feed in
fewer calls, and neither beats the lower bound the default limits allow."""

from __future__ import annotations

from omnistock.kit.bench.amazon_push import measure_push


async def test_both_paths_apply_everything_within_the_limits() -> None:
    report = await measure_push(30)
    patches, feed, bound = report["patches"], report["feed"], report["lower_bound"]
    assert isinstance(patches, dict)
    assert isinstance(feed, dict)
    assert isinstance(bound, dict)
    for path in (patches, feed):
        assert path["accepted"] == 30
        assert path["sandbox_matches"] is True
        assert path["applied_s"] > path["push_s"]  # ACCEPTED shows only later
    assert feed["feeds"] == 1
    assert patches["feeds"] == 0
    assert feed["api_calls"] < patches["api_calls"]
    assert patches["api_calls"] >= bound["patches_calls"] == 30
    assert feed["api_calls"] >= bound["feed_calls"]
    assert bound["patches_s"] <= patches["push_s"] <= bound["patches_s"] + 1.0  # (30-5)/5
    assert bound["feed_s"] <= feed["push_s"]
