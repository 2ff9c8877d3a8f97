"""The Amazon SP-API sandbox: LWA, Listings Items 2021-08-01, Feeds 2021-06-30, Orders v0 and
2026-01-01, notifications, per-operation buckets. Build `AmazonSandbox(AmazonConfig())`."""

from __future__ import annotations

import hashlib
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from omnistock.kit.sandbox.amazon.auth import LwaApp, LwaTokens
from omnistock.kit.sandbox.amazon.buckets import DEFAULT_RATES, OperationBuckets
from omnistock.kit.sandbox.amazon.errors import error_list, render_fault, request_id, standard_error
from omnistock.kit.sandbox.amazon.feeds_api import PREFIX as FEEDS
from omnistock.kit.sandbox.amazon.feeds_api import UPLOADS, FeedsApi, FeedTiming
from omnistock.kit.sandbox.amazon.listings_api import PREFIX as LISTINGS
from omnistock.kit.sandbox.amazon.listings_api import ListingsApi
from omnistock.kit.sandbox.amazon.notifications import TYPES as NOTIFICATION_TYPES
from omnistock.kit.sandbox.amazon.notifications import Notifications
from omnistock.kit.sandbox.amazon.notifications_api import PREFIX as NOTIFICATIONS_PREFIX
from omnistock.kit.sandbox.amazon.orders_api import ORDERS_PATH, OrdersApi
from omnistock.kit.sandbox.amazon.orders_v2026 import ORDERS_PATH as ORDERS_2026
from omnistock.kit.sandbox.amazon.orders_v2026 import OrdersV2026Api
from omnistock.kit.sandbox.amazon.reports_api import DOWNLOADS as REPORT_DOWNLOADS
from omnistock.kit.sandbox.amazon.reports_api import PREFIX as REPORTS
from omnistock.kit.sandbox.amazon.reports_api import ReportsApi, ReportTiming
from omnistock.kit.sandbox.amazon.store import AmazonStore
from omnistock.kit.sandbox.common.admin import AdminApi, bad_request, listings_of, read_json
from omnistock.kit.sandbox.common.calls import CallRecord
from omnistock.kit.sandbox.common.catalog import build_catalog
from omnistock.kit.sandbox.common.clock import SandboxClock, ScaledClock
from omnistock.kit.sandbox.common.config import SandboxConfig
from omnistock.kit.sandbox.common.core import SandboxCore
from omnistock.kit.sandbox.common.faults import FaultInjector, FaultSettings
from omnistock.kit.sandbox.common.middleware import ADMIN_PREFIX, FaultMiddleware
from omnistock.kit.sandbox.common.outbound import WebhookSender
from omnistock.kit.sandbox.common.storefront import Connection
from omnistock.kit.sandbox.common.truth import TruthBook

LWA_PATH = "/auth/o2/token"
# The operations that set stock, as the call log names them.
WRITE_OPERATIONS = frozenset({"patchListingsItem", "putListingsItem", "createFeed"})
Handler = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True, slots=True, kw_only=True)
class AmazonConfig(SandboxConfig):
    base_url: str = "https://sandbox.sellingpartnerapi-na.amazon.test"
    marketplace_id: str = "ATVPDKIKX0DER"
    apply_delay_s: float = 5.0  # ⚠️ ACCEPTED → applied; Amazon documents no figure
    orders_2026: bool = True  # False: the application lacks Orders 2026-01-01 (403)
    feed_timing: FeedTiming = field(default_factory=FeedTiming)
    report_timing: ReportTiming = field(default_factory=ReportTiming)
    fba_listings: int = 0  # listings fulfilled by Amazon besides the catalog's (no MFN offer)
    rates: Mapping[str, tuple[float, int]] = field(default_factory=lambda: dict(DEFAULT_RATES))
    shopper_rate: float = 0.0
    faults: FaultSettings = field(default_factory=FaultSettings)

    def derive(self, kind: str) -> str:
        return hashlib.sha1(f"{kind}:{self.seed}".encode(), usedforsecurity=False).hexdigest()


# (method, path pattern, operation): the call log's names and the bucket of each request.
_ROUTES: tuple[tuple[str, re.Pattern[str], str], ...] = tuple(
    (m, re.compile(p), op)
    for m, p, op in (
        ("POST", f"^{LWA_PATH}$", "lwa.token"),
        ("GET", f"^{LISTINGS}/[^/]+/[^/]+$", "getListingsItem"),
        ("PATCH", f"^{LISTINGS}/[^/]+/[^/]+$", "patchListingsItem"),
        ("PUT", f"^{LISTINGS}/[^/]+/[^/]+$", "putListingsItem"),
        ("DELETE", f"^{LISTINGS}/[^/]+/[^/]+$", "deleteListingsItem"),
        ("GET", f"^{LISTINGS}/[^/]+$", "searchListingsItems"),
        ("POST", f"^{FEEDS}/documents$", "createFeedDocument"),
        ("GET", f"^{FEEDS}/documents/[^/]+$", "getFeedDocument"),
        ("POST", f"^{FEEDS}/feeds$", "createFeed"),
        ("GET", f"^{FEEDS}/feeds/[^/]+$", "getFeed"),
        ("PUT", f"^{UPLOADS}/[^/]+$", "document.upload"),
        ("GET", f"^{UPLOADS}/[^/]+$", "document.download"),
        ("GET", f"^{ORDERS_PATH}$", "getOrders"),
        ("GET", f"^{ORDERS_PATH}/[^/]+/orderItems$", "getOrderItems"),
        ("GET", f"^{ORDERS_2026}$", "searchOrders"),
        ("GET", f"^{ORDERS_2026}/[^/]+$", "getOrder"),
        ("POST", f"^{REPORTS}/reports$", "createReport"),
        ("GET", f"^{REPORTS}/reports/[^/]+$", "getReport"),
        ("GET", f"^{REPORTS}/documents/[^/]+$", "getReportDocument"),
        ("GET", f"^{REPORT_DOWNLOADS}/[^/]+$", "reportDocument.download"),
        ("GET", f"^{NOTIFICATIONS_PREFIX}/destinations$", "getDestinations"),
        ("POST", f"^{NOTIFICATIONS_PREFIX}/destinations$", "createDestination"),
        ("GET", f"^{NOTIFICATIONS_PREFIX}/destinations/[^/]+$", "getDestination"),
        ("DELETE", f"^{NOTIFICATIONS_PREFIX}/destinations/[^/]+$", "deleteDestination"),
        ("GET", f"^{NOTIFICATIONS_PREFIX}/subscriptions/[^/]+$", "getSubscription"),
        ("POST", f"^{NOTIFICATIONS_PREFIX}/subscriptions/[^/]+$", "createSubscription"),
        ("DELETE", f"^{NOTIFICATIONS_PREFIX}/subscriptions/[^/]+/[^/]+$", "deleteSubscriptionById"),
    )
)


def operation_of(method: str, path: str) -> str:
    """Pure: the operation a request calls (its call-log name and its bucket)."""
    for m, pattern, op in _ROUTES:
        if m == method.upper() and pattern.match(path):
            return op
    return f"{method.upper()} {path}"


class AmazonEmulator:
    """One seller account in one marketplace, as far as inventory sync can see it."""

    platform = "amazon"

    def __init__(
        self,
        config: AmazonConfig | None = None,
        *,
        clock: SandboxClock | None = None,
        webhook_client: httpx.AsyncClient | None = None,
        truth: TruthBook | None = None,
    ) -> None:
        self.config = config = config or AmazonConfig()
        self.clock = clock or ScaledClock(config.time_scale)
        self.seller_id = "A" + config.derive("seller")[:13].upper()
        catalog = build_catalog(config.catalog_spec())
        self.store = AmazonStore(self.clock, catalog, self.seller_id)
        self.core = SandboxCore(
            clock=self.clock,
            shop=self.store,
            seed=config.seed,
            faults=config.faults,
            shopper_rate=config.shopper_rate,
            truth=truth,
        )
        self.lwa = LwaApp(
            "amzn1.application-oa2-client." + config.derive("client")[:32],
            "amzn1.oa2-cs.v1." + config.derive("secret"),
            "Atzr|" + config.derive("refresh"),
        )
        self.tokens = LwaTokens(self.clock, self.lwa)
        self.notification_secret = config.derive("bridge")
        self.buckets = OperationBuckets(self.clock, config.rates)
        self.notifications = Notifications(
            seller_id=self.seller_id,
            marketplace_id=config.marketplace_id,
            secret=self.notification_secret,
            clock=self.clock,
            faults=self.core.faults,
            client=webhook_client,
        )
        self.store.observers.append(self.notifications)
        self.listings_api = ListingsApi(self.store, config.marketplace_id, config.apply_delay_s)
        self.feeds = FeedsApi(
            self.store,
            config.base_url,
            config.derive("s3"),
            config.feed_timing,
            config.apply_delay_s,
        )
        self.orders = OrdersApi(self.store, config.marketplace_id)
        self.reports = ReportsApi(
            self.store,
            config.marketplace_id,
            config.base_url,
            config.derive("s3-reports"),
            config.report_timing,
        )
        for n in range(1, config.fba_listings + 1):
            self.store.add_listing(f"FBA-{n:06d}", None, fulfillment_channel="AMAZON_NA")
        self.orders_2026 = OrdersV2026Api(
            self.store, config.marketplace_id, enabled=config.orders_2026
        )
        self._app = FaultMiddleware(
            self._starlette(), core=self.core, operation_of=operation_of, render_fault=render_fault
        )

    @property
    def app(self) -> ASGIApp:
        return self._app

    @property
    def base_url(self) -> str:
        return self.config.base_url

    @property
    def outbound(self) -> WebhookSender:
        return self.notifications.sender

    @property
    def faults(self) -> FaultInjector:
        return self.core.faults

    def credentials(self) -> Mapping[str, str]:
        return {
            "seller_id": self.seller_id,
            "marketplace_id": self.config.marketplace_id,
            "client_id": self.lwa.client_id,
            "client_secret": self.lwa.client_secret,
            "refresh_token": self.lwa.refresh_token,
            "notification_secret": self.notification_secret,
        }

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        async with self.core.running(self.notifications.run):
            yield

    # --- the Storefront protocol (sandbox/common/storefront.py) ---------------------------

    def shown(self) -> dict[str, int]:
        self.store.catch_up()
        return self.store.shown()

    def shown_of(self, sku: str) -> int:
        return self.store.shown_of(sku)  # it catches up first, as `shown` does

    def connection(self) -> Connection:
        """The adapter is given the sandbox's address (LWA is served there too); the
        marketplace is an account setting, not a secret."""
        credentials = dict(self.credentials())
        marketplace = credentials.pop("marketplace_id")
        settings = {"marketplace_id": marketplace, "notification_queue": self.notification_queue}
        return Connection(api_path="", credentials=credentials, settings=settings)

    @property
    def notification_queue(self) -> str:
        """The merchant's SQS queue (its AWS account's) that notifications are sent to."""
        account = str(int(self.config.derive("aws-account")[:10], 16) % 10**12).zfill(12)
        return f"arn:aws:sqs:us-east-1:{account}:omnistock-{self.seller_id.lower()}"

    def bridge(self, queue_arn: str, url: str) -> None:
        """The merchant's bridge: what Amazon puts on the queue, and on the event bus of the
        queue's AWS account and region, POSTed signed to `url` (AWS set-up, not Amazon's)."""
        _, _, _, region, account, _ = queue_arn.split(":", 5)
        self.notifications.bridges[queue_arn] = url
        self.notifications.bridges[f"eventbridge:{account}:{region}"] = url

    def is_write(self, call: CallRecord) -> bool:
        return call.operation in WRITE_OPERATIONS and call.items > 0

    async def connect(self, webhook_url: str) -> None:
        """Both notification types to `webhook_url`, through the stand-in bridge."""
        for kind in NOTIFICATION_TYPES:
            self.notifications.subscribe(kind, webhook_url)

    async def delivered(self) -> None:
        """Once every write accepted so far is applied and every notification so far sent.
        Time moves lazily here (`store.catch_up` on each call), so with no call coming in
        nothing would apply: the applies still to come are waited for and made."""
        while (due := self.store.next_due()) is not None:
            await self.clock.sleep(due - self.clock.now())
            self.store.catch_up()
        await self.notifications.sender.wait_idle()

    def _starlette(self) -> Starlette:
        g, item = self._guarded, f"{LISTINGS}/{{seller_id}}/{{sku:path}}"
        return Starlette(
            routes=[
                Route(LWA_PATH, self.tokens.endpoint, methods=["POST"]),
                Route(item, g("getListingsItem", self.listings_api.get), methods=["GET"]),
                Route(item, g("patchListingsItem", self.listings_api.patch), methods=["PATCH"]),
                Route(item, g("putListingsItem", self.listings_api.put), methods=["PUT"]),
                Route(item, g("deleteListingsItem", self.listings_api.delete), methods=["DELETE"]),
                Route(
                    f"{LISTINGS}/{{seller_id}}",
                    g("searchListingsItems", self.listings_api.search),
                    methods=["GET"],
                ),
                Route(
                    f"{FEEDS}/documents",
                    g("createFeedDocument", self.feeds.create_document),
                    methods=["POST"],
                ),
                Route(
                    f"{FEEDS}/documents/{{document_id}}",
                    g("getFeedDocument", self.feeds.get_document),
                    methods=["GET"],
                ),
                Route(f"{FEEDS}/feeds", g("createFeed", self.feeds.create_feed), methods=["POST"]),
                Route(
                    f"{FEEDS}/feeds/{{feed_id}}", g("getFeed", self.feeds.get_feed), methods=["GET"]
                ),
                Route(f"{UPLOADS}/{{document_id}}", self.feeds.upload, methods=["PUT"]),
                Route(f"{UPLOADS}/{{document_id}}", self.feeds.download, methods=["GET"]),
                Route(ORDERS_PATH, g("getOrders", self.orders.get_orders), methods=["GET"]),
                Route(
                    f"{ORDERS_PATH}/{{order_id}}/orderItems",
                    g("getOrderItems", self.orders.get_order_items),
                    methods=["GET"],
                ),
                Route(
                    ORDERS_2026, g("searchOrders", self.orders_2026.search_orders), methods=["GET"]
                ),
                Route(
                    f"{ORDERS_2026}/{{order_id}}",
                    g("getOrder", self.orders_2026.get_order),
                    methods=["GET"],
                ),
                *self._report_routes(),
                *self._notification_routes(),
                *self._admin_routes(),
            ],
            exception_handlers={404: _not_found, 405: _not_found},
            lifespan=lambda _app: self.running(),
        )

    def _report_routes(self) -> list[Route]:
        g, api = self._guarded, self.reports
        return [
            Route(f"{REPORTS}/reports", g("createReport", api.create_report), methods=["POST"]),
            Route(
                f"{REPORTS}/reports/{{report_id}}",
                g("getReport", api.get_report),
                methods=["GET"],
            ),
            Route(
                f"{REPORTS}/documents/{{document_id}}",
                g("getReportDocument", api.get_report_document),
                methods=["GET"],
            ),
            Route(f"{REPORT_DOWNLOADS}/{{document_id}}", self._download_report, methods=["GET"]),
        ]

    async def _download_report(self, request: Request) -> Response:
        self.store.catch_up()
        return await self.reports.download(request)

    def _notification_routes(self) -> list[Route]:
        api, n = self.notifications.api, NOTIFICATIONS_PREFIX
        dest, sub = f"{n}/destinations", f"{n}/subscriptions/{{notification_type}}"
        g, free = self._guarded, self._grantless
        return [
            Route(dest, free("getDestinations", api.get_destinations), methods=["GET"]),
            Route(dest, free("createDestination", api.create_destination), methods=["POST"]),
            Route(
                f"{dest}/{{destination_id}}",
                free("getDestination", api.get_destination),
                methods=["GET"],
            ),
            Route(
                f"{dest}/{{destination_id}}",
                free("deleteDestination", api.delete_destination),
                methods=["DELETE"],
            ),
            Route(sub, g("getSubscription", api.get_subscription), methods=["GET"]),
            Route(sub, g("createSubscription", api.create_subscription), methods=["POST"]),
            Route(
                f"{sub}/{{subscription_id}}",
                free("deleteSubscriptionById", api.delete_subscription),
                methods=["DELETE"],
            ),
        ]

    def _grantless(self, operation: str, handler: Handler) -> Handler:
        """A grantless operation: a client_credentials token instead of the seller's."""
        return self._guarded(operation, handler, grantless=True)

    def _guarded(self, operation: str, handler: Handler, *, grantless: bool = False) -> Handler:
        """Token, then the operation's bucket, then the handler; time catches up first."""

        async def endpoint(request: Request) -> Response:
            self.store.catch_up()
            token = request.headers.get("x-amz-access-token")
            check = self.tokens.check_grantless if grantless else self.tokens.check
            refused = check(token)
            if refused is not None:
                return refused
            if not self.buckets.take(operation):
                return error_list(
                    429, "QuotaExceeded", "You exceeded your quota for the requested resource."
                )
            response = await handler(request)
            rate = self.buckets.rate(operation)
            if rate is not None:
                response.headers["x-amzn-RateLimit-Limit"] = f"{rate:g}"
            response.headers["x-amzn-RequestId"] = request_id()
            return response

        return endpoint

    def _admin_routes(self) -> list[Route]:
        p = ADMIN_PREFIX
        admin = AdminApi(
            self.core, extra_stats=self._stats, stock=self.shown, listings=listings_of(self)
        )
        return admin.routes([Route(f"{p}/notifications", self._admin_subscribe, methods=["POST"])])

    def _stats(self) -> dict[str, object]:
        return {
            "orders": len(self.store.orders),
            "feeds": len(self.feeds.feeds),
            "notifications": self.notifications.sender.summary(),
        }

    async def _admin_subscribe(self, request: Request) -> Response:
        body = await read_json(request)
        kind = body.get("notificationType") if isinstance(body, dict) else None
        url = body.get("url") if isinstance(body, dict) else None
        if not isinstance(kind, str) or not isinstance(url, str):
            return bad_request(
                'expected {"notificationType": "ORDER_CHANGE", "url": "https://..."}'
            )
        try:
            subscription_id = self.notifications.subscribe(kind, url)
        except ValueError as exc:
            return bad_request(str(exc))
        return JSONResponse({"subscriptionId": subscription_id}, status_code=201)


async def _not_found(request: Request, exc: Exception) -> Response:
    return standard_error(404, f"No operation at {request.method} {request.url.path}")
