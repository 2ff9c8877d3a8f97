"""eBay's error bodies: `{"errors":[{errorId, domain, category, message, longMessage,
parameters}]}`, and the ids the sandbox produces (the table is README.md's)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from starlette.responses import JSONResponse


@dataclass(frozen=True, slots=True)
class EbayErrorKind:
    error_id: int
    domain: str
    category: str  # as the spec's x-response-codes declare it (REQUEST | APPLICATION)
    message: str
    status: int  # the HTTP status when the error is the whole answer


SYSTEM_ERROR = EbayErrorKind(
    25001, "API_INVENTORY", "APPLICATION", "A system error has occurred.", 500
)
USER_ERROR = EbayErrorKind(25002, "API_INVENTORY", "REQUEST", "A user error has occurred.", 400)
CONCURRENT = EbayErrorKind(
    25025,
    "API_INVENTORY",
    "APPLICATION",
    "Concurrent access of the same Inventory or Inventory Item Group object is not allowed.",
    500,
)
NOT_FOUND = EbayErrorKind(25702, "API_INVENTORY", "REQUEST", "SKU could not be found.", 404)
INVALID_VALUE = EbayErrorKind(25709, "API_INVENTORY", "REQUEST", "Invalid value for a field.", 400)
MISSING_LANGUAGE = EbayErrorKind(
    25709, "API_INVENTORY", "REQUEST", "Invalid value for header Content-Language.", 400
)
# ⚠️ eBay documents the 250-revisions-a-day limit but not the error it answers with.
REVISION_LIMIT = EbayErrorKind(
    25099,
    "API_INVENTORY",
    "REQUEST",
    "The listing has reached the maximum number of revisions allowed per day.",
    400,
)
INVALID_TOKEN = EbayErrorKind(1001, "OAuth", "REQUEST", "Invalid access token", 401)
INSUFFICIENT_PERMISSIONS = EbayErrorKind(
    1100, "ACCESS", "REQUEST", "Access denied: Insufficient permissions.", 403
)
# ⚠️ 2001 per third-party write-ups; eBay does not document its quota answer.
TOO_MANY_REQUESTS = EbayErrorKind(
    2001, "ACCESS", "REQUEST", "Too many requests. The request limit has been reached.", 429
)
INTERNAL = EbayErrorKind(
    10000, "API_GATEWAY", "APPLICATION", "There was a problem with an eBay internal system.", 500
)
UNAVAILABLE = EbayErrorKind(
    10001, "API_GATEWAY", "APPLICATION", "Service unavailable, try again later.", 503
)
RESOURCE_NOT_FOUND = EbayErrorKind(
    2004, "ACCESS", "REQUEST", "Resource not found.", 404
)  # unknown path
FULFILLMENT_FILTER = EbayErrorKind(
    30700, "API_FULFILLMENT", "REQUEST", "Invalid filter value.", 400
)
FULFILLMENT_LIMIT = EbayErrorKind(
    30800, "API_FULFILLMENT", "REQUEST", "Invalid limit or offset.", 400
)
ORDER_NOT_FOUND = EbayErrorKind(32100, "API_FULFILLMENT", "REQUEST", "Order not found.", 404)
# Notification API ids as its spec's x-response-codes declare them.
CONFIG_MISSING = EbayErrorKind(
    195003,
    "API_NOTIFICATION",
    "REQUEST",
    "Please provide configurations required for notifications. Refer to /config",
    409,
)
DESTINATION_UNKNOWN = EbayErrorKind(
    195007, "API_NOTIFICATION", "REQUEST", "Invalid or missing destination id.", 400
)
ENDPOINT_INVALID = EbayErrorKind(
    195017, "API_NOTIFICATION", "REQUEST", "Invalid or missing endpoint.", 400
)
VERIFICATION_TOKEN_INVALID = EbayErrorKind(
    195019,
    "API_NOTIFICATION",
    "REQUEST",
    "Invalid or missing verification token for this endpoint.",
    400,
)
EMAIL_INVALID = EbayErrorKind(
    195025, "API_NOTIFICATION", "REQUEST", "Invalid or missing email.", 400
)
TOPIC_INVALID = EbayErrorKind(
    195027, "API_NOTIFICATION", "REQUEST", "Invalid or missing topic id.", 400
)
CHALLENGE_FAILED = EbayErrorKind(
    195020,
    "API_NOTIFICATION",
    "REQUEST",
    "Challenge verification failed for the requested endpoint.",
    409,
)
SUBSCRIPTION_EXISTS = EbayErrorKind(
    195012, "API_NOTIFICATION", "REQUEST", "Subscription already exists", 409
)
SUBSCRIPTION_UNKNOWN = EbayErrorKind(
    195013, "API_NOTIFICATION", "REQUEST", "Invalid subscription Id.", 404
)
DESTINATION_NOT_ENABLED = EbayErrorKind(
    195015,
    "API_NOTIFICATION",
    "REQUEST",
    "The subscription cannot be enabled since the destination is not enabled.",
    409,
)
DESTINATION_STATUS_INVALID = EbayErrorKind(
    195018,
    "API_NOTIFICATION",
    "REQUEST",
    "Invalid or missing destination status. Supported values:[ENABLED,DISABLED]",
    400,
)
DESTINATION_EXISTS = EbayErrorKind(
    195021, "API_NOTIFICATION", "REQUEST", "Destination exists for this endpoint", 409
)
DESTINATION_NOT_FOUND = EbayErrorKind(
    195022, "API_NOTIFICATION", "REQUEST", "Invalid or missing destination id.", 404
)
DESTINATION_IN_USE = EbayErrorKind(
    195024, "API_NOTIFICATION", "REQUEST", "Destination is in use and cannot be deleted.", 409
)
CONFIG_NOT_FOUND = EbayErrorKind(
    195026, "API_NOTIFICATION", "APPLICATION", "Configuration Not Found.", 404
)
LIMIT_INVALID = EbayErrorKind(
    195004, "API_NOTIFICATION", "REQUEST", "Invalid limit. Supported ranges 10 - 100.", 400
)
KEY_NOT_FOUND = EbayErrorKind(
    195001, "API_NOTIFICATION", "REQUEST", "The public key could not be found.", 404
)


def error_doc(
    kind: EbayErrorKind,
    *,
    long_message: str | None = None,
    parameters: Mapping[str, str] | None = None,
) -> dict[str, object]:
    """One entry of an `errors` array."""
    doc: dict[str, object] = {
        "errorId": kind.error_id,
        "domain": kind.domain,
        "category": kind.category,
        "message": kind.message,
    }
    if long_message:
        doc["longMessage"] = long_message
    if parameters:
        doc["parameters"] = [{"name": k, "value": v} for k, v in parameters.items()]
    return doc


def error_response(
    kind: EbayErrorKind,
    *,
    long_message: str | None = None,
    parameters: Mapping[str, str] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = {"errors": [error_doc(kind, long_message=long_message, parameters=parameters)]}
    return JSONResponse(body, status_code=kind.status, headers=dict(headers or {}))


def fault_kind(status: int) -> EbayErrorKind:
    """The error an injected fault of `status` is dressed as."""
    return {
        401: INVALID_TOKEN,
        403: INSUFFICIENT_PERMISSIONS,
        429: TOO_MANY_REQUESTS,
        503: UNAVAILABLE,
    }.get(status, INTERNAL)
