"""A discovery run: every listing of one account read page by page through its adapter's
`discover`, each page saved with the cursor after it in one transaction.

Interrupted (a crash, Ctrl-C, a failure that outlasts the retries), the next run resumes
after the last saved page; `restart` (or a finished run) starts over."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass

from omnistock.adapters.backoff import retry_transient
from omnistock.adapters.base import DiscoveredListing, DiscoversListings, DiscoveryPage
from omnistock.clock import Clock, Timer
from omnistock.domain.ids import AccountId
from omnistock.ledger.discovery import DiscoveredRow
from omnistock.ledger.store import Store

logger = logging.getLogger(__name__)

ATTEMPTS = 6  # tries per page of a transient failure (429, 5xx, timeouts) before stopping


@dataclass(frozen=True, slots=True, kw_only=True)
class DiscoveryProgress:
    account: AccountId
    pages: int  # pages saved in this run, the ones before a resume included
    listings: int  # listings saved so far
    total: int | None  # how many the channel says it has, when it says
    done: bool
    resumed: bool  # the run continued one that had been interrupted


Report = Callable[[DiscoveryProgress], None]


@dataclass(frozen=True, slots=True, kw_only=True)
class DiscoveryRunner:
    store: Store
    clock: Clock
    timer: Timer
    attempts: int = ATTEMPTS
    rng: random.Random | None = None

    async def run(
        self,
        account: AccountId,
        adapter: DiscoversListings,
        *,
        restart: bool = False,
        report: Report | None = None,
    ) -> DiscoveryProgress:
        """Discover every listing of `account`; returns the finished run's figures.

        Raises the adapter's ChannelError when a page still fails after `attempts` tries
        (what was saved stays, and the next run resumes from there)."""
        saved = None if restart else await self.store.discovery.run_of(account)
        resumed = saved is not None and not saved.done
        run = saved if saved is not None and resumed else None
        if run is None:
            run = await self.store.discovery.begin(account, self.clock.now())
        cursor, pages, total = run.cursor, run.pages, run.total
        listings = await self.store.discovery.count(account)
        if resumed:
            logger.info("%s: resuming discovery after %d pages", account, pages)
        while True:
            page = await self._page(adapter, cursor)
            await self.store.discovery.save_page(
                account,
                [_row(x) for x in page.listings],
                after=page.cursor,
                expected=cursor,
                total=page.total,
                now=self.clock.now(),
            )
            pages, listings = pages + 1, listings + len(page.listings)
            total = page.total if page.total is not None else total
            progress = DiscoveryProgress(
                account=account,
                pages=pages,
                listings=listings,
                total=total,
                done=page.cursor is None,
                resumed=resumed,
            )
            if report is not None:
                report(progress)
            if page.cursor is None:
                return progress
            cursor = page.cursor

    async def _page(self, adapter: DiscoversListings, cursor: str | None) -> DiscoveryPage:
        return await retry_transient(
            lambda: adapter.discover(cursor),
            attempts=self.attempts,
            timer=self.timer,
            rng=self.rng or random.Random(),
        )


def _row(listing: DiscoveredListing) -> DiscoveredRow:
    return DiscoveredRow(
        key=listing.key,
        sku=listing.sku,
        external_ids=dict(listing.external_ids),
        managed=listing.managed,
        quantity=listing.quantity,
        title=listing.title,
        location=listing.location,
    )
