"""Discovery of every listing by the GET_MERCHANT_LISTINGS_ALL_DATA report: createReport,
getReport until DONE, getReportDocument, the (GZIP) tab-separated document, paged out.

Why a report: searchListingsItems answers 20 listings a call at 5/s and reaches at most
1,000 items without naming their SKUs (⚠️ not in the model), so it cannot list 100,000
(and would need 5,000 calls, ≥ 999 s, if it could); the report is three calls and the
time Amazon takes to build it. The cursor names the report and a row offset, so it
survives a restart: the document is fetched again from the report (its URL expires)."""

from __future__ import annotations

import gzip
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from omnistock.adapters.amazon.bulk import Caller
from omnistock.adapters.amazon.events import ASIN
from omnistock.adapters.amazon.feeds import field
from omnistock.adapters.amazon.limits import Operation
from omnistock.adapters.amazon.wire import DEFAULT_CHANNEL, SKU
from omnistock.adapters.base import DiscoveredListing, DiscoveryPage
from omnistock.clock import Timer
from omnistock.domain.errors import ChannelError, PermanentError, TransientError
from omnistock.domain.ids import AccountId

logger = logging.getLogger(__name__)

REPORTS_VERSION = "2021-06-30"
REPORTS = f"/reports/{REPORTS_VERSION}/reports"
REPORT_DOCUMENTS = f"/reports/{REPORTS_VERSION}/documents"
LISTINGS_REPORT = "GET_MERCHANT_LISTINGS_ALL_DATA"
PAGE_SIZE = 1_000  # rows per DiscoveryPage: the document is read whole; pages cost no call
POLL_EVERY_S = 15.0  # getReport is 2/s, burst 15; a report takes minutes
# ⚠️ Past this within one call, the report is reported still processing (TransientError):
# the caller calls again with the same cursor, which keeps the report.
POLL_DEADLINE_S = 1_800.0
CURSOR_PREFIX = "amazon-report/1"
SEARCH_PREFIX = "amazon-search/1"
# ⚠️ Without identifiers, searchListingsItems pages reach at most this many listings: a
# larger account is read from the report. A smaller one is read by search at once (20 a
# call at 5/s), where the report would take Amazon minutes to build.
SEARCH_REACHABLE = 1_000
SEARCH_PAGE = 20  # searchListingsItems' largest pageSize
_FINISHED = frozenset({"DONE", "CANCELLED", "FATAL"})
_COLUMNS = ("seller-sku", "item-name", "quantity", "asin1", "fulfillment-channel")


@dataclass(frozen=True, slots=True)
class ReportCursor:
    """Where discovery stands: the report being read and the rows already handed out."""

    report_id: str
    offset: int = 0

    def encode(self) -> str:
        return f"{CURSOR_PREFIX}:{self.report_id}:{self.offset}"

    @classmethod
    def decode(cls, cursor: str) -> ReportCursor:
        head, sep, offset = cursor.rpartition(":")
        version, _, report_id = head.rpartition(":")
        if not sep or version != CURSOR_PREFIX or not report_id or not offset.isdigit():
            raise ValueError(f"not an Amazon discovery cursor: {cursor!r}")
        return cls(report_id, int(offset))


def create_report_body(marketplace_id: str) -> dict[str, object]:
    return {"reportType": LISTINGS_REPORT, "marketplaceIds": [marketplace_id]}


def report_text(raw: bytes, *, compressed: bool) -> str:
    """The document as text: UTF-8, or else Windows-1252 (⚠️ Amazon's encoding follows the
    marketplace; European reports have been seen in Windows-1252)."""
    data = gzip.decompress(raw) if compressed else raw
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def parse_listings_report(text: str) -> list[DiscoveredListing]:
    """One DiscoveredListing per row with a seller SKU (the first row of a SKU named twice).
    Merchant-fulfilled (fulfillment-channel DEFAULT) rows are managed, with their quantity;
    FBA rows (AMAZON_NA, AMAZON_EU, ...) are not: Amazon counts that stock. Raises
    ValueError for a document without the report's columns."""
    lines = text.splitlines()
    header = lines[0].split("\t") if lines else []
    missing = [c for c in _COLUMNS if c not in header]
    if missing:
        raise ValueError(f"not a {LISTINGS_REPORT} document (no {', '.join(missing)})")
    at = {name: header.index(name) for name in _COLUMNS}
    found: dict[str, DiscoveredListing] = {}
    for line in lines[1:]:
        cells = line.split("\t")
        cell = {name: cells[i].strip() if i < len(cells) else "" for name, i in at.items()}
        sku = cell["seller-sku"]
        if sku and sku not in found:
            found[sku] = _listing(cell)
    return list(found.values())


def _listing(cell: dict[str, str]) -> DiscoveredListing:
    sku, asin, quantity = cell["seller-sku"], cell["asin1"], cell["quantity"]
    managed = cell["fulfillment-channel"] == DEFAULT_CHANNEL
    return DiscoveredListing(
        key=sku,
        sku=sku,
        external_ids={SKU: sku, ASIN: asin} if asin else {SKU: sku},
        managed=managed,
        quantity=int(quantity) if managed and quantity.isdigit() else None,
        title=cell["item-name"],
    )


def searched_listings(payload: object) -> tuple[tuple[DiscoveredListing, ...], int, str | None]:
    """An ItemSearchResults page as discovered listings, with numberOfResults and the next
    page's token (None: the last). A listing is managed unless Amazon fulfils it (an
    offer on another channel than DEFAULT); ValueError for an answer the model forbids."""
    if not isinstance(payload, dict) or not isinstance(payload.get("items"), list):
        raise ValueError("no items")
    total = payload.get("numberOfResults")
    if not isinstance(total, int):
        raise ValueError("no numberOfResults")
    found = []
    for item in payload["items"]:
        sku = item.get("sku") if isinstance(item, dict) else None
        if not isinstance(sku, str) or not sku:
            raise ValueError("an item without a sku")
        summaries = [s for s in item.get("summaries") or [] if isinstance(s, dict)]
        asin = next((str(s["asin"]) for s in summaries if s.get("asin")), "")
        title = next((str(s["itemName"]) for s in summaries if s.get("itemName")), "")
        offers = [o for o in item.get("fulfillmentAvailability") or [] if isinstance(o, dict)]
        codes = {o.get("fulfillmentChannelCode") for o in offers}
        merchant = next(
            (o for o in offers if o.get("fulfillmentChannelCode") == DEFAULT_CHANNEL), {}
        )
        quantity = merchant.get("quantity")
        found.append(
            DiscoveredListing(
                key=sku,
                sku=sku,
                external_ids={SKU: sku, ASIN: asin} if asin else {SKU: sku},
                # As the report's fulfillment-channel: Amazon's stock (FBA) is not
                # omnistock's to write; a listing without an offer yet is the merchant's.
                managed=codes <= {DEFAULT_CHANNEL},
                quantity=quantity if isinstance(quantity, int) else None,
                title=title,
            )
        )
    pagination = payload.get("pagination")
    following = pagination.get("nextToken") if isinstance(pagination, dict) else None
    return tuple(found), total, following if isinstance(following, str) and following else None


class ReportDiscovery:
    """The pages of one account's listings report; the parsed rows of the report being
    read are kept until its last page (a restarted process fetches the document again;
    reading another report drops them)."""

    def __init__(
        self,
        caller: Caller,
        timer: Timer,
        marketplace_id: str,
        account: AccountId,
        listings_path: str,
    ) -> None:
        self._caller = caller
        self._timer = timer
        self._marketplace_id = marketplace_id
        self._account = account
        self._listings_path = listings_path
        self._rows: dict[str, Sequence[DiscoveredListing]] = {}

    async def page(self, cursor: str | None) -> DiscoveryPage:
        """None: the first search page; an account it says is small is read on by search,
        a larger one from the report, requested now and answered by an empty page whose
        cursor names it (a restart while Amazon builds it keeps it). Otherwise the next
        search page, or the PAGE_SIZE rows after the cursor's offset once the report is
        done."""
        if cursor is None:
            first = await self._search(None)
            if first.total is not None and first.total <= SEARCH_REACHABLE:
                return first
            return DiscoveryPage(listings=(), cursor=(await self._create()).encode())
        if cursor.startswith(f"{SEARCH_PREFIX}:"):
            return await self._search(cursor.removeprefix(f"{SEARCH_PREFIX}:"))
        try:
            at = ReportCursor.decode(cursor)
        except ValueError as exc:
            raise PermanentError(str(exc), account=self._account) from None
        rows = await self._report_rows(at.report_id)
        end = at.offset + PAGE_SIZE
        more = end < len(rows)
        if not more:
            self._rows.pop(at.report_id, None)
        return DiscoveryPage(
            listings=tuple(rows[at.offset : end]),
            cursor=ReportCursor(at.report_id, end).encode() if more else None,
            total=len(rows),
        )

    async def _search(self, token: str | None) -> DiscoveryPage:
        params = {
            "marketplaceIds": self._marketplace_id,
            "includedData": "summaries,fulfillmentAvailability",
            "pageSize": str(SEARCH_PAGE),
        }
        if token:
            params["pageToken"] = token
        answer = await self._caller.call(
            Operation.SEARCH_LISTINGS_ITEMS, "GET", self._listings_path, params=params
        )
        try:
            listings, total, following = searched_listings(answer)
        except ValueError as exc:
            raise PermanentError(f"unexpected answer: {exc}", account=self._account) from None
        cursor = None if following is None else f"{SEARCH_PREFIX}:{following}"
        return DiscoveryPage(listings=listings, cursor=cursor, total=total)

    async def _create(self) -> ReportCursor:
        answer = await self._caller.call(
            Operation.CREATE_REPORT,
            "POST",
            REPORTS,
            json=create_report_body(self._marketplace_id),
        )
        return ReportCursor(self._field(answer, "reportId"))

    async def _report_rows(self, report_id: str) -> Sequence[DiscoveredListing]:
        rows = self._rows.get(report_id)
        if rows is None:
            rows = await self._read(report_id)
            self._rows = {report_id: rows}  # one account reads one report at a time
        return rows

    async def _read(self, report_id: str) -> Sequence[DiscoveredListing]:
        report = await self._finished(report_id)
        status = self._field(report, "processingStatus")
        if status == "CANCELLED":
            return ()  # Amazon cancels a report with no data: the account has no listings
        if status != "DONE":
            raise PermanentError(f"report {report_id} ended {status}", account=self._account)
        raw, compressed = await self._document(self._field(report, "reportDocumentId"))
        try:
            return parse_listings_report(report_text(raw, compressed=compressed))
        except (ValueError, OSError, EOFError) as exc:
            raise PermanentError(f"report {report_id}: {exc}", account=self._account) from None

    async def _finished(self, report_id: str) -> object:
        """getReport until it has finished; TransientError past POLL_DEADLINE_S."""
        started = self._timer.monotonic()
        while True:
            report = await self._caller.call(Operation.GET_REPORT, "GET", f"{REPORTS}/{report_id}")
            if self._field(report, "processingStatus") in _FINISHED:
                return report
            if self._timer.monotonic() - started >= POLL_DEADLINE_S:
                raise TransientError(
                    f"report {report_id} still processing",
                    account=self._account,
                    retry_after=POLL_EVERY_S,
                )
            await self._timer.sleep(POLL_EVERY_S)

    async def _document(self, document_id: str) -> tuple[bytes, bool]:
        """The document's bytes and whether they are GZIP'd. A URL refused with 403 has
        expired (5 minutes): a fresh one is asked for once."""
        for attempt in (1, 2):
            doc = await self._caller.call(
                Operation.GET_REPORT_DOCUMENT, "GET", f"{REPORT_DOCUMENTS}/{document_id}"
            )
            compressed = isinstance(doc, dict) and doc.get("compressionAlgorithm") == "GZIP"
            try:
                return await self._caller.transfer("GET", self._field(doc, "url")), compressed
            except ChannelError as error:
                if error.status != 403:
                    raise
                logger.info("report document %s: URL refused (attempt %d)", document_id, attempt)
        # S3's 403 is about the URL, not the account's credentials: not an AuthFailedError.
        raise PermanentError(
            f"report document {document_id}: URL refused twice", account=self._account, status=403
        )

    def _field(self, payload: object, name: str) -> str:
        try:
            return field(payload, name)
        except ValueError as exc:
            raise PermanentError(f"unexpected answer: {exc}", account=self._account) from None
