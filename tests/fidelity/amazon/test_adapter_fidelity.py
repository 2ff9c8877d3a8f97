"""Everything the Amazon adapter sends and the sandbox answers while the whole adapter
contract and Amazon's own behaviour tests run, checked against the official models: each
test's exchanges are recorded and validated when it ends. Plus one walk through every
path, to show what was covered."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from omnistock.adapters.base import ItemStatus, StockUpdate
from omnistock.domain.errors import RateLimitedError
from omnistock.kit.sandbox.amazon import AmazonSandbox
from tests.contract.adapter_suite import Pair, updates_for
from tests.contract.test_adapter_amazon import (
    CONTRACT_FEED_FROM,
    AmazonContract,
    AmazonPair,
    ConfirmedWrites,
    listing_ref,
)
from tests.fidelity.amazon import models
from tests.fidelity.amazon.recording import RecordingTransport
from tests.integration.adapters.discovering import discover_all
from tests.integration.adapters.test_amazon import AmazonPeculiarities
from tests.integration.adapters.test_amazon_discovery import AmazonDiscovery, seeded


class RecordedAgainstTheModels(AmazonPair):
    """Records the pair's exchanges (around whatever the next class wraps them in);
    `recorded` validates each test's exchanges at teardown."""

    recorder: RecordingTransport

    def wrap(self, transport: httpx.AsyncBaseTransport | None) -> httpx.AsyncBaseTransport:
        inner = super().wrap(transport)
        assert inner is not None  # in-process: the suite's ASGI transport
        self.recorder = RecordingTransport(inner)
        return self.recorder

    @pytest.fixture(autouse=True)
    def recorded(self, pair: Pair) -> Iterator[None]:
        yield
        found = [p for e in self.recorder.exchanges for p in models.problems(e)]
        assert found == [], "\n".join(found[:20])


class TestAmazonAgainstTheModels(RecordedAgainstTheModels, AmazonPeculiarities, AmazonContract):
    """The contract, recorded."""

    async def test_every_operation_is_covered(self, pair: Pair) -> None:
        """Patches (accepted, invalid), a feed and its report, reads by search and by get
        (found, unknown), orders by searchOrders and by v0, a throttled call and an
        expired token."""
        adapter, harness = pair
        assert isinstance(adapter, ConfirmedWrites)
        assert isinstance(harness, AmazonSandbox)
        refs = await harness.seed(CONTRACT_FEED_FROM)
        await adapter.push(updates_for(refs))  # one feed
        await adapter.push(updates_for(refs[:2]))  # two patches
        invalid = [StockUpdate(ref=refs[0], quantity=-1, sequence=1)]
        invalid.append(StockUpdate(ref=harness.unknown_listing(), quantity=1, sequence=2))
        assert {r.status for r in await adapter.inner.push(invalid)} == {
            ItemStatus.FAILED_PERMANENT
        }
        await adapter.read([refs[0], harness.unknown_listing()])  # one search
        harness.store.add_listing("CT,COMMA", 3)  # a comma: getListingsItem
        await adapter.read([listing_ref("CT,COMMA"), listing_ref("CT,UNKNOWN")])
        await harness.place_orders(refs, 3, per_second=3)
        await adapter.poll_orders(None)
        harness.orders_2026.enabled = False
        await adapter.poll_orders(None)
        tokens = harness.tokens.expiry
        for token in tokens:  # Amazon ends the token before the adapter expected
            tokens[token] = harness.clock.now() - 1
        await adapter.read([refs[0]])  # 403 "expired", renewed, sent again
        harness.fail_next(429)
        with pytest.raises(RateLimitedError):
            await adapter.read([refs[0]])
        covered = models.operation_ids(self.recorder.exchanges)
        assert covered >= {
            "patchListingsItem:200",
            "searchListingsItems:200",
            "searchListingsItems:403",
            "searchListingsItems:429",
            "getListingsItem:200",
            "getListingsItem:404",
            "createFeedDocument:201",
            "createFeed:202",
            "getFeed:200",
            "getFeedDocument:200",
            "document.PUT:200",
            "document.GET:200",
            "searchOrders:200",
            "searchOrders:403",
            "getOrders:200",
            "getOrderItems:200",
        }


class TestAmazonDiscoveryAgainstTheModels(RecordedAgainstTheModels, AmazonDiscovery):
    """Discovery's tests, recorded: reports, report documents and their downloads (an
    expired URL's 403 included) checked against the Reports API model."""

    async def test_every_report_operation_is_covered(self, pair: Pair) -> None:
        adapter, harness = pair
        assert isinstance(adapter, ConfirmedWrites)
        assert isinstance(harness, AmazonSandbox)
        assert await discover_all(adapter.inner) == ([], 1)  # the search said: none
        seeded(harness, merchant=1_020, fba=2)  # past what search reaches: the report
        self.late.arm(harness.manual_clock, 301)
        await discover_all(adapter.inner)
        covered = models.operation_ids(self.recorder.exchanges)
        assert covered >= {
            "createReport:202",
            "getReport:200",
            "getReportDocument:200",
            "reportDocument.GET:200",
            "reportDocument.GET:403",
        }
