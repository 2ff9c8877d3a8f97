"""Serving an ASGI app with uvicorn on a free loopback port, for tests over real sockets:
the benchmarks' helper, one implementation for both; and how a test's client talks to it."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator

import httpx
from starlette.types import ASGIApp

from omnistock.kit.sandbox.common.storefront import Storefront
from omnistock.kit.serving import served

# uvicorn closes a keep-alive connection idle for 5 s; a client that reuses it at that
# moment gets a ReadError on a POST it must not retry (seen once in test_run_platforms
# after a 5 s wait for the first sync). Idle connections are dropped well before that.
CLIENT_LIMITS = httpx.Limits(keepalive_expiry=1.0)

__all__ = ["CLIENT_LIMITS", "served", "served_on_a_thread"]


@contextlib.contextmanager
def served_on_a_thread(app: ASGIApp, running: Storefront | None = None) -> Iterator[str]:
    """`app` served by uvicorn on a thread and event loop of its own (with `running`'s
    shoppers and deliveries), for synchronous clients and the CLI, which runs its own loop:
    its base URL until the block ends."""
    ready, stop = threading.Event(), threading.Event()
    where: list[str] = []

    async def serve() -> None:
        async with contextlib.AsyncExitStack() as stack:
            if running is not None:
                await stack.enter_async_context(running.running())
            where.append(await stack.enter_async_context(served(app)))
            ready.set()
            await asyncio.to_thread(stop.wait)

    thread = threading.Thread(target=asyncio.run, args=(serve(),), daemon=True)
    thread.start()
    if not ready.wait(10):
        raise RuntimeError("the app was not served within 10 s")
    try:
        yield where[0]
    finally:
        stop.set()
        thread.join(10)
