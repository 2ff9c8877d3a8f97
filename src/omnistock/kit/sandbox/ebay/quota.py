"""Daily call quotas per API (configurable), reset at midnight Pacific, and the Analytics
`rate_limit` answer that reports them. Over quota: 429 with error 2001."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import formatdate

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from omnistock.kit.sandbox.common.clock import SandboxClock
from omnistock.kit.sandbox.ebay.store import PACIFIC

DAY = 86_400


@dataclass(frozen=True, slots=True)
class Api:
    """One API as the rate_limit report names it; `prefix` is its base path."""

    context: str
    name: str
    version: str
    prefix: str

    @property
    def resource(self) -> str:
        return f"{self.context}.{self.name}"


INVENTORY = Api("sell", "inventory", "v1", "/sell/inventory/v1")
FULFILLMENT = Api("sell", "fulfillment", "v1", "/sell/fulfillment/v1")
NOTIFICATION = Api("commerce", "notification", "v1", "/commerce/notification/v1")
ANALYTICS = Api("developer", "analytics", "v1_beta", "/developer/analytics/v1_beta")
POST_ORDER = Api("sell", "post-order", "v2", "/post-order/v2")
APIS = (INVENTORY, FULFILLMENT, NOTIFICATION, ANALYTICS, POST_ORDER)

# Notification 10,000 and Analytics 5,000 are published defaults; Inventory and Fulfillment
# defaults are not (⚠️), so the commonly cited figures stand in.
DEFAULT_QUOTAS: Mapping[str, int] = {
    INVENTORY.resource: 2_000_000,
    FULFILLMENT.resource: 100_000,
    NOTIFICATION.resource: 10_000,
    ANALYTICS.resource: 5_000,
    POST_ORDER.resource: 100_000,
}


def api_of(path: str) -> Api | None:
    return next((api for api in APIS if path.startswith(api.prefix + "/")), None)


def next_reset(now: float) -> float:
    """The next midnight in America/Los_Angeles, as Unix seconds."""
    local = datetime.fromtimestamp(now, UTC).astimezone(PACIFIC)
    midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), PACIFIC)
    return midnight.timestamp()


class QuotaBook:
    """Calls counted per API resource in the current Pacific day."""

    def __init__(self, clock: SandboxClock, limits: Mapping[str, int]) -> None:
        self._clock = clock
        self.limits = {**DEFAULT_QUOTAS, **limits}
        self._used: dict[str, int] = {}
        self._resets_at = next_reset(clock.now())

    def spend(self, api: Api) -> bool:
        """Count a call; False (and nothing counted) when the day's quota is used up."""
        self._roll()
        used = self._used.get(api.resource, 0)
        if used >= self.limits[api.resource]:
            return False
        self._used[api.resource] = used + 1
        return True

    def remaining(self, api: Api) -> int:
        self._roll()
        return self.limits[api.resource] - self._used.get(api.resource, 0)

    def set_limit(self, resource: str, limit: int) -> None:
        self.limits[resource] = limit

    def report(self, context: str | None, name: str | None) -> dict[str, object]:
        """The RateLimitsResponse for the APIs matching the filters."""
        self._roll()
        chosen = [
            api for api in APIS if context in (None, api.context) and name in (None, api.name)
        ]
        return {"rateLimits": [self._rate_limit(api) for api in chosen]}

    def _rate_limit(self, api: Api) -> dict[str, object]:
        rate = {
            "count": self._used.get(api.resource, 0),
            "limit": self.limits[api.resource],
            "remaining": self.remaining(api),
            "reset": iso(self._resets_at),
            "timeWindow": DAY,
        }
        return {
            "apiContext": api.context,
            "apiName": api.name,
            "apiVersion": api.version,
            "resources": [{"name": api.resource, "rates": [rate]}],
        }

    def _roll(self) -> None:
        now = self._clock.now()
        if now >= self._resets_at:
            self._used.clear()
            self._resets_at = next_reset(now)

    async def endpoint(self, request: Request) -> Response:
        params = request.query_params
        # Resets are server times; Date lets a client with a skewed clock read them.
        date = formatdate(self._clock.now(), usegmt=True)
        report = self.report(params.get("api_context"), params.get("api_name"))
        return JSONResponse(report, headers={"Date": date})


def iso(at: float) -> str:
    """eBay's timestamp form: 2026-05-15T08:25:43.511Z."""
    text = datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")
