"""WooCommerce's error bodies: `{"code", "message", "data": {"status", ...}}`.

Injected host-level faults instead answer with an HTML page, as a web host or WAF would.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.responses import HTMLResponse, JSONResponse, Response


@dataclass(frozen=True, slots=True)
class WooApiError(Exception):
    """An error the REST API reports to the client."""

    status: int
    code: str
    message: str
    extra: dict[str, object] = field(default_factory=dict)

    def body(self) -> dict[str, object]:
        return {
            "code": self.code,
            "message": self.message,
            "data": {"status": self.status, **self.extra},
        }

    def response(self) -> JSONResponse:
        return JSONResponse(self.body(), status_code=self.status)


def invalid_param(name: str, reason: str) -> WooApiError:
    """WordPress's schema-validation error for one bad parameter."""
    return WooApiError(
        400,
        "rest_invalid_param",
        f"Invalid parameter(s): {name}",
        {"params": {name: reason}, "details": {}},
    )


def invalid_id(resource: str, status: int = 404) -> WooApiError:
    return WooApiError(status, f"woocommerce_rest_{resource}_invalid_id", "Invalid ID.")


def no_route() -> WooApiError:
    return WooApiError(
        404, "rest_no_route", "No route was found matching the URL and request method."
    )


_REASONS = {
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def host_fault(status: int, retry_after_s: float | None) -> Response:
    """What a web host in front of WordPress returns when it, not WooCommerce, says no."""
    reason = _REASONS.get(status, "Error")
    headers = {} if retry_after_s is None else {"Retry-After": str(max(round(retry_after_s), 0))}
    page = (
        f"<html><head><title>{status} {reason}</title></head><body><h1>{reason}</h1></body></html>"
    )
    return HTMLResponse(page, status_code=status, headers=headers)
