"""WooCommerce (REST API v3) behind the ChannelAdapter protocol; see README.md.

adapter.py does the I/O; wire.py and events.py are pure; limits.py is the rate model."""

from omnistock.adapters.woocommerce.adapter import CREDENTIALS, WooCommerceAdapter, create_adapter
from omnistock.adapters.woocommerce.limits import CAPABILITIES
from omnistock.adapters.woocommerce.wire import PRODUCT_ID, VARIATION_ID

__all__ = [
    "CAPABILITIES",
    "CREDENTIALS",
    "PRODUCT_ID",
    "VARIATION_ID",
    "WooCommerceAdapter",
    "create_adapter",
]
