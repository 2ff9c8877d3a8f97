"""The eBay sandbox: one object owning the seller's store, OAuth, quotas, the Inventory,
Fulfillment, Post-Order, Notification and Analytics endpoints, and the admin routes."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from omnistock.kit.sandbox.common.admin import AdminApi, listings_of
from omnistock.kit.sandbox.common.calls import CallRecord
from omnistock.kit.sandbox.common.catalog import build_catalog
from omnistock.kit.sandbox.common.clock import SandboxClock, ScaledClock
from omnistock.kit.sandbox.common.config import SandboxConfig
from omnistock.kit.sandbox.common.core import SandboxCore
from omnistock.kit.sandbox.common.faults import FaultInjector, FaultSettings
from omnistock.kit.sandbox.common.middleware import FaultMiddleware
from omnistock.kit.sandbox.common.outbound import WebhookSender
from omnistock.kit.sandbox.common.storefront import Connection
from omnistock.kit.sandbox.common.truth import TruthBook
from omnistock.kit.sandbox.ebay.errors import (
    INSUFFICIENT_PERMISSIONS,
    INVALID_TOKEN,
    INVALID_VALUE,
    RESOURCE_NOT_FOUND,
    TOO_MANY_REQUESTS,
    error_doc,
    error_response,
    fault_kind,
)
from omnistock.kit.sandbox.ebay.fulfillment_api import FulfillmentApi
from omnistock.kit.sandbox.ebay.inventory_api import InventoryApi, RequestError
from omnistock.kit.sandbox.ebay.notification_resources import NotificationResources
from omnistock.kit.sandbox.ebay.notifications import PREFIX as NOTIFY
from omnistock.kit.sandbox.ebay.notifications import Notifications
from omnistock.kit.sandbox.ebay.oauth import (
    TOKEN_PATH,
    AppCredentials,
    TokenBook,
    TokenKind,
    oauth_error,
)
from omnistock.kit.sandbox.ebay.quota import (
    ANALYTICS,
    FULFILLMENT,
    INVENTORY,
    NOTIFICATION,
    Api,
    QuotaBook,
)
from omnistock.kit.sandbox.ebay.store import EbayStore, unpublished_item

Handler = Callable[[Request], Awaitable[Response]]
ALERT_EMAIL = "merchant@omnistock.example"  # the merchant's, for the Notification API config
# RFC 6749 codes for injected token-endpoint failures (⚠️ eBay documents none for 429/5xx).
OAUTH_FAULTS = {
    401: "invalid_client",
    403: "unauthorized_client",
    429: "temporarily_unavailable",
    503: "temporarily_unavailable",
}
INV = INVENTORY.prefix
FUL = FULFILLMENT.prefix
USER = frozenset({TokenKind.USER})
APP = frozenset({TokenKind.APPLICATION})
ANY = frozenset(TokenKind)
WRITE_OPERATIONS = frozenset(
    {"bulk_update_price_quantity", "createOrReplaceInventoryItem", "bulk_create_or_replace"}
)


@dataclass(frozen=True, slots=True, kw_only=True)
class EbayConfig(SandboxConfig):
    """Everything an eBay sandbox is built from; credentials derive from the seed."""

    base_url: str = "https://api.sandbox.ebay.test"
    quotas: Mapping[str, int] = field(default_factory=dict)  # resource -> calls per day
    write_hold_s: float = 0.0  # real seconds a write holds its SKUs (25025 window)
    unpublished_items: int = 0  # inventory items besides the catalog's, with no offer published
    shopper_rate: float = 0.0
    faults: FaultSettings = field(default_factory=FaultSettings)

    def derive(self, kind: str) -> str:
        return hashlib.sha256(f"ebay:{kind}:{self.seed}".encode()).hexdigest()


class EbayEmulator:
    """An eBay seller account as far as inventory sync can see it."""

    platform = "ebay"

    def __init__(
        self,
        config: EbayConfig | None = None,
        *,
        clock: SandboxClock | None = None,
        webhook_client: httpx.AsyncClient | None = None,
        truth: TruthBook | None = None,
    ) -> None:
        self.config = config = config or EbayConfig()
        self.clock = clock or ScaledClock(config.time_scale)
        catalog = build_catalog(config.catalog_spec())
        self.store = EbayStore(self.clock, catalog)
        for n in range(1, config.unpublished_items + 1):
            self.store.add_item(unpublished_item(n), publish=False)
        self.core = SandboxCore(
            clock=self.clock,
            shop=self.store,
            seed=config.seed,
            faults=config.faults,
            shopper_rate=config.shopper_rate,
            truth=truth,
        )
        self.app_credentials = AppCredentials(
            "OmniStoc-sandbox-SBX-" + config.derive("client-id")[:10],
            "SBX-" + config.derive("client-secret")[:32],
            "OmniStock-OmniStoc-sandbo-" + config.derive("runame")[:6],
        )
        self.tokens = TokenBook(self.clock, self.app_credentials)
        self.refresh_token = self.tokens.grant_refresh_token()
        self.quotas = QuotaBook(self.clock, config.quotas)
        self.inventory = InventoryApi(self.store, write_hold_s=config.write_hold_s)
        self.fulfillment = FulfillmentApi(self.store, self.tokens)
        self.notifications = Notifications(
            clock=self.clock, faults=self.core.faults, client=webhook_client, seed=config.seed
        )
        self.store.order_observers.append(self.notifications.order_placed)
        self._endpoint: str | None = None  # where `connect` sends notifications
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
            "client_id": self.app_credentials.client_id,
            "client_secret": self.app_credentials.client_secret,
            "ru_name": self.app_credentials.ru_name,
            "refresh_token": self.refresh_token,
            "token_url": self.base_url.rstrip("/") + TOKEN_PATH,
        }

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Shoppers and notification delivery (the app's lifespan runs this when served)."""
        async with self.core.running(self.notifications.run):
            yield

    # --- omnistock.kit.sandbox.common.storefront.Storefront ---------------------------------

    def shown(self) -> dict[str, int]:
        return self.store.shown()

    def shown_of(self, sku: str) -> int:
        return self.store.shown_of(sku)

    def connection(self) -> Connection:
        """The adapter is given the sandbox's address itself; the challenge credentials
        name the endpoint `connect` registered (none before it)."""
        creds = {**self.credentials(), "verification_token": self._verification_token()}
        if self._endpoint is not None:
            creds["endpoint"] = self._endpoint
        return Connection(api_path="", credentials=creds, settings={"alert_email": ALERT_EMAIL})

    def is_write(self, call: CallRecord) -> bool:
        return call.operation in WRITE_OPERATIONS

    async def connect(self, webhook_url: str) -> None:
        """ORDER_CONFIRMATION to `webhook_url` (eBay sends no quantity notifications)."""
        self._endpoint = webhook_url
        self.notifications.alert_email = ALERT_EMAIL
        self.notifications.register(
            webhook_url, self._verification_token(), ("ORDER_CONFIRMATION",)
        )

    async def delivered(self) -> None:
        await self.notifications.sender.wait_idle()

    def _verification_token(self) -> str:
        return "vt_" + self.config.derive("verification-token")[:40]

    # --- routing ----------------------------------------------------------------------

    def _notification_routes(self) -> list[Route]:
        """Reading and managing destinations and subscriptions (creation is above)."""
        r = NotificationResources(self.notifications)
        d, s = (
            f"{NOTIFY}/destination/{{destination_id}}",
            f"{NOTIFY}/subscription/{{subscription_id}}",
        )
        table: list[tuple[str, str, Handler]] = [
            ("GET", f"{NOTIFY}/config", r.get_config),
            ("GET", f"{NOTIFY}/destination", r.list_destinations),
            ("GET", d, r.get_destination),
            ("PUT", d, r.update_destination),
            ("DELETE", d, r.delete_destination),
            ("GET", f"{NOTIFY}/subscription", r.list_subscriptions),
            ("GET", s, r.get_subscription),
            ("DELETE", s, r.delete_subscription),
            ("POST", f"{s}/enable", r.enable_subscription),
            ("POST", f"{s}/disable", r.disable_subscription),
        ]
        return [
            Route(path, self._guard(NOTIFICATION, ANY, handler), methods=[method])
            for method, path, handler in table
        ]

    def _guard(self, api: Api, kinds: frozenset[TokenKind], handler: Handler) -> Handler:
        """Bearer token of an allowed kind, then the API's daily quota, then the handler;
        a refused request body becomes eBay's error answer."""

        async def guarded(request: Request) -> Response:
            kind = self.tokens.kind_of(request.headers.get("authorization"))
            if kind is None:
                return error_response(
                    INVALID_TOKEN,
                    long_message="Invalid access token. Check the value of the Authorization "
                    "HTTP request header.",
                )
            if kind not in kinds:
                return error_response(INSUFFICIENT_PERMISSIONS)
            if not self.quotas.spend(api):
                return error_response(TOO_MANY_REQUESTS)
            try:
                return await handler(request)
            except RequestError as refused:
                return error_response(refused.kind, long_message=str(refused))
            except (KeyError, TypeError, ValueError) as exc:
                return error_response(INVALID_VALUE, long_message=f"unreadable input: {exc}")

        return guarded

    def _starlette(self) -> Starlette:
        inv, ful, note = self.inventory, self.fulfillment, self.notifications
        g = self._guard
        routes = [
            Route(TOKEN_PATH, self.tokens.endpoint, methods=["POST"]),
            Route(f"{INV}/inventory_item", g(INVENTORY, USER, inv.list_items), methods=["GET"]),
            Route(
                f"{INV}/inventory_item/{{sku}}", g(INVENTORY, USER, inv.get_item), methods=["GET"]
            ),
            Route(
                f"{INV}/inventory_item/{{sku}}", g(INVENTORY, USER, inv.put_item), methods=["PUT"]
            ),
            Route(
                f"{INV}/bulk_get_inventory_item", g(INVENTORY, USER, inv.bulk_get), methods=["POST"]
            ),
            Route(
                f"{INV}/bulk_create_or_replace_inventory_item",
                g(INVENTORY, USER, inv.bulk_replace),
                methods=["POST"],
            ),
            Route(
                f"{INV}/bulk_update_price_quantity",
                g(INVENTORY, USER, inv.bulk_update_price_quantity),
                methods=["POST"],
            ),
            Route(f"{INV}/offer", g(INVENTORY, USER, inv.offers_by_sku), methods=["GET"]),
            Route(f"{INV}/offer/{{offer_id}}", g(INVENTORY, USER, inv.get_offer), methods=["GET"]),
            Route(
                f"{INV}/inventory_item_group/{{key}}",
                g(INVENTORY, USER, inv.get_group),
                methods=["GET"],
            ),
            Route(
                f"{INV}/inventory_item_group/{{key}}",
                g(INVENTORY, USER, inv.put_group),
                methods=["PUT"],
            ),
            Route(f"{FUL}/order", g(FULFILLMENT, USER, ful.get_orders), methods=["GET"]),
            Route(
                f"{FUL}/order/{{order_id}}", g(FULFILLMENT, USER, ful.get_order), methods=["GET"]
            ),
            Route("/post-order/v2/cancellation", ful.cancel, methods=["POST"]),
            Route(f"{NOTIFY}/config", g(NOTIFICATION, ANY, note.put_config), methods=["PUT"]),
            Route(
                f"{NOTIFY}/destination",
                g(NOTIFICATION, ANY, note.create_destination),
                methods=["POST"],
            ),
            Route(
                f"{NOTIFY}/subscription",
                g(NOTIFICATION, ANY, note.create_subscription),
                methods=["POST"],
            ),
            *self._notification_routes(),
            Route(
                f"{NOTIFY}/public_key/{{kid}}",
                g(NOTIFICATION, ANY, note.public_key),
                methods=["GET"],
            ),
            Route(
                f"{ANALYTICS.prefix}/rate_limit/",
                g(ANALYTICS, APP, self.quotas.endpoint),
                methods=["GET"],
            ),
            Route(
                f"{ANALYTICS.prefix}/user_rate_limit/",
                g(ANALYTICS, USER, self.quotas.endpoint),
                methods=["GET"],
            ),
            *AdminApi(self.core, extra_stats=self._stats, listings=listings_of(self)).routes(),
        ]
        return Starlette(
            routes=routes,
            exception_handlers={404: _not_found, 405: _not_found},
            lifespan=lambda _app: self.running(),
        )

    def _stats(self) -> dict[str, object]:
        return {
            "orders": len(self.store.orders),
            "revisions": {k: v[1] for k, v in self.store.revisions.items()},
            "quotas": self.quotas.report(None, None),
            "notifications": self.notifications.sender.summary(),
        }


def operation_of(method: str, path: str) -> str:
    """Pure: the call-log name of a request (eBay's operation names where they are fixed)."""
    if path == TOKEN_PATH:
        return "oauth.token"
    if path.startswith(INV + "/inventory_item/") and method.upper() == "PUT":
        return "createOrReplaceInventoryItem"
    tail = path.removeprefix(INV + "/")
    if tail in ("bulk_update_price_quantity", "bulk_get_inventory_item"):
        return tail
    if tail == "bulk_create_or_replace_inventory_item":
        return "bulk_create_or_replace"
    if path == FUL + "/order":
        return "getOrders"
    return f"{method.upper()} {path}"


def render_fault(status: int, retry_after: float | None) -> Response:
    """An injected failure in eBay's error shape, with Retry-After when the fault has one:
    the OAuth form (`error`, `error_description`) on the token endpoint, else `errors`."""
    return _Fault(status, retry_after)


class _Fault(Response):
    """A fault answer that picks its body by the path it answers."""

    def __init__(self, status: int, retry_after: float | None) -> None:
        super().__init__(status_code=status)
        self._retry_after = retry_after

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = {} if self._retry_after is None else {"Retry-After": f"{self._retry_after:g}"}
        answer: Response
        if scope.get("path") == TOKEN_PATH:
            code = OAUTH_FAULTS.get(self.status_code, "server_error")
            answer = oauth_error(code, "injected fault", self.status_code)
            answer.headers.update(headers)
        else:
            body = {"errors": [error_doc(fault_kind(self.status_code))]}
            answer = JSONResponse(body, status_code=self.status_code, headers=headers)
        await answer(scope, receive, send)


async def _not_found(request: Request, exc: Exception) -> Response:
    return error_response(RESOURCE_NOT_FOUND)
