"""eBay (Sell Inventory v1, Fulfillment v1, Notification v1) behind the ChannelAdapter
protocol; see README.md. adapter.py and session.py do the I/O; the rest is pure."""

from omnistock.adapters.ebay.adapter import CREDENTIALS, EbayAdapter, create_adapter
from omnistock.adapters.ebay.limits import CAPABILITIES
from omnistock.adapters.ebay.session import EbaySession
from omnistock.adapters.ebay.settings import EbaySettings
from omnistock.adapters.ebay.wire import LISTING_ID, SKU, VARIATION_ID

__all__ = [
    "CAPABILITIES",
    "CREDENTIALS",
    "LISTING_ID",
    "SKU",
    "VARIATION_ID",
    "EbayAdapter",
    "EbaySession",
    "EbaySettings",
    "create_adapter",
]
