"""Settings of the Python process an `omnistock` command runs in."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

try:
    import uvloop

    NEW_LOOP: Callable[[], asyncio.AbstractEventLoop] | None = uvloop.new_event_loop
except ImportError:  # pragma: no cover - not built for Windows; asyncio's own loop serves
    NEW_LOOP = None

T = TypeVar("T")

# CPython collects its youngest generation every 700 net allocations. A first sync's plan
# or a reconciliation allocates a few objects per listing for millions of listings, and
# with that default the collector took ~20% of their time (measured at 400,000 listings,
# `omnistock bench scale`); a young generation of 50,000 objects costs a few MB at most.
GC_THRESHOLDS = (50_000, 20, 100)


def configure() -> None:
    """Apply the process settings (idempotent)."""
    gc.set_threshold(*GC_THRESHOLDS)


def run(main: Coroutine[Any, Any, T]) -> T:
    """Run `main` to completion on a new event loop, as asyncio.run does, on uvloop where
    it is installed: signed webhooks served through it and httptools answered 3,760/s
    against 3,392/s on asyncio's loop (`omnistock bench ingest --quick`)."""
    with asyncio.Runner(loop_factory=NEW_LOOP) as runner:
        return runner.run(main)
