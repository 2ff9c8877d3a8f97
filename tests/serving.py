"""Serving an ASGI app with uvicorn on a free loopback port, for tests over real sockets:
the benchmarks' helper, one implementation for both; and how a test's client talks to it."""

from __future__ import annotations

import httpx

from omnistock.kit.serving import served

# uvicorn closes a keep-alive connection idle for 5 s; a client that reuses it at that
# moment gets a ReadError on a POST it must not retry (seen once in test_run_platforms
# after a 5 s wait for the first sync). Idle connections are dropped well before that.
CLIENT_LIMITS = httpx.Limits(keepalive_expiry=1.0)

__all__ = ["CLIENT_LIMITS", "served"]
