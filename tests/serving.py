"""Serving an ASGI app with uvicorn on a free loopback port, for tests over real sockets:
the benchmarks' helper, one implementation for both."""

from __future__ import annotations

from omnistock.bench.serving import served

__all__ = ["served"]
