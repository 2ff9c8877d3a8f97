"""The process settings every `omnistock` command applies."""

from __future__ import annotations

import asyncio
import gc

import pytest

from omnistock import process


def test_configure_enlarges_the_young_generation() -> None:
    before = gc.get_threshold()
    try:
        process.configure()
        assert gc.get_threshold() == process.GC_THRESHOLDS
        assert process.GC_THRESHOLDS[0] > 700  # CPython's default, ~20% of a scan's time
    finally:
        gc.set_threshold(*before)


def test_run_returns_the_result_on_uvloop() -> None:
    async def main() -> str:
        await asyncio.sleep(0)
        return type(asyncio.get_running_loop()).__module__

    assert process.run(main()).startswith("uvloop")


def test_run_raises_what_the_coroutine_raises() -> None:
    async def main() -> None:
        raise ValueError("named problem")

    with pytest.raises(ValueError, match="named problem"):
        process.run(main())
