"""TokenCache: cached until shortly before expiry, one fetch for many concurrent callers,
fetched anew after invalidate(). Time is a ManualTimer; fetches are counted."""

from __future__ import annotations

import asyncio

import pytest

from omnistock.adapters.secrets import Secret
from omnistock.adapters.tokens import AccessToken, TokenCache
from omnistock.clock import ManualTimer
from omnistock.domain.errors import AuthFailedError


class FakeTokenEndpoint:
    """Issues tok-1, tok-2, ... each valid `lifetime` seconds; can hold or fail a fetch."""

    def __init__(self, timer: ManualTimer, lifetime: float = 3600.0) -> None:
        self.timer = timer
        self.lifetime = lifetime
        self.fetches = 0
        self.gate: asyncio.Event | None = None
        self.failures: list[Exception] = []

    async def __call__(self) -> AccessToken:
        self.fetches += 1
        if self.gate is not None:
            await self.gate.wait()
        if self.failures:
            raise self.failures.pop(0)
        return AccessToken.lasting(Secret(f"tok-{self.fetches}"), self.lifetime, self.timer)


@pytest.fixture
def timer() -> ManualTimer:
    return ManualTimer(start=1_000.0)


@pytest.fixture
def endpoint(timer: ManualTimer) -> FakeTokenEndpoint:
    return FakeTokenEndpoint(timer)


async def test_first_call_fetches_and_later_calls_reuse(
    timer: ManualTimer, endpoint: FakeTokenEndpoint
) -> None:
    cache = TokenCache(endpoint, timer, refresh_margin=60.0)
    assert await cache.token() == Secret("tok-1")
    timer.advance(3_000)
    assert await cache.token() == Secret("tok-1")
    assert endpoint.fetches == 1


async def test_refreshes_exactly_at_the_margin_before_expiry(
    timer: ManualTimer, endpoint: FakeTokenEndpoint
) -> None:
    cache = TokenCache(endpoint, timer, refresh_margin=60.0)
    await cache.token()  # expires at 4_600
    timer.advance(3_539.5)  # just before 4_540 = expiry - margin
    assert await cache.token() == Secret("tok-1")
    timer.advance(0.5)
    assert await cache.token() == Secret("tok-2")
    assert endpoint.fetches == 2


async def test_short_lived_tokens_refresh_at_half_life_not_on_every_call(
    timer: ManualTimer,
) -> None:
    endpoint = FakeTokenEndpoint(timer, lifetime=30.0)
    cache = TokenCache(endpoint, timer, refresh_margin=60.0)
    await cache.token()
    timer.advance(14.5)
    assert await cache.token() == Secret("tok-1")
    timer.advance(0.5)
    assert await cache.token() == Secret("tok-2")


async def test_concurrent_callers_share_one_fetch(
    timer: ManualTimer, endpoint: FakeTokenEndpoint
) -> None:
    cache = TokenCache(endpoint, timer)
    endpoint.gate = asyncio.Event()
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(cache.token()) for _ in range(20)]
        await asyncio.sleep(0)  # every caller is now waiting on the one fetch
        assert endpoint.fetches == 1
        endpoint.gate.set()
    assert {task.result() for task in tasks} == {Secret("tok-1")}
    assert endpoint.fetches == 1


async def test_invalidate_makes_the_next_call_fetch(
    timer: ManualTimer, endpoint: FakeTokenEndpoint
) -> None:
    cache = TokenCache(endpoint, timer)
    await cache.token()
    cache.invalidate()
    assert await cache.token() == Secret("tok-2")
    assert endpoint.fetches == 2


async def test_invalidating_a_stale_rejection_keeps_the_newer_token(
    timer: ManualTimer, endpoint: FakeTokenEndpoint
) -> None:
    cache = TokenCache(endpoint, timer)
    old = await cache.token()
    cache.invalidate(old)
    new = await cache.token()
    cache.invalidate(old)  # a second request that also failed with the old token
    assert await cache.token() == new == Secret("tok-2")
    cache.invalidate(new)
    assert await cache.token() == Secret("tok-3")


async def test_a_failed_fetch_reaches_the_caller_and_the_next_call_retries(
    timer: ManualTimer, endpoint: FakeTokenEndpoint
) -> None:
    cache = TokenCache(endpoint, timer)
    endpoint.failures.append(AuthFailedError("refresh token revoked", account="a"))
    with pytest.raises(AuthFailedError):
        await cache.token()
    assert await cache.token() == Secret("tok-2")


async def test_a_cancelled_fetch_lets_the_next_caller_fetch(
    timer: ManualTimer, endpoint: FakeTokenEndpoint
) -> None:
    cache = TokenCache(endpoint, timer)
    endpoint.gate = asyncio.Event()
    first = asyncio.create_task(cache.token())
    await asyncio.sleep(0)
    first.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    endpoint.gate.set()
    assert await cache.token() == Secret("tok-2")


def test_access_token_repr_hides_the_value(timer: ManualTimer) -> None:
    token = AccessToken.lasting(Secret("shpat_abc"), 60.0, timer)
    assert token.expires_at == 1_060.0
    assert "shpat_abc" not in repr(token)
