"""The Amazon sandbox's one face: the emulated seller account as a merchant's setup sees
it (Storefront) and as the adapter contract drives it (SandboxFace): seed listings, read
what it holds, inject faults, count calls, catch notifications, place orders.

Amazon applies writes later; `held` and `deliveries` first let that time pass. The face
alone speaks in the adapter's terms (ListingRef and its external-id keys)."""

from __future__ import annotations

from collections.abc import Sequence

from omnistock.adapters.amazon import ASIN, SKU
from omnistock.adapters.base import ListingRef
from omnistock.domain.ids import ListingId, Sku
from omnistock.kit.sandbox.amazon.app import AmazonConfig, AmazonEmulator
from omnistock.kit.sandbox.amazon.auth import TOKEN_TTL
from omnistock.kit.sandbox.amazon.notifications import SIGNATURE_HEADER
from omnistock.kit.sandbox.amazon.orders_api import VISIBILITY_LAG_S
from omnistock.kit.sandbox.common.face_controls import FaceControls, build_on_manual_clock
from omnistock.kit.sandbox.common.face_records import Delivery
from omnistock.kit.sandbox.common.serve import SandboxOptions, from_options
from omnistock.kit.sandbox.common.storefront import StorefrontListing

RECEIVER_URL = "https://bridge.harness.test/amazon"


class AmazonSandbox(AmazonEmulator, FaceControls):
    """One seller account in one marketplace, as far as inventory sync can see it, with
    the handles tests and benchmarks need."""

    @classmethod
    def on_manual_clock(
        cls, *, seed: int = 1, hang_s: float = 1.0, apply_delay_s: float = 5.0
    ) -> AmazonSandbox:
        """An account whose clock only the test moves; the bridge posts to an in-memory
        receiver."""
        config = AmazonConfig(seed=seed, skus=0, apply_delay_s=apply_delay_s)
        return build_on_manual_clock(
            AmazonSandbox, config, signature_header=SIGNATURE_HEADER, hang_s=hang_s
        )

    @classmethod
    def from_options(cls, options: SandboxOptions) -> AmazonSandbox:
        """The factory `omnistock.kit.sandbox.common.serve.serve_sandbox` uses."""
        return from_options(AmazonSandbox, AmazonConfig, options)

    def settle(self) -> None:
        """Let Amazon apply what it accepted (its eventual consistency delay passes)."""
        clock = self.manual_clock
        due = self.store.next_due()
        if due is not None and due > clock.now():
            clock.advance(due - clock.now())
        self.store.catch_up()
        if self.store.next_due() is not None and self.store.next_due() != due:
            self.settle()

    # --- listings ------------------------------------------------------------------------

    def listings(self) -> list[StorefrontListing]:
        """Every SKU with an MFN offer, addressed as the adapter does (SKU, ASIN)."""
        return [
            StorefrontListing(sku, {SKU: sku, ASIN: listing.asin})
            for sku, listing in sorted(self.store.listings.items())
            if listing.quantity is not None
        ]

    async def seed(
        self, count: int, *, variants: bool = False, quantity: int = 5
    ) -> list[ListingRef]:
        """Add `count` MFN listings (Amazon lists each variation as its own SKU)."""
        refs = []
        for _ in range(count):
            sku = f"CT-{self.next_number():06d}" + ("-M" if variants else "")
            listing = self.store.add_listing(sku, quantity, title=sku)
            refs.append(self._ref(sku, listing.asin))
        return refs

    def _ref(self, sku: str, asin: str) -> ListingRef:
        return ListingRef(
            listing=ListingId(f"amazon:{sku}"),
            sku=Sku(sku),
            external_ids={SKU: sku, ASIN: asin},
        )

    def unknown_listing(self) -> ListingRef:
        return self._ref("CT-MISSING", "B0MISSING0")

    async def held(self, ref: ListingRef) -> int | None:
        self.settle()
        listing = self.store.listings.get(ref.external_ids[SKU])
        return None if listing is None else listing.quantity

    async def change_externally(self, ref: ListingRef, quantity: int) -> None:
        """The merchant edits the quantity in Seller Central (applied at once)."""
        self.settle()
        self.store.set_quantity(ref.external_ids[SKU], quantity)

    def fail_item_writes(self, ref: ListingRef, times: int = 1) -> None:
        """The next `times` writes of this SKU come back with an internal-failure issue."""
        self.store.failing_writes[ref.external_ids[SKU]] = times

    # --- the call log --------------------------------------------------------------------

    def expire_token(self) -> bool:
        """Let an LWA token's hour pass on the platform clock."""
        self.manual_clock.advance(TOKEN_TTL)
        return True

    # --- notifications and orders --------------------------------------------------------

    async def subscribe_webhooks(
        self, topics: Sequence[str] = ("LISTINGS_ITEM_MFN_QUANTITY_CHANGE",)
    ) -> None:
        for topic in topics:
            self.notifications.subscribe(topic, RECEIVER_URL)

    async def deliveries(self) -> list[Delivery]:
        self.settle()
        await self.notifications.idle()
        return self.caught()

    async def place_orders(
        self, refs: Sequence[ListingRef], count: int, *, per_second: int
    ) -> list[str]:
        """Orders placed `per_second`; then the time passes that getOrders keeps hidden."""
        skus = [r.sku for r in refs]
        return self.place_paced(
            skus,
            count,
            per_second=per_second,
            place=self.store.place_order,
            then_s=VISIBILITY_LAG_S + 1,
        )
