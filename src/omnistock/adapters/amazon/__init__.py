"""Amazon Selling Partner API behind the ChannelAdapter protocol; see README.md.

adapter.py and bulk.py do the I/O; wire.py, feeds.py and events.py are pure; limits.py rates."""

from omnistock.adapters.amazon.adapter import CREDENTIALS, AmazonAdapter, create_adapter
from omnistock.adapters.amazon.events import ASIN, SIGNATURE_HEADER
from omnistock.adapters.amazon.limits import CAPABILITIES
from omnistock.adapters.amazon.settings import MARKETPLACE_ID, AmazonSettings
from omnistock.adapters.amazon.wire import PRODUCT_TYPE, SKU

__all__ = [
    "ASIN",
    "CAPABILITIES",
    "CREDENTIALS",
    "MARKETPLACE_ID",
    "PRODUCT_TYPE",
    "SIGNATURE_HEADER",
    "SKU",
    "AmazonAdapter",
    "AmazonSettings",
    "create_adapter",
]
