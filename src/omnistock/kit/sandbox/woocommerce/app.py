"""The WooCommerce REST API v3 emulator: one object that owns the store, the API and the admin.

The face tests and merchants use is `WooSandbox` (`face.py`), built on this; talk to its
`.app` in-process or serve it with uvicorn.
"""

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

from omnistock.kit.sandbox.common.admin import AdminApi, OrderDesk, listings_of
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
from omnistock.kit.sandbox.woocommerce.api_orders import OrdersApi
from omnistock.kit.sandbox.woocommerce.api_products import ProductsApi
from omnistock.kit.sandbox.woocommerce.api_webhooks import WebhooksApi
from omnistock.kit.sandbox.woocommerce.auth import Credentials, WooAuthenticator
from omnistock.kit.sandbox.woocommerce.errors import host_fault, no_route
from omnistock.kit.sandbox.woocommerce.hooks import WooWebhooks
from omnistock.kit.sandbox.woocommerce.http import API_PREFIX, Handler, guarded, operation_of
from omnistock.kit.sandbox.woocommerce.representation import Site
from omnistock.kit.sandbox.woocommerce.seeding import shape_catalog
from omnistock.kit.sandbox.woocommerce.store import (
    OutOfStockError,
    WooStore,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class WooConfig(SandboxConfig):
    """Everything a WooCommerce sandbox is built from. Keys derive from the seed if not given."""

    base_url: str = "http://woo.sandbox.test"
    consumer_key: str | None = None
    consumer_secret: str | None = None
    # Real sites accept Basic only over HTTPS; tests talk plain HTTP on loopback.
    allow_basic_over_http: bool = True
    utc_offset_minutes: int = 0
    webhook_secret: str | None = None  # what merchants sign webhooks with; else from the seed
    shopper_rate: float = 0.0
    faults: FaultSettings = field(default_factory=FaultSettings)
    # A site that already sells (onboarding): unmanaged listings, shared SKUs, and the
    # share of variable products whose parent holds the stock.
    mix: ListingMix = field(default_factory=ListingMix)
    parent_stock_share: float = 0.0

    def credentials(self) -> Credentials:
        def derive(kind: str) -> str:
            return hashlib.sha1(f"{kind}:{self.seed}".encode(), usedforsecurity=False).hexdigest()

        return Credentials(
            consumer_key=self.consumer_key or f"ck_{derive('key')}",
            consumer_secret=self.consumer_secret or f"cs_{derive('secret')}",
        )


# The operations that set stock, as the call log names them.
WRITE_OPERATIONS = frozenset(
    {"products.batch", "variations.batch", "products.update", "variations.update"}
)
# What a merchant points at omnistock: orders (placed, changed) and stock edits.
STOREFRONT_TOPICS = ("order.created", "order.updated", "product.updated")


class WooEmulator:
    """A WooCommerce site as far as inventory sync can see it."""

    platform = "woocommerce"

    def __init__(
        self,
        config: WooConfig | None = None,
        *,
        clock: SandboxClock | None = None,
        webhook_client: httpx.AsyncClient | None = None,
        truth: TruthBook | None = None,
    ) -> None:
        self.config = config = config or WooConfig()
        self.clock = clock or ScaledClock(config.time_scale)
        spec = config.catalog_spec()
        self.catalog = build_catalog(spec)
        self.store = WooStore(self.clock, self.catalog)
        shape_catalog(self.store, config.mix, config.parent_stock_share, spec.seed)
        self.site = Site(config.base_url, config.utc_offset_minutes * 60)
        self.core = SandboxCore(
            clock=self.clock,
            shop=self.store,
            seed=config.seed,
            faults=config.faults,
            shopper_rate=config.shopper_rate,
            truth=truth,
        )
        self.webhooks = WooWebhooks(
            site=self.site,
            store=self.store,
            clock=self.clock,
            faults=self.core.faults,
            client=webhook_client,
            salt=self.credentials()["consumer_secret"],
        )
        self.store.observers.append(self.webhooks)
        self.auth = WooAuthenticator(
            config.credentials(), self.clock, allow_basic_over_http=config.allow_basic_over_http
        )
        self._app = FaultMiddleware(
            self._starlette(), core=self.core, operation_of=operation_of, render_fault=host_fault
        )

    @property
    def app(self) -> ASGIApp:
        return self._app

    @property
    def base_url(self) -> str:
        return self.site.base_url

    @property
    def outbound(self) -> WebhookSender:
        return self.webhooks.sender

    @property
    def faults(self) -> FaultInjector:
        return self.core.faults

    def credentials(self) -> Mapping[str, str]:
        creds = self.config.credentials()
        return {"consumer_key": creds.consumer_key, "consumer_secret": creds.consumer_secret}

    @asynccontextmanager
    async def running(self) -> AsyncIterator[None]:
        """Run shoppers and webhook delivery (the app's lifespan does this when served)."""
        async with self.core.running(self.webhooks.sender.run):
            yield

    # --- omnistock.kit.sandbox.common.storefront.Storefront ---

    def shown(self) -> dict[str, int]:
        return self.store.shown()

    def shown_of(self, sku: str) -> int:
        return self.store.shown_of(sku)

    def connection(self) -> Connection:
        return Connection(
            api_path=f"{API_PREFIX}/",
            credentials={**self.credentials(), "webhook_secret": self._webhook_secret()},
        )

    def is_write(self, call: CallRecord) -> bool:
        return call.operation in WRITE_OPERATIONS

    async def connect(self, webhook_url: str) -> None:
        for topic in STOREFRONT_TOPICS:
            self.webhooks.create(
                name=f"omnistock {topic}",
                topic=topic,
                url=webhook_url,
                secret=self._webhook_secret(),
                status="active",
            )

    async def delivered(self) -> None:
        await self.webhooks.sender.wait_idle()

    def _webhook_secret(self) -> str:
        if self.config.webhook_secret is not None:
            return self.config.webhook_secret
        return (
            "whs_"
            + hashlib.sha1(
                f"webhook:{self.config.seed}".encode(), usedforsecurity=False
            ).hexdigest()
        )

    def _starlette(self) -> Starlette:
        return Starlette(
            routes=[*self._api_routes(), *self._admin_routes()],
            exception_handlers={404: _not_found, 405: _not_found},
            lifespan=lambda _app: self.running(),
        )

    def _api_routes(self) -> list[Route]:
        products = ProductsApi(self.store, self.site)
        orders = OrdersApi(self.store, self.site)
        hooks = WebhooksApi(self.webhooks, self.site)
        p, v = "/products/{product_id}", "/products/{product_id}/variations"
        table: list[tuple[str, str, Handler]] = [
            ("GET", "/products", products.list_products),
            ("POST", "/products/batch", products.batch_products),
            ("GET", p, products.get_product),
            ("PUT", p, products.update_product),
            ("GET", v, products.list_variations),
            ("POST", f"{v}/batch", products.batch_variations),
            ("GET", f"{v}/{{variation_id}}", products.get_variation),
            ("PUT", f"{v}/{{variation_id}}", products.update_variation),
            ("GET", "/orders", orders.list_orders),
            ("GET", "/orders/{order_id}", orders.get_order),
            ("PUT", "/orders/{order_id}", orders.update_order),
            ("GET", "/webhooks", hooks.list_hooks),
            ("POST", "/webhooks", hooks.create),
            ("GET", "/webhooks/{webhook_id}", hooks.get),
            ("PUT", "/webhooks/{webhook_id}", hooks.update),
            ("DELETE", "/webhooks/{webhook_id}", hooks.delete),
        ]
        return [
            Route(API_PREFIX + path, guarded(self.auth, handler), methods=[method])
            for method, path, handler in table
        ]

    def _admin_routes(self) -> list[Route]:
        orders = OrderDesk(self.store.place_order, self._cancel, OutOfStockError)
        admin = AdminApi(
            self.core,
            extra_stats=self._stats,
            orders=orders,
            stock=self.shown,
            listings=listings_of(self),
        )
        deliveries = f"{ADMIN_PREFIX}/webhooks/deliveries"
        return admin.routes([Route(deliveries, self._admin_deliveries, methods=["GET"])])

    def _stats(self) -> dict[str, object]:
        return {"orders": len(self.store.orders), "webhooks": self.webhooks.sender.summary()}

    def _cancel(self, order_id: int) -> dict[str, object] | None:
        order = self.store.orders.get(order_id)
        if order is None:
            return None
        self.store.set_order_status(order, "cancelled")
        return {"id": order.id, "status": order.status}

    async def _admin_deliveries(self, request: Request) -> Response:
        return JSONResponse([o.to_json() for o in self.webhooks.sender.outcomes])


async def _not_found(request: Request, exc: Exception) -> Response:
    return no_route().response()
