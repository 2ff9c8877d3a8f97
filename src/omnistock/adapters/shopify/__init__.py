"""Shopify (Admin GraphQL API 2026-04) behind the ChannelAdapter protocol; see README.md.

adapter.py does the I/O; wire.py and events.py are pure; limits.py is the rate model."""

from omnistock.adapters.shopify.adapter import CREDENTIALS, ShopifyAdapter, create_adapter
from omnistock.adapters.shopify.limits import CAPABILITIES
from omnistock.adapters.shopify.wire import INVENTORY_ITEM_ID, LOCATION_ID, VARIANT_ID

__all__ = [
    "CAPABILITIES",
    "CREDENTIALS",
    "INVENTORY_ITEM_ID",
    "LOCATION_ID",
    "VARIANT_ID",
    "ShopifyAdapter",
    "create_adapter",
]
