"""The periodic baseline on a tiny shop: a full push every period, none while held, and
the one that fell due meanwhile right after."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from omnistock.kit.bench.rig import RigOptions, System, running

# 0.2 s of wall time a period: several periods pass while the test holds it.
OPTIONS = RigOptions(skus=6, system=System.PERIODIC, time_scale=100.0, period_s=20.0)


@pytest.mark.timeout(60)
async def test_no_pass_starts_while_held_and_the_due_one_starts_on_release(
    tmp_path: Path,
) -> None:
    async with running(OPTIONS, tmp_path) as rig:
        periodic = rig.periodic
        assert periodic is not None
        async with asyncio.timeout(10):
            while periodic.passes < 1:  # noqa: ASYNC110 - a counter, nothing signals it
                await asyncio.sleep(0.02)
        with rig.held():
            await asyncio.sleep(0.1)  # a pass under way finishes
            rig.clear_calls()
            passes = periodic.passes
            await asyncio.sleep(1.0)  # five periods
            assert periodic.passes == passes
            assert sum(rig.write_calls().values()) == 0
        async with asyncio.timeout(5):  # the pass that fell due while held (slow CI: 5 s)
            while periodic.passes == passes:  # noqa: ASYNC110 - as above
                await asyncio.sleep(0.01)
        # Shopify's sandbox answers a repeated idempotency key from its record, as Shopify
        # does, so an unchanged listing's write counts there only once.
        assert sum(rig.write_calls().values()) > 0
