"""Reports API 2021-06-30 with GET_MERCHANT_LISTINGS_ALL_DATA: createReport, getReport
(IN_QUEUE → IN_PROGRESS → DONE, or CANCELLED when there is nothing to report), and
getReportDocument with a pre-signed URL (5 minutes) to the tab-separated report, GZIP'd."""

from __future__ import annotations

import gzip
import hashlib
import itertools
import json
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from omnistock.kit.sandbox.amazon.errors import standard_error
from omnistock.kit.sandbox.amazon.presign import Presigner, access_denied
from omnistock.kit.sandbox.amazon.representation import iso
from omnistock.kit.sandbox.amazon.store import AmazonStore, Listing

PREFIX = "/reports/2021-06-30"
DOWNLOADS = "/report-documents"  # the sandbox's stand-in for the S3 bucket
LISTINGS_REPORT = "GET_MERCHANT_LISTINGS_ALL_DATA"
MAX_MARKETPLACES = 25  # CreateReportSpecification.marketplaceIds maxItems
# The columns of GET_MERCHANT_LISTINGS_ALL_DATA, in Amazon's order (⚠️ from sellers' and
# client libraries' samples: Amazon's report-type page lists the type, not its columns).
COLUMNS = (
    "item-name",
    "item-description",
    "listing-id",
    "seller-sku",
    "price",
    "quantity",
    "open-date",
    "image-url",
    "item-is-marketplace",
    "product-id-type",
    "zshop-shipping-fee",
    "item-note",
    "item-condition",
    "zshop-category1",
    "zshop-browse-path",
    "zshop-storefront-feature",
    "asin1",
    "asin2",
    "asin3",
    "will-ship-internationally",
    "expedited-shipping",
    "zshop-boldface",
    "product-id",
    "bid-for-featured-placement",
    "add-delete",
    "pending-quantity",
    "fulfillment-channel",
    "merchant-shipping-group",
    "status",
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportTiming:
    """⚠️ Amazon publishes no processing time (sellers report minutes for this report);
    `gzip`: whether documents come compressed (`compressionAlgorithm: GZIP`)."""

    queue_s: float = 15.0
    base_s: float = 45.0
    per_row_s: float = 0.002
    gzip: bool = True


@dataclass(slots=True)
class Report:
    id: str
    marketplace_id: str
    created: float
    starts: float
    ends: float
    status: str = "IN_QUEUE"
    document_id: str | None = None


class ReportsApi:
    def __init__(
        self,
        store: AmazonStore,
        marketplace_id: str,
        base_url: str,
        secret: str,
        timing: ReportTiming,
    ) -> None:
        self._store = store
        self._marketplace = marketplace_id
        self._timing = timing
        self._urls = Presigner(store.clock, base_url, DOWNLOADS, secret)
        self.reports: dict[str, Report] = {}
        self.documents: dict[str, bytes] = {}
        self._ids = itertools.count(50_039_018_001)

    async def create_report(self, request: Request) -> Response:
        body = await _json(request)
        problem = self._refusal(body)
        if problem is not None:
            return standard_error(400, problem)
        now = self._store.clock.now()
        rows = len(self._store.listings)
        starts = now + self._timing.queue_s
        ends = starts + self._timing.base_s + self._timing.per_row_s * rows
        report = Report(str(next(self._ids)), self._marketplace, now, starts, ends)
        self.reports[report.id] = report
        self._store.later(ends - now, lambda: self._finish(report))
        return JSONResponse({"reportId": report.id}, status_code=202)

    def _refusal(self, body: object) -> str | None:
        if not isinstance(body, dict) or not isinstance(body.get("reportType"), str):
            return "reportType is required"
        if body["reportType"] != LISTINGS_REPORT:
            return f"reportType must be {LISTINGS_REPORT} in this sandbox"
        markets = body.get("marketplaceIds")
        if not isinstance(markets, list) or not 1 <= len(markets) <= MAX_MARKETPLACES:
            return "marketplaceIds must list 1 to 25 marketplaces"
        if markets != [self._marketplace]:
            return f"the seller sells in {self._marketplace} only"
        return None

    async def get_report(self, request: Request) -> Response:
        report = self.reports.get(request.path_params["report_id"])
        if report is None:
            return standard_error(404, "Report not found")
        view: dict[str, object] = {
            "reportId": report.id,
            "reportType": LISTINGS_REPORT,
            "marketplaceIds": [report.marketplace_id],
            "createdTime": iso(report.created),
            "processingStatus": self._status(report),
        }
        if report.status != "IN_QUEUE":
            view["processingStartTime"] = iso(report.starts)
        if report.status in ("DONE", "CANCELLED"):
            view["processingEndTime"] = iso(report.ends)
        if report.document_id is not None:
            view["reportDocumentId"] = report.document_id
        return JSONResponse(view)

    def _status(self, report: Report) -> str:
        if report.status == "IN_QUEUE" and self._store.clock.now() >= report.starts:
            return "IN_PROGRESS"
        return report.status

    async def get_report_document(self, request: Request) -> Response:
        document_id = request.path_params["document_id"]
        if document_id not in self.documents:
            return standard_error(404, "Report document not found")
        view = {"reportDocumentId": document_id, "url": self._urls.url(document_id)}
        if self._timing.gzip:
            view["compressionAlgorithm"] = "GZIP"
        return JSONResponse(view)

    async def download(self, request: Request) -> Response:
        document_id = self._urls.valid(request)
        content = None if document_id is None else self.documents.get(document_id)
        if content is None:
            return access_denied("Request has expired")
        return Response(content, media_type="application/octet-stream")

    def _finish(self, report: Report) -> None:
        """The listings as they are when processing ends; none: CANCELLED, as Amazon
        cancels a report that has no data to return."""
        listings = list(self._store.listings.values())
        if not listings:
            report.status = "CANCELLED"
            return
        document = listings_document(listings)
        report.document_id = f"amzn1.spdoc.1.4.na.{report.id}"
        self.documents[report.document_id] = (
            gzip.compress(document, mtime=0) if self._timing.gzip else document
        )
        report.status = "DONE"


def listings_document(listings: list[Listing]) -> bytes:
    """GET_MERCHANT_LISTINGS_ALL_DATA: a header line, then one tab-separated row per
    listing (UTF-8 ⚠️: Amazon's encoding varies by marketplace)."""
    lines = ["\t".join(COLUMNS), *("\t".join(_row(listing)) for listing in listings)]
    return ("\n".join(lines) + "\n").encode()


def _row(listing: Listing) -> tuple[str, ...]:
    merchant = listing.fulfillment_channel == "DEFAULT"
    quantity = "" if listing.quantity is None or not merchant else str(listing.quantity)
    listing_id = hashlib.sha1(listing.sku.encode(), usedforsecurity=False).hexdigest()[:10]
    values = {
        "item-name": " ".join(listing.title.split()),
        "listing-id": "0" + listing_id.upper(),
        "seller-sku": listing.sku,
        "quantity": quantity,
        "open-date": iso(listing.created).replace("T", " ").replace("Z", " UTC"),
        "item-is-marketplace": "y",
        "product-id-type": "1",  # 1: ASIN
        "item-condition": "11",  # 11: new
        "asin1": listing.asin,
        "product-id": listing.asin,
        "pending-quantity": "0" if merchant else "",
        "fulfillment-channel": listing.fulfillment_channel,
        "merchant-shipping-group": "Migrated Template" if merchant else "",
        "status": "Active" if (listing.quantity or not merchant) else "Inactive",
    }
    return tuple(values.get(column, "") for column in COLUMNS)


async def _json(request: Request) -> object:
    try:
        return json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        return None
