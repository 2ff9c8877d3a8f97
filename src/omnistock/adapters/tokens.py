"""Access-token caching for OAuth-style platforms (Shopify expiring tokens, Amazon LWA, eBay).

A token is fetched once, shared, and refreshed shortly before it expires or after a 401."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from omnistock.adapters.secrets import Secret
from omnistock.clock import Timer


@dataclass(frozen=True, slots=True)
class AccessToken:
    value: Secret
    expires_at: float  # Timer.monotonic() seconds

    @classmethod
    def lasting(cls, value: Secret, expires_in: float, timer: Timer) -> AccessToken:
        """A token the platform said is valid for `expires_in` seconds from now."""
        return cls(value, timer.monotonic() + expires_in)


@dataclass(frozen=True, slots=True)
class _Held:
    token: AccessToken
    fetched_at: float


class TokenCache:
    """Hands out a cached token; at most one fetch runs at a time.

    A token counts as stale `refresh_margin` seconds before it expires, so a request never
    leaves with a token that dies in flight. Tokens that live less than twice the margin
    are refreshed at half their life instead, so a short-lived token is not fetched anew
    on every call. If a fetch fails, its error reaches the caller that ran it; callers
    queued behind it then try again, one at a time."""

    def __init__(
        self,
        fetch: Callable[[], Awaitable[AccessToken]],
        timer: Timer,
        *,
        refresh_margin: float = 60.0,
    ) -> None:
        self._fetch = fetch
        self._timer = timer
        self._margin = refresh_margin
        self._held: _Held | None = None
        self._fetching = asyncio.Lock()

    async def token(self) -> Secret:
        """A valid token, fetching one only when the cached one is missing or stale."""
        fresh = self._fresh()
        if fresh is not None:
            return fresh
        async with self._fetching:
            # Whoever held the lock before us may just have fetched one.
            fresh = self._fresh()
            if fresh is not None:
                return fresh
            started = self._timer.monotonic()
            token = await self._fetch()
            self._held = _Held(token, started)
            return token.value

    def invalidate(self, rejected: Secret | None = None) -> None:
        """Forget the cached token (after a 401), so the next `token()` fetches anew.

        With `rejected`, forget it only if it is still the cached one: a request that
        failed with an old token must not throw away a newer one another caller fetched."""
        held = self._held
        if held is not None and (rejected is None or held.token.value == rejected):
            self._held = None

    def _fresh(self) -> Secret | None:
        held = self._held
        if held is None:
            return None
        lifetime = held.token.expires_at - held.fetched_at
        margin = min(self._margin, lifetime / 2)
        if self._timer.monotonic() < held.token.expires_at - margin:
            return held.token.value
        return None
