"""The feed path of push: one JSON_LISTINGS_FEED per ≤25,000 listings, followed to its
processing report. Before createFeed succeeds nothing was written, so errors propagate;
after it, the feed is Amazon's to finish, so following retries until a deadline."""

from __future__ import annotations

import gzip
import json
import logging
import random
from collections.abc import Sequence
from typing import Protocol

from omnistock.adapters.amazon import feeds
from omnistock.adapters.amazon.limits import Operation
from omnistock.adapters.amazon.wire import FEED_CONTENT_TYPE, Outcome
from omnistock.adapters.backoff import next_delay
from omnistock.adapters.base import ItemStatus
from omnistock.clock import Timer
from omnistock.domain.errors import ChannelError, TransientError

logger = logging.getLogger(__name__)

# getFeed is cheap (2 rps); a feed takes minutes, so polling every 15 s wastes little.
FOLLOW_EVERY_S = 15.0
# ⚠️ Past this, the feed's fate is unknown; its items are retried (absolute, so safe).
FOLLOW_DEADLINE_S = 3600.0


class Caller(Protocol):
    async def call(
        self,
        operation: Operation,
        method: str,
        path: str,
        *,
        json: object = None,
        params: dict[str, str] | None = None,
    ) -> object: ...

    async def transfer(self, method: str, url: str, content: bytes | None = None) -> bytes:
        """PUT or GET a pre-signed document URL (no SP-API token, no limiter)."""
        ...


class FeedPush:
    """Sends one feed of `messages` and returns each message's outcome by messageId."""

    def __init__(self, caller: Caller, timer: Timer, seller_id: str, marketplace_id: str) -> None:
        self._caller = caller
        self._timer = timer
        self._seller_id = seller_id
        self._marketplace_id = marketplace_id
        self._rng = random.Random()

    async def run(self, messages: Sequence[feeds.Message]) -> dict[int, Outcome]:
        feed_id = await self._submit(messages)
        try:
            report = await self._follow(feed_id)
            if report is None:
                return {m.message_id: feeds.fatal_outcome(feed_id) for m in messages}
            return feeds.report_outcomes(report, messages)
        except (ChannelError, ValueError, OSError) as error:
            # Submitted but its outcome is unknown: resending absolute quantities is safe.
            logger.warning("feed %s not followed to its end: %s", feed_id, error)
            outcome = Outcome(ItemStatus.FAILED_RETRYABLE, f"feed {feed_id}: {error}")
            return {m.message_id: outcome for m in messages}

    async def _submit(self, messages: Sequence[feeds.Message]) -> str:
        created = await self._caller.call(
            Operation.CREATE_FEED_DOCUMENT,
            "POST",
            feeds.FEED_DOCUMENTS,
            json={"contentType": FEED_CONTENT_TYPE},
        )
        document_id, url = feeds.field(created, "feedDocumentId"), feeds.field(created, "url")
        await self._caller.transfer("PUT", url, feeds.document(self._seller_id, messages))
        feed = await self._caller.call(
            Operation.CREATE_FEED,
            "POST",
            feeds.FEEDS,
            json=feeds.create_feed_body(self._marketplace_id, document_id),
        )
        return feeds.field(feed, "feedId")

    async def _follow(self, feed_id: str) -> object | None:
        """The processing report once the feed is DONE; None when FATAL or CANCELLED."""
        started = self._timer.monotonic()
        attempt = 0
        while True:
            await self._timer.sleep(FOLLOW_EVERY_S)
            try:
                feed = await self._caller.call(
                    Operation.GET_FEED, "GET", f"{feeds.FEEDS}/{feed_id}"
                )
                status = feeds.field(feed, "processingStatus")
                if status not in feeds.FINISHED:
                    continue
                if status != feeds.DONE:
                    return None
                return await self._report(feeds.field(feed, "resultFeedDocumentId"))
            except TransientError as error:
                if self._timer.monotonic() - started > FOLLOW_DEADLINE_S:
                    raise
                await self._timer.sleep(next_delay(attempt, error, base=1.0, rng=self._rng))
                attempt += 1

    async def _report(self, document_id: str) -> object:
        doc = await self._caller.call(
            Operation.GET_FEED_DOCUMENT, "GET", f"{feeds.FEED_DOCUMENTS}/{document_id}"
        )
        raw = await self._caller.transfer("GET", feeds.field(doc, "url"))
        compressed = isinstance(doc, dict) and doc.get("compressionAlgorithm") == "GZIP"
        return json.loads(gzip.decompress(raw) if compressed else raw)
