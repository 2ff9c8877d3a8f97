"""The sandboxes by platform name, and the one function the CLI calls to serve one.

An explicit dict: adding a platform is one line here.
"""

from __future__ import annotations

from collections.abc import Callable

from omnistock.kit.sandbox.amazon.face import AmazonSandbox
from omnistock.kit.sandbox.common.serve import (
    ReadyCallback,
    ready_line,
    serve_sandbox,
    write_ready_line,
)
from omnistock.kit.sandbox.common.storefront import Storefront, StorefrontFactory
from omnistock.kit.sandbox.ebay.face import EbaySandbox
from omnistock.kit.sandbox.shopify.face import ShopifySandbox
from omnistock.kit.sandbox.woocommerce.face import WooSandbox

SANDBOXES: dict[str, StorefrontFactory] = {
    "woocommerce": WooSandbox.from_options,
    "shopify": ShopifySandbox.from_options,
    "ebay": EbaySandbox.from_options,
    "amazon": AmazonSandbox.from_options,
}


async def serve(
    platform: str,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    seed: int = 1,
    skus: int = 20,
    time_scale: float = 1.0,
    ready: ReadyCallback = write_ready_line,
    announce: Callable[[Storefront, str], str] | None = None,
) -> None:
    """Serve the `platform` sandbox until cancelled; `ready` gets one JSON line once
    listening, what `announce` says of it (default: its URLs and credentials).

    Raises KeyError for an unknown platform (see SANDBOXES)."""
    factory = SANDBOXES[platform]
    await serve_sandbox(
        factory,
        host=host,
        port=port,
        seed=seed,
        skus=skus,
        time_scale=time_scale,
        ready=ready,
        announce=announce or ready_line,
    )
