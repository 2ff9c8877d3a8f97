"""Feeds API 2021-06-30 with JSON_LISTINGS_FEED: documents with expiring upload URLs, feeds
processed one after another (IN_QUEUE → IN_PROGRESS → DONE|FATAL), 5 feeds per 5 minutes,
≤25,000 messages, and a v2 processing report with per-message issues."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from omnistock.kit.sandbox.amazon.errors import error_list, standard_error
from omnistock.kit.sandbox.amazon.listings_api import INTERNAL, INVALID_VALUE
from omnistock.kit.sandbox.amazon.presign import Presigner, access_denied
from omnistock.kit.sandbox.amazon.representation import iso
from omnistock.kit.sandbox.amazon.store import MAX_QUANTITY, AmazonStore
from omnistock.kit.sandbox.common.core import ITEMS_STATE_KEY

PREFIX = "/feeds/2021-06-30"
UPLOADS = "/feed-documents"
MAX_MESSAGES = 25_000
FEEDS_PER_WINDOW, WINDOW_S = 5, 300.0


@dataclass(frozen=True, slots=True, kw_only=True)
class FeedTiming:
    """⚠️ Amazon publishes no processing times; these are configurable guesses."""

    queue_s: float = 30.0
    base_s: float = 30.0
    per_message_s: float = 0.01


@dataclass(slots=True)
class Document:
    id: str
    content: bytes | None = None


@dataclass(slots=True)
class Feed:
    id: str
    document_id: str
    created: float
    starts: float
    ends: float
    status: str = "IN_QUEUE"
    result_document_id: str | None = None
    messages: list[dict[str, object]] = field(default_factory=list)


class FeedsApi:
    def __init__(
        self,
        store: AmazonStore,
        base_url: str,
        secret: str,
        timing: FeedTiming,
        apply_delay_s: float = 0.0,
    ) -> None:
        self._store = store
        # An accepted message's update "is being applied" (report schema v2): like a
        # patch, it shows `apply_delay_s` after the report.
        self._apply_delay = apply_delay_s
        self._urls = Presigner(store.clock, base_url, UPLOADS, secret)
        self._timing = timing
        self.documents: dict[str, Document] = {}
        self.feeds: dict[str, Feed] = {}
        self._ids = itertools.count(50_001)

    # --- documents -----------------------------------------------------------------------

    async def create_document(self, request: Request) -> Response:
        body = await _json(request)
        if not isinstance(body, dict) or not isinstance(body.get("contentType"), str):
            return standard_error(400, "contentType is required")
        doc = Document(f"amzn1.tortuga.4.na.{next(self._ids)}")
        self.documents[doc.id] = doc
        return JSONResponse({"feedDocumentId": doc.id, "url": self._url(doc.id)}, status_code=201)

    async def get_document(self, request: Request) -> Response:
        doc_id = request.path_params["document_id"]
        if doc_id not in self.documents:
            return standard_error(404, "Document not found")
        return JSONResponse({"feedDocumentId": doc_id, "url": self._url(doc_id)})

    async def upload(self, request: Request) -> Response:
        doc = self._signed(request)
        if doc is None:
            return access_denied("Request has expired")
        doc.content = await request.body()
        return Response(status_code=200)

    async def download(self, request: Request) -> Response:
        doc = self._signed(request)
        if doc is None or doc.content is None:
            return access_denied()
        return Response(doc.content, media_type="application/json")

    def _url(self, doc_id: str) -> str:
        return self._urls.url(doc_id)

    def _signed(self, request: Request) -> Document | None:
        doc_id = self._urls.valid(request)
        return None if doc_id is None else self.documents.get(doc_id)

    # --- feeds ---------------------------------------------------------------------------

    async def create_feed(self, request: Request) -> Response:
        body = await _json(request)
        if not isinstance(body, dict) or body.get("feedType") != "JSON_LISTINGS_FEED":
            return standard_error(400, "feedType must be JSON_LISTINGS_FEED in this sandbox")
        doc = self.documents.get(str(body.get("inputFeedDocumentId")))
        if doc is None or doc.content is None:
            return standard_error(400, "inputFeedDocumentId does not name an uploaded document")
        now = self._store.clock.now()
        recent = [f for f in self.feeds.values() if f.created > now - WINDOW_S]
        if len(recent) >= FEEDS_PER_WINDOW:
            return error_list(
                429, "QuotaExceeded", "You exceeded your quota for the requested resource."
            )
        feed = self._scheduled(doc, now)
        request.state.__setattr__(ITEMS_STATE_KEY, len(feed.messages))
        return JSONResponse({"feedId": feed.id}, status_code=202)

    async def get_feed(self, request: Request) -> Response:
        feed = self.feeds.get(request.path_params["feed_id"])
        if feed is None:
            return standard_error(404, "Feed not found")
        view: dict[str, object] = {
            "feedId": feed.id,
            "feedType": "JSON_LISTINGS_FEED",
            "createdTime": iso(feed.created),
            "processingStatus": self._status(feed),
        }
        if feed.status in ("DONE", "FATAL"):
            view |= {"processingStartTime": iso(feed.starts), "processingEndTime": iso(feed.ends)}
        if feed.result_document_id:
            view["resultFeedDocumentId"] = feed.result_document_id
        return JSONResponse(view)

    def _status(self, feed: Feed) -> str:
        if feed.status == "IN_QUEUE" and self._store.clock.now() >= feed.starts:
            return "IN_PROGRESS"
        return feed.status

    def _scheduled(self, doc: Document, now: float) -> Feed:
        messages = _messages(doc.content or b"")
        # Feeds run one at a time, in the order they were created.
        previous = max((f.ends for f in self.feeds.values()), default=now)
        starts = max(now + self._timing.queue_s, previous)
        duration = self._timing.base_s + self._timing.per_message_s * len(messages or [])
        feed = Feed(
            str(next(self._ids)),
            doc.id,
            now,
            starts,
            starts + duration,
            messages=list(messages or []),
        )
        self.feeds[feed.id] = feed
        fatal = messages is None
        self._store.later(feed.ends - now, lambda: self._finish(feed, fatal=fatal))
        return feed

    def _finish(self, feed: Feed, *, fatal: bool) -> None:
        if fatal:
            feed.status = "FATAL"
            report: dict[str, object] = {
                "header": self._header(feed),
                "issues": [
                    {
                        "code": "FATAL",
                        "severity": "ERROR",
                        "message": "The document does not follow listings feed schema v2"
                        " or has over 25,000 messages.",
                    }
                ],
                "summary": _summary(0, 0),
            }
        else:
            issues = [i for m in feed.messages for i in self._apply(m)]
            invalid = len({i["messageId"] for i in issues})
            report = {
                "header": self._header(feed),
                "issues": issues,
                "summary": _summary(len(feed.messages), invalid),
            }
            feed.status = "DONE"
        result = Document(f"amzn1.tortuga.4.na.{next(self._ids)}", json.dumps(report).encode())
        self.documents[result.id] = result
        feed.result_document_id = result.id

    def _header(self, feed: Feed) -> dict[str, object]:
        return {"sellerId": self._store.seller_id, "version": "2.0", "feedId": feed.id}

    def _apply(self, message: dict[str, object]) -> list[dict[str, object]]:
        """Apply one message; its issues (empty when accepted)."""
        message_id, sku = message["messageId"], str(message.get("sku"))

        def issue(code: str, text: str) -> list[dict[str, object]]:
            return [
                {
                    "messageId": message_id,
                    "sku": sku,
                    "code": code,
                    "severity": "ERROR",
                    "message": text,
                }
            ]

        quantity = _message_quantity(message)
        if isinstance(quantity, str):
            return issue(INVALID_VALUE, quantity)
        if sku not in self._store.listings:
            return issue(
                INVALID_VALUE, f"SKU '{sku}' does not exist; PATCH needs an existing listing."
            )
        if self._store.take_failure(sku):
            return issue(
                INTERNAL, "An internal error occurred while processing the message. Resubmit it."
            )
        if quantity is not None:
            self._store.later(self._apply_delay, lambda: self._store.set_quantity(sku, quantity))
        return []


def _messages(content: bytes) -> list[dict[str, object]] | None:
    """The document's messages; None when the document is unusable (the feed is FATAL)."""
    try:
        doc = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        return None
    messages = doc.get("messages") if isinstance(doc, dict) else None
    header = doc.get("header") if isinstance(doc, dict) else None
    if (
        not isinstance(header, dict)
        or header.get("version") != "2.0"
        or not isinstance(messages, list)
    ):
        return None
    if not 1 <= len(messages) <= MAX_MESSAGES:
        return None
    if not all(isinstance(m, dict) and isinstance(m.get("messageId"), int) for m in messages):
        return None
    return [m for m in messages if isinstance(m, dict)]


def _message_quantity(message: dict[str, object]) -> int | str | None:
    """The DEFAULT quantity a message sets, None if none, or the problem as text."""
    operation = message.get("operationType")
    if operation == "PATCH":
        patches = message.get("patches")
        values = (
            [
                p.get("value")
                for p in patches
                if isinstance(p, dict) and p.get("path") == "/attributes/fulfillment_availability"
            ]
            if isinstance(patches, list)
            else []
        )
    elif operation in ("PARTIAL_UPDATE", "UPDATE"):
        attributes = message.get("attributes")
        values = (
            [attributes.get("fulfillment_availability")] if isinstance(attributes, dict) else []
        )
    else:
        return f"operationType {operation!r} is not supported by the sandbox"
    quantity: int | None = None
    for value in values:
        for entry in value if isinstance(value, list) else []:
            qty = entry.get("quantity") if isinstance(entry, dict) else None
            if not isinstance(entry, dict) or entry.get("fulfillment_channel_code") != "DEFAULT":
                return "only the DEFAULT fulfillment channel can be set by the seller"
            if isinstance(qty, bool) or not isinstance(qty, int) or not 0 <= qty <= MAX_QUANTITY:
                return f"'quantity' must be an integer from 0 to {MAX_QUANTITY}"
            quantity = qty
    return quantity


def _summary(processed: int, invalid: int) -> dict[str, object]:
    return {
        "errors": invalid,
        "warnings": 0,
        "messagesProcessed": processed,
        "messagesAccepted": processed - invalid,
        "messagesInvalid": invalid,
    }


async def _json(request: Request) -> object:
    try:
        return json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        return None
