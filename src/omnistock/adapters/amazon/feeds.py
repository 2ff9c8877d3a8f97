"""JSON_LISTINGS_FEED documents and processing reports (listings feed schema v2), pure:
one PATCH message per listing, and each message's outcome read back from the report."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from omnistock.adapters.amazon.wire import (
    ACCEPTED,
    FEED_TYPE,
    FEEDS_VERSION,
    LISTINGS_VERSION,
    Outcome,
    issues_outcome,
    patch_body,
)
from omnistock.adapters.base import ItemStatus, ListingRef

FEED_DOCUMENTS = f"/feeds/{FEEDS_VERSION}/documents"
FEEDS = f"/feeds/{FEEDS_VERSION}/feeds"
DONE, FATAL, CANCELLED = "DONE", "FATAL", "CANCELLED"
FINISHED = frozenset({DONE, FATAL, CANCELLED})


@dataclass(frozen=True, slots=True)
class Message:
    """One listing's write in a feed: messageId n is the n-th distinct SKU."""

    message_id: int
    sku: str
    ref: ListingRef
    quantity: int


def document(seller_id: str, messages: Sequence[Message]) -> bytes:
    """The feed document: a PATCH (merge on fulfillment_availability) per message."""
    doc = {
        "header": {"sellerId": seller_id, "version": "2.0", "issueLocale": "en_US"},
        "messages": [
            {"messageId": m.message_id, "sku": m.sku, "operationType": "PATCH"}
            | patch_body(m.ref, m.quantity)
            for m in messages
        ],
    }
    return json.dumps(doc, separators=(",", ":")).encode()


def create_feed_body(marketplace_id: str, document_id: str) -> dict[str, object]:
    return {
        "feedType": FEED_TYPE,
        "marketplaceIds": [marketplace_id],
        "inputFeedDocumentId": document_id,
    }


def field(payload: object, name: str) -> str:
    """A string field of an answer; ValueError if missing."""
    value = payload.get(name) if isinstance(payload, dict) else None
    if not isinstance(value, str) or not value:
        raise ValueError(f"answer without {name}")
    return value


def report_outcomes(report: object, messages: Sequence[Message]) -> dict[int, Outcome]:
    """messageId → outcome. A message with ERROR issues failed with them; any other was
    accepted, not applied: schema v2 says of `messagesAccepted` that "the associated
    updates are being applied", so a DONE feed is confirmed like a patch (ACCEPTED)."""
    if not isinstance(report, dict) or not isinstance(report.get("summary"), dict):
        raise ValueError("not a listings feed processing report")
    raw = report.get("issues") or []
    if not isinstance(raw, list):
        raise ValueError("report issues is not a list")
    by_message: dict[int, list[Mapping[str, object]]] = {}
    for issue in raw:
        if isinstance(issue, dict) and isinstance(issue.get("messageId"), int):
            by_message.setdefault(issue["messageId"], []).append(issue)
    outcomes: dict[int, Outcome] = {}
    for m in messages:
        errors = [i for i in by_message.get(m.message_id, []) if i.get("severity") == "ERROR"]
        outcomes[m.message_id] = issues_outcome(errors) if errors else ACCEPTED
    return outcomes


def fatal_outcome(feed_id: str) -> Outcome:
    """A FATAL or CANCELLED feed applied nothing; sending the quantities again is safe."""
    return Outcome(ItemStatus.FAILED_RETRYABLE, f"feed {feed_id} ended without processing")


__all__ = ["LISTINGS_VERSION", "Message", "document", "report_outcomes"]
