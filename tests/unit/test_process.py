"""The process settings every `omnistock` command applies."""

from __future__ import annotations

import gc

from omnistock import process


def test_configure_enlarges_the_young_generation() -> None:
    before = gc.get_threshold()
    try:
        process.configure()
        assert gc.get_threshold() == process.GC_THRESHOLDS
        assert process.GC_THRESHOLDS[0] > 700  # CPython's default, ~20% of a scan's time
    finally:
        gc.set_threshold(*before)
