"""The waiting helpers shared by the dispatchers and the baselines."""

from __future__ import annotations

import asyncio
import inspect

from omnistock.clock import Hold, first_of


async def test_a_hold_is_released_only_when_its_last_block_closes() -> None:
    hold, stop = Hold(), asyncio.Event()
    with hold.hold():
        with hold.hold():
            assert hold.held
        waiter = asyncio.ensure_future(hold.released(stop))
        await asyncio.sleep(0.01)
        assert hold.held
        assert not waiter.done()
    await asyncio.wait_for(waiter, 1)
    assert not hold.held


async def test_a_held_wait_ends_when_stop_is_set() -> None:
    hold, stop = Hold(), asyncio.Event()
    with hold.hold():
        waiter = asyncio.ensure_future(hold.released(stop))
        await asyncio.sleep(0.01)
        stop.set()
        await asyncio.wait_for(waiter, 1)
        assert hold.held


async def test_first_of_cancels_the_waits_that_did_not_finish() -> None:
    never = asyncio.Event()
    loser = never.wait()
    started = asyncio.get_running_loop().time()
    await asyncio.wait_for(first_of(asyncio.sleep(0.01), loser), 1)
    assert asyncio.get_running_loop().time() - started < 0.5
    assert inspect.getcoroutinestate(loser) == inspect.CORO_CLOSED  # cancelled, not pending
