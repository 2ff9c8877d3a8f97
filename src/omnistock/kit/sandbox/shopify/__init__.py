"""The Shopify Admin GraphQL API (2026-04) sandbox; see README.md.

`ShopifySandbox(ShopifyConfig(...)).app` is the ASGI app; tests drive the same object."""

from omnistock.kit.sandbox.shopify.app import ShopifyConfig
from omnistock.kit.sandbox.shopify.face import ShopifySandbox

__all__ = ["ShopifyConfig", "ShopifySandbox"]
