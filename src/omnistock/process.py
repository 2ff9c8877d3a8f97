"""Settings of the Python process an `omnistock` command runs in."""

from __future__ import annotations

import gc

# CPython collects its youngest generation every 700 net allocations. A first sync's plan
# or a reconciliation allocates a few objects per listing for millions of listings, and
# with that default the collector took ~20% of their time (measured at 400,000 listings,
# `omnistock bench scale`); a young generation of 50,000 objects costs a few MB at most.
GC_THRESHOLDS = (50_000, 20, 100)


def configure() -> None:
    """Apply the process settings (idempotent)."""
    gc.set_threshold(*GC_THRESHOLDS)
