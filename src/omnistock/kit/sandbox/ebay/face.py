"""The eBay sandbox's one face: the emulated seller account as a merchant's setup sees it
(Storefront) and as the adapter contract drives it (SandboxFace): seed listings, read
what it holds, inject faults, count calls, catch notifications, place orders.

The face alone speaks in the adapter's terms (ListingRef and its external-id keys)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from omnistock.adapters.base import ListingRef
from omnistock.adapters.ebay import LISTING_ID, VARIATION_ID
from omnistock.domain.ids import ListingId, Sku
from omnistock.kit.sandbox.common.catalog import CatalogItem
from omnistock.kit.sandbox.common.face_controls import FaceControls, build_on_manual_clock
from omnistock.kit.sandbox.common.serve import SandboxOptions, from_options
from omnistock.kit.sandbox.common.storefront import StorefrontListing
from omnistock.kit.sandbox.common.truth import OrderLine
from omnistock.kit.sandbox.ebay.app import EbayConfig, EbayEmulator
from omnistock.kit.sandbox.ebay.notifications import SIGNATURE_HEADER
from omnistock.kit.sandbox.ebay.oauth import ACCESS_TTL

HOOK_URL = "https://receiver.harness.test/ebay"
HARNESS_TOKEN = "harness-verification-token-0123456789abcdef"  # noqa: S105 - sandbox only


class EbaySandbox(EbayEmulator, FaceControls):
    """An eBay seller account as far as inventory sync can see it, with the handles tests
    and benchmarks need."""

    @classmethod
    def on_manual_clock(
        cls,
        *,
        seed: int = 1,
        skus: int = 0,
        hang_s: float = 1.0,
        quotas: Mapping[str, int] | None = None,
        write_hold_s: float = 0.0,
    ) -> EbaySandbox:
        """An account whose clock only the test moves; notifications go to an in-memory
        receiver."""
        config = EbayConfig(seed=seed, skus=skus, quotas=quotas or {}, write_hold_s=write_hold_s)
        return build_on_manual_clock(
            EbaySandbox, config, signature_header=SIGNATURE_HEADER, hang_s=hang_s
        )

    @classmethod
    def from_options(cls, options: SandboxOptions) -> EbaySandbox:
        """The factory `omnistock.kit.sandbox.common.serve.serve_sandbox` uses."""
        return from_options(EbaySandbox, EbayConfig, options)

    # --- listings --------------------------------------------------------------------

    def listings(self) -> list[StorefrontListing]:
        return [StorefrontListing(sku, self._external_ids(sku)) for sku in sorted(self.store.items)]

    def _external_ids(self, sku: str) -> dict[str, str]:
        ids = {}
        listing, variation = self.store.listing_of(sku), self.store.variation_of(sku)
        if listing:
            ids[LISTING_ID] = listing
        if variation:
            ids[VARIATION_ID] = variation
        return ids

    def ref_of(self, sku: str) -> ListingRef:
        ids = {LISTING_ID: self.store.listing_of(sku) or ""}
        variation = self.store.variation_of(sku)
        if variation is not None:
            ids[VARIATION_ID] = variation
        return ListingRef(listing=ListingId(f"ebay:{sku}"), sku=Sku(sku), external_ids=ids)

    async def seed(
        self, count: int, *, variants: bool = False, quantity: int = 5
    ) -> list[ListingRef]:
        """`count` published single-SKU listings, or one multi-variation listing (an
        inventory item group) of `count` variant SKUs."""
        number = self.next_number()
        skus = [f"CT-{number:04d}-{n:03d}" + ("-M" if variants else "") for n in range(count)]
        for sku in skus:
            spec = CatalogItem(
                sku=sku,
                title=sku,
                option="M" if variants else None,
                location="main",
                initial_quantity=quantity,
                price_cents=1000,
            )
            self.store.add_item(spec, publish=not variants)
        if variants:
            self.store.add_group(f"CT-GROUP-{number:04d}", f"Group {number}", skus)
        return [self.ref_of(sku) for sku in skus]

    def unknown_listing(self) -> ListingRef:
        return ListingRef(
            listing=ListingId("ebay:missing"),
            sku=Sku("CT-MISSING"),
            external_ids={LISTING_ID: "119999999999"},
        )

    async def held(self, ref: ListingRef) -> int | None:
        return self.store.shown_quantity(ref.sku)

    async def change_externally(self, ref: ListingRef, quantity: int) -> None:
        """The seller edits the quantity in Seller Hub (eBay notifies no one of it)."""
        item = self.store.items.get(ref.sku)
        if item is None:
            raise KeyError(f"no sandbox item for {ref.listing}")
        self.store.set_quantity(item, quantity, {})

    def fail_item_writes(self, ref: ListingRef, times: int = 1) -> None:
        """The next `times` writes of this SKU come back with per-item error 25001 (a
        system error, HTTP 500 inside a 207): eBay's retryable per-item failure."""
        self.store.failing_writes[ref.sku] = times

    # --- the call log ----------------------------------------------------------------

    def expire_token(self) -> bool:
        """Let a user token's two hours pass on the platform clock."""
        self.manual_clock.advance(ACCESS_TTL)
        return True

    # --- notifications and orders ------------------------------------------------------

    async def subscribe_webhooks(self, topics: Sequence[str] = ("ORDER_CONFIRMATION",)) -> None:
        """A destination (challenge taken as answered) and a subscription per topic."""
        self.notifications.register(HOOK_URL, HARNESS_TOKEN, topics)

    async def place_orders(
        self, refs: Sequence[ListingRef], count: int, *, per_second: int
    ) -> list[str]:
        skus = [r.sku for r in refs]
        return self.place_paced(skus, count, per_second=per_second, place=self._place_and_tell)

    def _place_and_tell(self, lines: list[OrderLine]) -> str:
        """An order eBay takes, told to the merchant's truth (eBay has no shoppers here)."""
        order_id = self.store.place_order(lines)
        self.core.truth.accept(lines)
        return order_id

    def cancel_order(self, order_id: str) -> None:
        """The buyer cancels (quantities come back; lastModifiedDate moves)."""
        self.store.cancel(self.store.orders[order_id])
