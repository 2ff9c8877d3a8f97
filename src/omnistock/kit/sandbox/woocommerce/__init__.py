"""WooCommerce REST API v3 sandbox (`/wp-json/wc/v3/`): products, variations, orders, webhooks.

`WooSandbox(WooConfig(...)).app` is the ASGI app; see README.md for what it covers.
"""

from omnistock.kit.sandbox.woocommerce.app import WooConfig
from omnistock.kit.sandbox.woocommerce.auth import sign_oauth, signature_base_string
from omnistock.kit.sandbox.woocommerce.face import WooSandbox
from omnistock.kit.sandbox.woocommerce.hooks import sign_payload

__all__ = ["WooConfig", "WooSandbox", "sign_oauth", "sign_payload", "signature_base_string"]
