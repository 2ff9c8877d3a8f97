"""The Shopify sandbox's one face: the emulated store as a merchant's setup sees it
(Storefront) and as the adapter contract drives it (SandboxFace): seed listings, read
what it holds, inject faults, count calls, catch webhooks, place orders.

The face alone speaks in the adapter's terms (ListingRef and its external-id keys)."""

from __future__ import annotations

from collections.abc import Sequence

from omnistock.adapters.base import ListingRef
from omnistock.adapters.shopify import INVENTORY_ITEM_ID, LOCATION_ID
from omnistock.domain.ids import ListingId, Sku
from omnistock.kit.sandbox.common.catalog import CatalogItem
from omnistock.kit.sandbox.common.face_controls import FaceControls, build_on_manual_clock
from omnistock.kit.sandbox.common.serve import SandboxOptions, from_options
from omnistock.kit.sandbox.common.storefront import StorefrontListing
from omnistock.kit.sandbox.shopify.app import ShopifyConfig, ShopifyEmulator
from omnistock.kit.sandbox.shopify.hooks import TOPICS
from omnistock.kit.sandbox.shopify.oauth import CLIENT_CREDENTIALS_TTL
from omnistock.kit.sandbox.shopify.store import InventoryItem

SIGNATURE_HEADER = "X-Shopify-Hmac-Sha256"
HOOK_URL = "https://receiver.harness.test/shopify"


class ShopifySandbox(ShopifyEmulator, FaceControls):
    """A Shopify store as far as inventory sync can see it, with the handles tests and
    benchmarks need."""

    @classmethod
    def on_manual_clock(
        cls,
        *,
        seed: int = 1,
        skus: int = 0,
        hang_s: float = 1.0,
        restore_rate: float = 100.0,
        bucket_size: float = 2000.0,
    ) -> ShopifySandbox:
        """A store whose clock only the test moves; webhooks go to an in-memory receiver."""
        config = ShopifyConfig(
            seed=seed, skus=skus, restore_rate=restore_rate, bucket_size=bucket_size
        )
        return build_on_manual_clock(
            ShopifySandbox, config, signature_header=SIGNATURE_HEADER, hang_s=hang_s
        )

    @classmethod
    def from_options(cls, options: SandboxOptions) -> ShopifySandbox:
        """The factory `omnistock.kit.sandbox.common.serve.serve_sandbox` uses."""
        return from_options(ShopifySandbox, ShopifyConfig, options)

    @property
    def location_id(self) -> int:
        """The id of the location every seeded listing is stocked at."""
        return self.store.location_by_name["main"]

    # --- listings --------------------------------------------------------------------

    def listings(self) -> list[StorefrontListing]:
        return [
            StorefrontListing(
                item.sku,
                {INVENTORY_ITEM_ID: str(item.id), LOCATION_ID: str(next(iter(item.levels)))},
            )
            for item in self.store.items.values()
            if item.levels
        ]

    def catalog_refs(self) -> list[ListingRef]:
        return [self.ref_of(item) for item in self.store.items.values()]

    def ref_of(self, item: InventoryItem) -> ListingRef:
        location = next(iter(item.levels))
        return ListingRef(
            listing=ListingId(f"shopify:{item.id}"),
            sku=Sku(item.sku),
            external_ids={INVENTORY_ITEM_ID: str(item.id), LOCATION_ID: str(location)},
        )

    async def seed(
        self, count: int, *, variants: bool = False, quantity: int = 5
    ) -> list[ListingRef]:
        """Add `count` variants (every Shopify listing is a variant; `variants` only names
        them as options of a product)."""
        refs = []
        for _ in range(count):
            sku = f"CT-{self.next_number():06d}" + ("-M" if variants else "")
            item = self.store.add_item(
                CatalogItem(
                    sku=sku,
                    title=sku,
                    option="M" if variants else None,
                    location="main",
                    initial_quantity=quantity,
                    price_cents=1000,
                )
            )
            refs.append(self.ref_of(item))
        return refs

    def unknown_listing(self) -> ListingRef:
        return ListingRef(
            listing=ListingId("shopify:missing"),
            sku=Sku("CT-MISSING"),
            external_ids={INVENTORY_ITEM_ID: "9999999", LOCATION_ID: str(self.location_id)},
        )

    def _item(self, ref: ListingRef) -> InventoryItem | None:
        return self.store.items.get(int(ref.external_ids[INVENTORY_ITEM_ID]))

    async def held(self, ref: ListingRef) -> int | None:
        item = self._item(ref)
        level = None if item is None else item.levels.get(int(ref.external_ids[LOCATION_ID]))
        return None if level is None else level.available

    async def change_externally(self, ref: ListingRef, quantity: int) -> None:
        """A merchant edits the level in the admin (fires inventory_levels/update)."""
        item = self._item(ref)
        if item is None:
            raise KeyError(f"no sandbox item for {ref.listing}")
        self.store.set_available(item, int(ref.external_ids[LOCATION_ID]), quantity)

    def fail_item_writes(self, ref: ListingRef, times: int = 1) -> None:
        """The next `times` writes of this item race another writer and come back
        CHANGE_FROM_QUANTITY_STALE (Shopify's per-item failure that a retry fixes)."""
        self.store.failing_writes[int(ref.external_ids[INVENTORY_ITEM_ID])] = times

    # --- the call log ----------------------------------------------------------------

    def expire_token(self) -> bool:
        """Let a client-credentials token's lifetime pass on the platform clock."""
        self.manual_clock.advance(CLIENT_CREDENTIALS_TTL)
        return True

    # --- webhooks and orders ---------------------------------------------------------

    async def subscribe_webhooks(
        self, topics: Sequence[str] = ("inventory_levels/update",)
    ) -> None:
        for topic in topics:
            self.webhooks.subscribe(topic, HOOK_URL)

    def subscribe_all(self) -> None:
        for topic in TOPICS:
            self.webhooks.subscribe(topic, HOOK_URL)

    async def place_orders(
        self, refs: Sequence[ListingRef], count: int, *, per_second: int
    ) -> list[str]:
        skus = [r.sku for r in refs]
        return self.place_paced(skus, count, per_second=per_second, place=self.store.place_order)
