"""What every platform sandbox is configured with, whichever the platform: where it is
served and which catalog it sells. Each platform's config extends it with its own knobs
(and its own default address); `SandboxOptions` extends it with how the sandbox is wired
to its neighbours."""

from __future__ import annotations

from dataclasses import dataclass

from omnistock.kit.sandbox.common.catalog import CatalogSpec


@dataclass(frozen=True, slots=True, kw_only=True)
class SandboxConfig:
    base_url: str
    seed: int = 1  # the shoppers' and the credentials' seed
    # Several stores can sell one merchant's catalog: same catalog seed, own shopper seed.
    catalog_seed: int | None = None
    skus: int = 20
    variant_share: float = 0.3
    time_scale: float = 1.0

    def catalog_spec(self) -> CatalogSpec:
        seed = self.seed if self.catalog_seed is None else self.catalog_seed
        return CatalogSpec(seed=seed, skus=self.skus, variant_share=self.variant_share)
