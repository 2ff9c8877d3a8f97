"""The WooCommerce sandbox's one face: the emulated site as a merchant's setup sees it
(Storefront) and as the adapter contract drives it (SandboxFace): seed listings, read
what it holds, inject faults, count calls, catch webhooks, place orders.

The face alone speaks in the adapter's terms (ListingRef and its external-id keys)."""

from __future__ import annotations

from collections.abc import Sequence

from omnistock.adapters.base import ListingRef
from omnistock.adapters.woocommerce import PRODUCT_ID, VARIATION_ID
from omnistock.domain.ids import ListingId, Sku
from omnistock.kit.sandbox.common.catalog import CatalogItem, CatalogProduct
from omnistock.kit.sandbox.common.face_controls import FaceControls, build_on_manual_clock
from omnistock.kit.sandbox.common.serve import SandboxOptions, from_options
from omnistock.kit.sandbox.common.storefront import StorefrontListing
from omnistock.kit.sandbox.woocommerce.app import WooConfig, WooEmulator
from omnistock.kit.sandbox.woocommerce.http import API_PREFIX
from omnistock.kit.sandbox.woocommerce.store import Item, WooProduct, WooVariation

SIGNATURE_HEADER = "x-wc-webhook-signature"
HOOK_URL = "https://receiver.harness.test/woo"
_OPTIONS = ("S", "M", "L", "XL", "XXL")


class WooSandbox(WooEmulator, FaceControls):
    """A WooCommerce site as far as inventory sync can see it, with the handles tests and
    benchmarks need."""

    @classmethod
    def on_manual_clock(
        cls, *, webhook_secret: str, seed: int = 1, skus: int = 0, hang_s: float = 1.0
    ) -> WooSandbox:
        """A site whose clock only the test moves; webhooks go to an in-memory receiver."""
        config = WooConfig(seed=seed, skus=skus, variant_share=0.0, webhook_secret=webhook_secret)
        return build_on_manual_clock(
            WooSandbox, config, signature_header=SIGNATURE_HEADER, hang_s=hang_s
        )

    @classmethod
    def from_options(cls, options: SandboxOptions) -> WooSandbox:
        """The factory `omnistock.kit.sandbox.common.serve.serve_sandbox` uses."""
        return from_options(WooSandbox, WooConfig, options)

    def api_url(self, server_url: str | None = None) -> str:
        return (server_url or self.base_url).rstrip("/") + API_PREFIX + "/"

    # --- listings --------------------------------------------------------------------

    def listings(self) -> list[StorefrontListing]:
        return [
            StorefrontListing(item.sku, _listing_ids(item))
            for item in self.store.sellable()
            if item.sku
        ]

    def catalog_refs(self) -> list[ListingRef]:
        """Refs for every simple product the sandbox started with (the bench uses them)."""
        products = self.store.products.values()
        return [_ref(p.sku, p.id, None) for p in products if p.type == "simple"]

    async def seed(
        self, count: int, *, variants: bool = False, quantity: int = 5
    ) -> list[ListingRef]:
        """Add `count` sellable listings (simple products, or variations five to a parent)."""
        refs: list[ListingRef] = []
        while len(refs) < count:
            size = min(len(_OPTIONS), count - len(refs)) if variants else 1
            refs.extend(self._add(size, quantity, variable=variants))
        return refs

    def _add(self, size: int, quantity: int, *, variable: bool) -> list[ListingRef]:
        sku = f"CT-{self.next_number():06d}"
        options = _OPTIONS[:size] if variable else (None,)
        items = tuple(
            CatalogItem(
                sku=f"{sku}-{opt}" if opt else sku,
                title=sku,
                option=opt,
                location="main",
                initial_quantity=quantity,
                price_cents=1000,
            )
            for opt in options
        )
        store = self.store
        pid = store.add_product(CatalogProduct(sku=sku, title=sku, variable=variable, items=items))
        if not variable:
            return [_ref(sku, pid, None)]
        return [_ref(store.variations[v].sku, pid, v) for v in store.products[pid].variation_ids]

    def unknown_listing(self) -> ListingRef:
        return _ref("CT-MISSING", 9_999_999, None)

    async def held(self, ref: ListingRef) -> int | None:
        """The quantity the sandbox holds for `ref` (None: missing or not managed)."""
        item = self._item(ref)
        holder = None if item is None else self.store.stock_holder(item)
        return None if holder is None else holder.stock_quantity

    def _item(self, ref: ListingRef) -> Item | None:
        ids = ref.external_ids
        if VARIATION_ID in ids:
            return self.store.variations.get(int(ids[VARIATION_ID]))
        return self.store.products.get(int(ids[PRODUCT_ID]))

    def _existing(self, ref: ListingRef) -> Item:
        item = self._item(ref)
        if item is None:
            raise KeyError(f"no sandbox item for {ref.listing}")
        return item

    async def change_externally(self, ref: ListingRef, quantity: int) -> None:
        """A merchant edits the stock in wp-admin: a save that fires product.updated."""
        item = self._existing(ref)
        item.manage_stock, item.stock_quantity = True, quantity
        self.store.touch(item)

    def fail_item_writes(self, ref: ListingRef, times: int = 1) -> None:
        """The next `times` writes of this one item fail with a database error."""
        item = self._existing(ref)
        self.store.failing_writes[item.id] = times

    # --- the call log ----------------------------------------------------------------

    def expire_token(self) -> bool:
        """WooCommerce keys do not expire: there is no token to expire."""
        return False

    # --- webhooks and orders ---------------------------------------------------------

    async def subscribe_webhooks(self, topics: Sequence[str] = ("product.updated",)) -> None:
        for topic in topics:
            self.webhooks.create(
                name=topic,
                topic=topic,
                url=HOOK_URL,
                secret=self._webhook_secret(),
                status="active",
            )

    async def place_orders(
        self, refs: Sequence[ListingRef], count: int, *, per_second: int
    ) -> list[str]:
        """Paid checkouts of one unit each, `per_second` of them in each platform second."""
        skus = [r.sku for r in refs]
        return self.place_paced(skus, count, per_second=per_second, place=self.store.place_order)


def _listing_ids(item: WooProduct | WooVariation) -> dict[str, str]:
    if isinstance(item, WooProduct):
        return {PRODUCT_ID: str(item.id)}
    return {PRODUCT_ID: str(item.parent_id), VARIATION_ID: str(item.id)}


def _ref(sku: str, product_id: int, variation_id: int | None) -> ListingRef:
    ids = {PRODUCT_ID: str(product_id)}
    if variation_id is not None:
        ids[VARIATION_ID] = str(variation_id)
    listing = ListingId(f"woo:{variation_id or product_id}")
    return ListingRef(listing=listing, sku=Sku(sku), external_ids=ids)
