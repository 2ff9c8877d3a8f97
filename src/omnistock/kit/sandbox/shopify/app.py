"""The Shopify Admin GraphQL API 2026-04 sandbox: one object owning the store, the endpoint,
tokens, webhooks and the admin. Build `ShopifySandbox(ShopifyConfig(...))`; use `.app`."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from omnistock.kit.sandbox.common.admin import (
    AdminApi,
    OrderDesk,
    bad_request,
    listings_of,
    read_json,
)
from omnistock.kit.sandbox.common.calls import CallRecord
from omnistock.kit.sandbox.common.catalog import build_catalog
from omnistock.kit.sandbox.common.clock import SandboxClock, ScaledClock
from omnistock.kit.sandbox.common.config import SandboxConfig
from omnistock.kit.sandbox.common.core import SandboxCore
from omnistock.kit.sandbox.common.faults import FaultInjector, FaultSettings
from omnistock.kit.sandbox.common.middleware import ADMIN_PREFIX, FaultMiddleware
from omnistock.kit.sandbox.common.mix import ListingMix
from omnistock.kit.sandbox.common.outbound import WebhookSender
from omnistock.kit.sandbox.common.storefront import Connection
from omnistock.kit.sandbox.common.truth import TruthBook
from omnistock.kit.sandbox.shopify.cost import LeakyBucket
from omnistock.kit.sandbox.shopify.graphql_api import GraphQLEndpoint, Roots
from omnistock.kit.sandbox.shopify.hooks import TOPICS, ShopifyWebhooks
from omnistock.kit.sandbox.shopify.mutations import IdempotencyStore, MutationRoot
from omnistock.kit.sandbox.shopify.oauth import AppCredentials, TokenBook, unauthorized
from omnistock.kit.sandbox.shopify.queries import QueryRoot
from omnistock.kit.sandbox.shopify.representation import Views
from omnistock.kit.sandbox.shopify.schema import API_VERSION, admin_schema
from omnistock.kit.sandbox.shopify.seeding import shape_store
from omnistock.kit.sandbox.shopify.store import OutOfStockError, ShopifyStore
from omnistock.kit.sandbox.shopify.subscriptions_api import WebhookSubscriptionsApi

GRAPHQL_PATH = f"/admin/api/{API_VERSION}/graphql.json"
TOKEN_PATH = "/admin/oauth/access_token"  # noqa: S105 - a path, not a secret


@dataclass(frozen=True, slots=True, kw_only=True)
class ShopifyConfig(SandboxConfig):
    """Everything a Shopify sandbox is built from; secrets derive from the seed."""

    base_url: str = "https://omnistock-sandbox.myshopify.com"
    # ⚠️ Bucket size per plan is unpublished: 20 s of restore, as the historical plans had.
    bucket_size: float = 2000.0
    restore_rate: float = 100.0  # the Standard plan
    throttle_status: int = 200  # ⚠️ clients report 200 for THROTTLED; 429 is switchable
    shopper_rate: float = 0.0
    faults: FaultSettings = field(default_factory=FaultSettings)
    # A store that already sells (onboarding): locations every item is stocked at,
    # untracked items and shared SKUs.
    locations: int = 1
    mix: ListingMix = field(default_factory=ListingMix)

    def derive(self, kind: str) -> str:
        return hashlib.sha1(f"{kind}:{self.seed}".encode(), usedforsecurity=False).hexdigest()


class ShopifyEmulator:
    """A Shopify store as far as inventory sync can see it."""

    platform = "shopify"

    def __init__(
        self,
        config: ShopifyConfig | None = None,
        *,
        clock: SandboxClock | None = None,
        webhook_client: httpx.AsyncClient | None = None,
        truth: TruthBook | None = None,
    ) -> None:
        self.config = config = config or ShopifyConfig()
        self.clock = clock or ScaledClock(config.time_scale)
        self.store = ShopifyStore(
            self.clock,
            build_catalog(config.catalog_spec()),
        )
        shape_store(self.store, config.mix, config.locations, config.seed)
        self.core = SandboxCore(
            clock=self.clock,
            shop=self.store,
            seed=config.seed,
            faults=config.faults,
            shopper_rate=config.shopper_rate,
            truth=truth,
        )
        self.app_credentials = AppCredentials(
            config.derive("client-id")[:32], "shpss_" + config.derive("client-secret")
        )
        self.tokens = TokenBook(self.clock, self.app_credentials)
        self.access_token = "shpat_" + config.derive("offline")[:32]
        self.tokens.offline(self.access_token)
        self.bucket = LeakyBucket(config.bucket_size, config.restore_rate, self.clock.now())
        self.webhooks = ShopifyWebhooks(
            shop_domain=self.shop_domain,
            secret=self.app_credentials.client_secret,
            clock=self.clock,
            faults=self.core.faults,
            client=webhook_client,
        )
        self.store.observers.append(self.webhooks)
        views = Views(self.store)
        subscriptions = WebhookSubscriptionsApi(self.webhooks)
        roots = Roots(
            {**QueryRoot(self.store, views).root(), **subscriptions.query_root()},
            {
                **MutationRoot(self.store, views, IdempotencyStore()).root(),
                **subscriptions.mutation_root(),
            },
        )
        self._graphql = GraphQLEndpoint(
            admin_schema(),
            roots,
            self.bucket,
            self.clock.now,
            throttle_status=config.throttle_status,
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
    def shop_domain(self) -> str:
        return self.config.base_url.split("://", 1)[-1].rstrip("/")

    @property
    def outbound(self) -> WebhookSender:
        return self.webhooks.sender

    @property
    def faults(self) -> FaultInjector:
        return self.core.faults

    def credentials(self) -> Mapping[str, str]:
        return {
            "shop": self.shop_domain,
            "access_token": self.access_token,
            "client_id": self.app_credentials.client_id,
            "client_secret": self.app_credentials.client_secret,
            "token_url": self.base_url.rstrip("/") + TOKEN_PATH,
        }

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Run shoppers and webhook delivery (the app's lifespan does this when served)."""
        async with self.core.running(self.webhooks.run):
            yield

    # --- omnistock.kit.sandbox.common.storefront.Storefront ---

    def shown(self) -> dict[str, int]:
        return self.store.shown()

    def shown_of(self, sku: str) -> int:
        return self.store.shown_of(sku)

    def connection(self) -> Connection:
        creds = self.credentials()
        return Connection(
            api_path="",
            credentials={k: creds[k] for k in ("client_id", "client_secret", "access_token")},
        )

    def is_write(self, call: CallRecord) -> bool:
        # Mutations count the items they set; queries set none.
        return call.operation == "graphql" and call.items > 0

    async def connect(self, webhook_url: str) -> None:
        for topic in TOPICS:
            self.webhooks.subscribe(topic, webhook_url)

    async def delivered(self) -> None:
        await self.webhooks.sender.wait_idle()

    def _starlette(self) -> Starlette:
        return Starlette(
            routes=[
                Route(GRAPHQL_PATH, self._graphql_endpoint, methods=["POST"]),
                Route(TOKEN_PATH, self.tokens.endpoint, methods=["POST"]),
                *self._admin_routes(),
            ],
            exception_handlers={404: _not_found, 405: _not_found},
            lifespan=lambda _app: self.running(),
        )

    async def _graphql_endpoint(self, request: Request) -> Response:
        if not self.tokens.valid(request.headers.get("x-shopify-access-token")):
            return await unauthorized()
        return await self._graphql(request)

    def _admin_routes(self) -> list[Route]:
        orders = OrderDesk(self.store.place_order, self._cancel, OutOfStockError)
        admin = AdminApi(
            self.core,
            extra_stats=self._stats,
            orders=orders,
            stock=self.shown,
            listings=listings_of(self),
        )
        p = ADMIN_PREFIX
        return admin.routes(
            [
                Route(f"{p}/webhooks", self._admin_subscribe, methods=["POST"]),
                Route(f"{p}/webhooks/deliveries", self._admin_deliveries, methods=["GET"]),
            ]
        )

    def _stats(self) -> dict[str, object]:
        status = self.bucket.status(self.clock.now()).to_json()
        return {
            "orders": len(self.store.orders),
            "bucket": status,
            "webhooks": self.webhooks.sender.summary(),
        }

    def _cancel(self, order_id: int) -> dict[str, object] | None:
        order = self.store.orders.get(order_id)
        if order is None:
            return None
        self.store.cancel(order, restock=True)
        return {"id": order.id, "cancelled": True}

    async def _admin_subscribe(self, request: Request) -> Response:
        body = await read_json(request)
        topic = body.get("topic") if isinstance(body, dict) else None
        uri = body.get("uri") if isinstance(body, dict) else None
        if not isinstance(topic, str) or not isinstance(uri, str):
            return bad_request('expected {"topic": "orders/create", "uri": "https://..."}')
        try:
            sub = self.webhooks.subscribe(topic, uri)
        except ValueError as exc:
            return bad_request(str(exc))
        return JSONResponse({"id": sub.id, "topic": sub.topic, "uri": sub.uri}, status_code=201)

    async def _admin_deliveries(self, request: Request) -> Response:
        return JSONResponse([o.to_json() for o in self.webhooks.sender.outcomes])


def operation_of(method: str, path: str) -> str:
    """Pure: the call-log name of a request."""
    if path == GRAPHQL_PATH:
        return "graphql"
    if path == TOKEN_PATH:
        return "oauth.access_token"
    return f"{method.upper()} {path}"


def render_fault(status: int, retry_after: float | None) -> Response:
    """An injected failure as Shopify's edge answers it (REST-style `errors` string)."""
    messages = {
        401: "[API] Invalid API key or access token (unrecognized login or wrong password)",
        429: "Exceeded the rate limit. Reduce request rates to resume uninterrupted service.",
        503: "Service Unavailable",
    }
    headers = {} if retry_after is None else {"Retry-After": f"{retry_after:.1f}"}
    message = messages.get(status, "Internal Server Error")
    return JSONResponse({"errors": message}, status_code=status, headers=headers)


async def _not_found(request: Request, exc: Exception) -> Response:
    return JSONResponse({"errors": "Not Found"}, status_code=404)
