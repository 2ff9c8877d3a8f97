"""WooCommerce passes the adapter contract over a real loopback socket (uvicorn)."""

from __future__ import annotations

from tests.contract.test_adapter_woocommerce import WooCommerceContract


class TestWooCommerceServed(WooCommerceContract):
    transport = "socket"
