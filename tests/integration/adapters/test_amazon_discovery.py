"""Amazon discovery against the sandbox: every listing of the marketplace from one
GET_MERCHANT_LISTINGS_ALL_DATA report, FBA listings unmanaged, an empty account, a cursor
that resumes in another process, throttling and failures mid-run, a report still being
built and a document URL that expired.

The fidelity suite runs the pair-based tests too, recorded (tests/fidelity/amazon)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from omnistock.adapters.amazon import AmazonAdapter
from omnistock.adapters.amazon.discovery import PAGE_SIZE, POLL_DEADLINE_S
from omnistock.adapters.base import DiscoveredListing
from omnistock.adapters.http import account_client
from omnistock.domain.errors import PermanentError, RateLimitedError, TransientError
from omnistock.kit.sandbox.amazon import AmazonConfig, AmazonSandbox
from omnistock.kit.sandbox.amazon.notifications import SIGNATURE_HEADER
from omnistock.kit.sandbox.amazon.presign import URL_TTL_S
from omnistock.kit.sandbox.amazon.reports_api import DOWNLOADS, ReportTiming
from omnistock.kit.sandbox.common.clock import ManualClock
from omnistock.kit.sandbox.common.face_controls import build_on_manual_clock
from tests.contract.adapter_suite import Pair
from tests.contract.test_adapter_amazon import AmazonPair, ConfirmedWrites, amazon_adapter
from tests.integration.adapters.discovering import discover_all


@dataclass
class LateDownloads(httpx.AsyncBaseTransport):
    """Passes requests on; once armed, the next `times` report downloads reach the
    platform `delay_s` later (a client too slow for the 5-minute URL)."""

    inner: httpx.AsyncBaseTransport
    clock: ManualClock | None = None
    delay_s: float = 0.0
    times: int = 0

    def arm(self, clock: ManualClock, delay_s: float, times: int = 1) -> None:
        self.clock, self.delay_s, self.times = clock, delay_s, times

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.times > 0 and self.clock and request.url.path.startswith(DOWNLOADS):
            self.times -= 1
            self.clock.advance(self.delay_s)
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


def inner(adapter: object) -> AmazonAdapter:
    assert isinstance(adapter, ConfirmedWrites)
    return adapter.inner


def seeded(harness: AmazonSandbox, merchant: int, fba: int) -> dict[str, int | None]:
    """`merchant` MFN listings with distinct quantities (every 10th without an offer's
    quantity) and `fba` FBA ones; the quantity each should be discovered with."""
    store = harness.store
    for n in range(merchant):
        store.add_listing(f"MFN-{n:05d}", None if n % 10 == 9 else n, title=f"Mug\tno. {n}")
    for n in range(fba):
        store.add_listing(f"AFN-{n:05d}", None, fulfillment_channel="AMAZON_NA")
    return {sku: listing.quantity for sku, listing in store.listings.items()}


class AmazonDiscovery(AmazonPair):
    late: LateDownloads

    def wrap(self, transport: httpx.AsyncBaseTransport | None) -> httpx.AsyncBaseTransport:
        assert transport is not None  # in-process: the suite's ASGI transport
        self.late = LateDownloads(transport)
        return self.late

    async def test_every_listing_comes_from_one_report(self, pair: Pair) -> None:
        adapter, harness = pair
        assert isinstance(harness, AmazonSandbox)
        expected = seeded(harness, merchant=2_450, fba=60)
        harness.reset_calls()
        found, pages = await discover_all(inner(adapter))
        assert [d.key for d in found] == list(expected)  # each once, in the report's order
        assert pages == 1 + -(-len(expected) // PAGE_SIZE)  # the request, then the rows
        by_key = {d.key: d for d in found}
        assert {k for k, d in by_key.items() if not d.managed} == {
            k for k in expected if k.startswith("AFN-")
        }
        assert {k: d.quantity for k, d in by_key.items()} == expected
        first = by_key["MFN-00001"]
        asin = harness.store.listings["MFN-00001"].asin
        assert (first.sku, dict(first.external_ids)) == (
            "MFN-00001",
            {"sku": "MFN-00001", "asin": asin},
        )
        assert first.title == "Mug no. 1"  # a tab in a title cannot split its row
        calls = harness.core.calls
        assert [calls.count(op) for op in ("createReport", "getReportDocument")] == [1, 1]
        assert calls.count("reportDocument.download") == 1

    async def test_an_empty_account_discovers_nothing(self, pair: Pair) -> None:
        adapter, harness = pair
        assert isinstance(harness, AmazonSandbox)
        first = await inner(adapter).discover(None)
        assert (first.listings, first.cursor, first.total) == ((), None, 0)
        assert harness.core.calls.count("createReport") == 0  # the search said: none

    async def test_a_small_account_is_read_by_search_without_a_report(self, pair: Pair) -> None:
        adapter, harness = pair
        assert isinstance(harness, AmazonSandbox)
        expected = seeded(harness, merchant=30, fba=3)
        harness.reset_calls()
        found, pages = await discover_all(inner(adapter))
        assert sorted(d.key for d in found) == sorted(expected)  # each once
        assert pages == 2  # 20 a call
        by_key = {d.key: d for d in found}
        assert {k for k, d in by_key.items() if not d.managed} == {
            k for k in expected if k.startswith("AFN-")
        }
        assert {k: d.quantity for k, d in by_key.items()} == expected
        first = by_key["MFN-00001"]
        assert dict(first.external_ids) == {
            "sku": "MFN-00001",
            "asin": harness.store.listings["MFN-00001"].asin,
        }
        assert first.title == "Mug\tno. 1"
        calls = harness.core.calls
        assert (calls.count("searchListingsItems"), calls.count("createReport")) == (2, 0)

    async def test_a_saved_cursor_resumes_in_a_new_process(self, pair: Pair) -> None:
        adapter, harness = pair
        assert isinstance(harness, AmazonSandbox)
        expected = seeded(harness, merchant=3_500, fba=10)
        cursor = (await inner(adapter).discover(None)).cursor
        before: list[DiscoveredListing] = []
        for _ in range(2):
            page = await inner(adapter).discover(cursor)
            before.extend(page.listings)
            cursor = page.cursor
        assert len(before) == 2 * PAGE_SIZE
        await harness.timer.sleep(2 * URL_TTL_S)  # the process is down; the URL expires
        transport = httpx.ASGITransport(app=harness.app)
        restarted = amazon_adapter(
            harness, account_client(harness.base_url, transport=transport), harness.base_url
        )
        after, _ = await discover_all(restarted, cursor)
        assert [d.key for d in before + after] == list(expected)  # nothing twice or lost
        calls = harness.core.calls
        assert (calls.count("createReport"), calls.count("getReportDocument")) == (1, 2)
        await restarted.aclose()

    @pytest.mark.parametrize(
        ("status", "raised"),
        [(429, RateLimitedError), (500, TransientError), (503, TransientError)],
    )
    async def test_a_failure_mid_run_is_retried_from_the_same_cursor(
        self, pair: Pair, status: int, raised: type[TransientError]
    ) -> None:
        adapter, harness = pair
        assert isinstance(harness, AmazonSandbox)
        expected = seeded(harness, merchant=1_500, fba=5)
        discovering = inner(adapter)
        cursor = (await discovering.discover(None)).cursor
        harness.fail_next(status)  # the getReport that follows
        with pytest.raises(raised):
            await discovering.discover(cursor)
        found, _ = await discover_all(discovering, cursor)
        assert [d.key for d in found] == list(expected)
        assert harness.core.calls.count("createReport") == 1

    async def test_an_expired_document_url_is_asked_for_again(self, pair: Pair) -> None:
        adapter, harness = pair
        assert isinstance(harness, AmazonSandbox)
        expected = seeded(harness, merchant=1_200, fba=3)
        self.late.arm(harness.manual_clock, URL_TTL_S + 1)
        found, _ = await discover_all(inner(adapter))
        assert [d.key for d in found] == list(expected)
        calls = harness.core.calls
        assert calls.count("getReportDocument") == 2
        assert [c.status for c in calls.records() if c.operation == "reportDocument.download"] == [
            403,
            200,
        ]

    async def test_a_url_refused_twice_fails_without_blaming_credentials(self, pair: Pair) -> None:
        adapter, harness = pair
        assert isinstance(harness, AmazonSandbox)
        seeded(harness, merchant=1_010, fba=0)
        self.late.arm(harness.manual_clock, URL_TTL_S + 1, times=2)
        cursor = (await inner(adapter).discover(None)).cursor
        with pytest.raises(PermanentError) as caught:
            await inner(adapter).discover(cursor)
        assert type(caught.value) is PermanentError  # not AuthFailedError: no circuit opens
        assert harness.core.calls.count("getReportDocument") == 2

    async def test_a_fatal_report_fails_and_a_new_discovery_starts_over(self, pair: Pair) -> None:
        adapter, harness = pair
        assert isinstance(harness, AmazonSandbox)
        expected = seeded(harness, merchant=1_050, fba=1)
        cursor = (await inner(adapter).discover(None)).cursor
        (report,) = harness.reports.reports.values()
        report.status = "FATAL"  # Amazon could not build it
        with pytest.raises(PermanentError, match="FATAL"):
            await inner(adapter).discover(cursor)
        found, _ = await discover_all(inner(adapter))  # from None: a new report
        assert [d.key for d in found] == list(expected)
        assert harness.core.calls.count("createReport") == 2


class TestAmazonDiscoveryInProcess(AmazonDiscovery):
    transport = "asgi"


# Sandboxes of their own (report timing, compression, marketplace) --------------------------


@pytest.fixture
async def slow_reports() -> AsyncIterator[tuple[AmazonAdapter, AmazonSandbox]]:
    """Reports that take longer than one discover call waits, served uncompressed."""
    timing = ReportTiming(queue_s=60.0, base_s=POLL_DEADLINE_S + 600.0, gzip=False)
    config = AmazonConfig(seed=2, skus=0, report_timing=timing)
    harness = build_on_manual_clock(
        AmazonSandbox, config, signature_header=SIGNATURE_HEADER, hang_s=1.0
    )
    transport = httpx.ASGITransport(app=harness.app)
    adapter = amazon_adapter(
        harness, account_client(harness.base_url, transport=transport), harness.base_url
    )
    yield adapter, harness
    await adapter.aclose()


async def test_a_report_still_processing_keeps_its_cursor(
    slow_reports: tuple[AmazonAdapter, AmazonSandbox],
) -> None:
    adapter, harness = slow_reports
    expected = seeded(harness, merchant=1_200, fba=2)
    cursor = (await adapter.discover(None)).cursor
    with pytest.raises(TransientError, match="still processing") as caught:
        await adapter.discover(cursor)
    assert caught.value.retry_after is not None
    polls = harness.core.calls.count("getReport")
    assert polls >= POLL_DEADLINE_S // 15  # every 15 s, within getReport's 2/s
    assert all(c.status == 200 for c in harness.core.calls.records() if c.operation == "getReport")
    found, _ = await discover_all(adapter, cursor)  # the caller tries again later
    assert [d.key for d in found] == list(expected)
    assert harness.core.calls.count("createReport") == 1


async def test_a_report_names_the_accounts_marketplace() -> None:
    """A US adapter on a seller that sells in Germany is refused (400), not served another
    marketplace's listings."""
    config = AmazonConfig(seed=3, skus=0, marketplace_id="A1PA6795UKMFR9")
    harness = build_on_manual_clock(
        AmazonSandbox, config, signature_header=SIGNATURE_HEADER, hang_s=1.0
    )
    creds = dict(harness.credentials(), marketplace_id="ATVPDKIKX0DER")
    harness.credentials = lambda: creds  # type: ignore[method-assign]
    transport = httpx.ASGITransport(app=harness.app)
    adapter = amazon_adapter(
        harness, account_client(harness.base_url, transport=transport), harness.base_url
    )
    with pytest.raises(PermanentError, match="HTTP 400"):
        await adapter.discover(None)
    await adapter.aclose()
