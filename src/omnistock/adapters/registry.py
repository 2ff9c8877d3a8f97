"""Every platform omnistock speaks: its adapter factory and what an account needs, by name.

An explicit dict, no import-string discovery: adding a platform is one entry here. It names
adapters only; the test kit keeps its own registry of sandboxes (`omnistock.kit.sandbox`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

import httpx

from omnistock.adapters.amazon import CREDENTIALS as AMAZON_CREDENTIALS
from omnistock.adapters.amazon import AmazonSettings
from omnistock.adapters.amazon import create_adapter as create_amazon_adapter
from omnistock.adapters.base import ChannelAdapter
from omnistock.adapters.ebay import CREDENTIALS as EBAY_CREDENTIALS
from omnistock.adapters.ebay import EbaySettings
from omnistock.adapters.ebay import create_adapter as create_ebay_adapter
from omnistock.adapters.secrets import Secret
from omnistock.adapters.shopify import CREDENTIALS as SHOPIFY_CREDENTIALS
from omnistock.adapters.shopify import create_adapter as create_shopify_adapter
from omnistock.adapters.woocommerce import CREDENTIALS as WOOCOMMERCE_CREDENTIALS
from omnistock.adapters.woocommerce import create_adapter as create_woocommerce_adapter
from omnistock.clock import Timer
from omnistock.domain.account_settings import AccountSettings
from omnistock.domain.ids import AccountId


class AdapterFactory(Protocol):
    def __call__(
        self,
        account: AccountId,
        settings: AccountSettings,
        credentials: Mapping[str, Secret],
        *,
        timer: Timer,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: httpx.Timeout = ...,
    ) -> ChannelAdapter:
        """Build the account's adapter (and its HTTP client); ConfigError if misconfigured.
        `transport` lets tests and the demo route the client to an in-process sandbox;
        `timeout` bounds each call (default: the adapters' `DEFAULT_TIMEOUT`)."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class Platform:
    name: str
    create_adapter: AdapterFactory
    default_base_url_hint: str  # what `base_url` looks like for a real account
    credentials: tuple[str, ...]  # the secrets an account needs, by the platform's names
    # Its accounts' settings: the common model, or one adding the platform's own.
    settings: type[AccountSettings] = AccountSettings


# In the order the demo and the benchmarks list them.
PLATFORMS: dict[str, Platform] = {
    "woocommerce": Platform(
        name="woocommerce",
        create_adapter=create_woocommerce_adapter,
        default_base_url_hint="https://{site}/wp-json/wc/v3/",
        credentials=WOOCOMMERCE_CREDENTIALS,
    ),
    "shopify": Platform(
        name="shopify",
        create_adapter=create_shopify_adapter,
        default_base_url_hint="https://{shop}.myshopify.com",
        credentials=SHOPIFY_CREDENTIALS,
    ),
    "amazon": Platform(
        name="amazon",
        create_adapter=create_amazon_adapter,
        default_base_url_hint="https://sellingpartnerapi-{na|eu|fe}.amazon.com",
        credentials=AMAZON_CREDENTIALS,
        settings=AmazonSettings,
    ),
    "ebay": Platform(
        name="ebay",
        create_adapter=create_ebay_adapter,
        default_base_url_hint="https://api.ebay.com",
        credentials=EBAY_CREDENTIALS,
        settings=EbaySettings,
    ),
}
