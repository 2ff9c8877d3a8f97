"""The 250-revisions-per-listing-per-day budget, counted on our side: near the limit only
decreases go out (they protect against overselling); increases wait for the budget."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import StrEnum

DAY = 86_400.0
LIMIT = 250


class Admission(StrEnum):
    SEND = "send"
    HOLD = "hold"  # wait: the listing's budget is (nearly) spent


@dataclass(frozen=True, slots=True)
class Verdict:
    admission: Admission
    retry_after: float | None = None


class RevisionBudget:
    """Revisions sent per listing over the last 24 h (a rolling day never allows more
    than eBay's calendar day does, and needs no time zone).

    Once fewer than `reserve` revisions are left, only decreases are sent; with none left,
    nothing is. `exhausted` records eBay saying so (our count may lag another app's)."""

    def __init__(self, *, limit: int = LIMIT, reserve: int = 25, window: float = DAY) -> None:
        if not 0 <= reserve < limit:
            raise ValueError("need 0 <= reserve < limit")
        self._limit = limit
        self._reserve = reserve
        self._window = window
        self._sent: dict[str, deque[float]] = {}
        self._blocked_until: dict[str, float] = {}

    def used(self, listing: str, now: float) -> int:
        return len(self._forget(listing, now))

    def admit(self, listing: str, *, decrease: bool, now: float) -> Verdict:
        sent = self._forget(listing, now)
        blocked = self._blocked_until.get(listing, 0.0) - now
        if blocked > 0:
            return Verdict(Admission.HOLD, blocked)
        left = self._limit - len(sent)
        if left > self._reserve or (left > 0 and decrease):
            return Verdict(Admission.SEND)
        return Verdict(Admission.HOLD, sent[0] + self._window - now if sent else self._window)

    def spend(self, listing: str, now: float) -> None:
        self._forget(listing, now).append(now)

    def exhausted(self, listing: str, now: float, retry_after: float) -> None:
        self._blocked_until[listing] = now + retry_after

    def _forget(self, listing: str, now: float) -> deque[float]:
        sent = self._sent.setdefault(listing, deque())
        while sent and sent[0] <= now - self._window:
            sent.popleft()
        return sent
