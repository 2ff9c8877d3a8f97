"""The Shopify Admin GraphQL API (2026-04) sandbox; see README.md.

`ShopifySandbox(ShopifyConfig(...)).app` is the ASGI app; `harness.py` drives it in tests."""

from omnistock.kit.sandbox.shopify.app import ShopifyConfig, ShopifySandbox

__all__ = ["ShopifyConfig", "ShopifySandbox"]
