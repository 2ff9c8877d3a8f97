"""The eBay sandbox: Sell Inventory v1, Fulfillment v1, Notification v1, Analytics rate_limit
and the OAuth token endpoint, on the sandbox kit. Build `EbaySandbox(EbayConfig(...))`."""

from omnistock.kit.sandbox.ebay.app import EbayConfig
from omnistock.kit.sandbox.ebay.face import EbaySandbox

__all__ = ["EbayConfig", "EbaySandbox"]
