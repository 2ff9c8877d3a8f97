"""WooCommerce's capabilities, and the rate state a response reveals.

Core has no rate limit: the site's host paces us with 429 (or 503, or a WAF's 403) and
Retry-After, so the model is ServerPaced and the only signal is that refusal."""

from __future__ import annotations

from collections.abc import Mapping

from omnistock.adapters.base import Capabilities, ServerPaced
from omnistock.adapters.http import retry_after_seconds
from omnistock.adapters.ratelimit import RateSignal

# 100 objects per batch call (filter woocommerce_rest_batch_items_limit, default 100).
# Four requests in flight: a batch of 100 saves occupies a PHP worker for seconds, and
# small shared hosts run only a handful of workers; the limiter halves it on a 429/503.
CAPABILITIES = Capabilities(max_batch=100, rate=ServerPaced(max_in_flight=4))

THROTTLE_STATUSES = frozenset({429, 503})


def rate_signal(status: int, headers: Mapping[str, str]) -> RateSignal | None:
    """What one answer says about pacing: Retry-After, and whether it refused us for load.

    `headers` must look names up case-insensitively (httpx.Headers does). A 403 counts as
    a throttle only with Retry-After: without it, it is a refused key, not a busy host."""
    retry_after = retry_after_seconds(headers.get("retry-after"))
    throttled = status in THROTTLE_STATUSES or (status == 403 and retry_after is not None)
    if not throttled and retry_after is None:
        return None
    return RateSignal(retry_after=retry_after, throttled=throttled)
