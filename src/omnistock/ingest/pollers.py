"""Order pollers: the webhook fallback, one per channel account.

Each poll reads the orders changed since the account's stored cursor into the same inbox
as webhooks (duplicates are harmless), saves the cursor after the inbox has them, and
adapts its interval: faster when it found orders the webhooks had missed, slower when
idle. The share of polled events the webhooks had missed is the account's webhook health."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass

from omnistock.adapters.base import ChannelAdapter, OrderPage
from omnistock.bus.inbox import Inbox
from omnistock.clock import Timer
from omnistock.domain.errors import ChannelError, StorageBusyError
from omnistock.domain.ids import AccountId
from omnistock.ingest.codec import channel_message

logger = logging.getLogger(__name__)

MAX_PAGES = 50  # per poll; the rest waits for the next one, which comes sooner (missed > 0)
SEEN_KEYS = 10_000  # keys a poller remembers, so the overlap it re-reads is counted once


@dataclass(frozen=True, slots=True, kw_only=True)
class PollInterval:
    """Bounds and steps of the adaptive interval, in seconds."""

    min_s: float = 5.0
    max_s: float = 300.0
    start_s: float = 30.0
    faster: float = 0.5  # multiplier after a poll that found missed orders
    slower: float = 1.5  # multiplier after a poll that found nothing


def next_interval(policy: PollInterval, current: float, *, found: int, missed: int) -> float:
    """Pure: faster when the webhooks missed something, slower when idle, the same when
    the poll only confirmed what the webhooks had delivered; always within bounds."""
    if missed:
        wanted = current * policy.faster
    elif not found:
        wanted = current * policy.slower
    else:
        wanted = current
    return min(max(wanted, policy.min_s), policy.max_s)


@dataclass(frozen=True, slots=True, kw_only=True)
class WebhookHealth:
    """Over the last polls: events found by polling, and how many were new to the inbox."""

    found: int
    missed: int

    @property
    def missed_ratio(self) -> float:
        return self.missed / self.found if self.found else 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class PollReport:
    pages: int
    found: int  # channel events read for the first time by this poller
    missed: int  # of which new to the inbox: the webhooks had not delivered them
    interval_s: float  # until the next poll
    error: str | None = None


class OrderPoller:
    """Polls one account's orders into the inbox."""

    def __init__(
        self,
        account: AccountId,
        adapter: ChannelAdapter,
        inbox: Inbox,
        *,
        timer: Timer,
        interval: PollInterval | None = None,
        window: int = 20,
        defer: Callable[[], float] | None = None,
    ) -> None:
        """`defer` says how long to hold a poll (0: go): polls share the account's rate
        budget with pushes, and pushes, which prevent oversells, go first."""
        self._account = account
        self._defer = defer
        self._adapter = adapter
        self._inbox = inbox
        self._timer = timer
        self._policy = interval or PollInterval()
        self._interval = self._policy.start_s
        self._recent: deque[tuple[int, int]] = deque(maxlen=window)
        self._seen: OrderedDict[str, None] = OrderedDict()

    @property
    def interval_s(self) -> float:
        return self._interval

    def health(self) -> WebhookHealth:
        """Missed-webhook counts over the last `window` polls."""
        return WebhookHealth(
            found=sum(found for found, _ in self._recent),
            missed=sum(missed for _, missed in self._recent),
        )

    async def poll_once(self) -> PollReport:
        """Read pages until the channel has no more ready (at most MAX_PAGES). A channel or
        store failure ends the poll early; the cursor then stays where the inbox is."""
        pages = found = missed = 0
        error: str | None = None
        cursor = await self._inbox.cursor(self._account)
        try:
            while pages < MAX_PAGES:
                page = await self._adapter.poll_orders(cursor)
                pages += 1
                found += self._first_sightings(page)
                missed += await self._store(page)
                if page.cursor is not None:
                    cursor = page.cursor
                    await self._inbox.save_cursor(self._account, cursor)
                if not page.more:
                    break
        except (ChannelError, StorageBusyError) as exc:
            error = f"{type(exc).__name__}: {exc}"
            logger.info("polling %s stopped: %s", self._account, error)
        self._recent.append((found, missed))
        self._interval = next_interval(self._policy, self._interval, found=found, missed=missed)
        return PollReport(
            pages=pages, found=found, missed=missed, interval_s=self._interval, error=error
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Poll, then wait the adaptive interval, until `stop` is set (checked between
        polls; cancel the task to stop at once)."""
        while not stop.is_set():
            hold = self._defer() if self._defer is not None else 0.0
            if hold > 0:
                await self._timer.sleep(min(hold, self._interval))
                continue
            await self.poll_once()
            await self._timer.sleep(self._interval)

    def _first_sightings(self, page: OrderPage) -> int:
        """Events this poller had not read before: the overlap each poll re-reads (see
        ChannelAdapter.poll_orders) must not dilute the missed ratio."""
        new = 0
        for event in page.events:
            if event.dedupe_key not in self._seen:
                new += 1
            self._seen[event.dedupe_key] = None
            self._seen.move_to_end(event.dedupe_key)
        while len(self._seen) > SEEN_KEYS:
            self._seen.popitem(last=False)
        return new

    async def _store(self, page: OrderPage) -> int:
        """Put the page's events in the inbox before the cursor moves past them; return
        how many were new (the webhooks had missed them)."""
        if not page.events:
            return 0
        stored = await self._inbox.put([channel_message(e) for e in page.events])
        return sum(stored)
