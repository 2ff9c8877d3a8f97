"""A seeded, deterministic catalog that every sandbox starts from.

The same seed gives the same products, variants, locations and starting stock on every platform.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

_OPTIONS = ("S", "M", "L", "XL", "XXL")
_NOUNS = ("Mug", "Shirt", "Cap", "Poster", "Sock", "Tote", "Lamp", "Notebook", "Scarf", "Pin")
_ADJECTIVES = ("Blue", "Vintage", "Organic", "Classic", "Bold", "Tiny", "Forest", "Sunny")


@dataclass(frozen=True, slots=True, kw_only=True)
class CatalogItem:
    """A sellable SKU: a simple product or one variant of a variable product."""

    sku: str
    title: str
    option: str | None
    location: str
    initial_quantity: int
    price_cents: int


@dataclass(frozen=True, slots=True, kw_only=True)
class CatalogProduct:
    """A product; `variable` products sell only through their variants."""

    sku: str
    title: str
    variable: bool
    items: tuple[CatalogItem, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Catalog:
    """The products and the locations their stock sits in."""

    seed: int
    products: tuple[CatalogProduct, ...]
    locations: tuple[str, ...]

    @property
    def items(self) -> tuple[CatalogItem, ...]:
        return tuple(item for product in self.products for item in product.items)

    def skus(self) -> tuple[str, ...]:
        return tuple(item.sku for item in self.items)


@dataclass(frozen=True, slots=True, kw_only=True)
class CatalogSpec:
    """How to draw a catalog: `skus` sellable SKUs, a share of them in variable products."""

    seed: int = 1
    skus: int = 20
    variant_share: float = 0.3
    locations: tuple[str, ...] = ("main",)
    max_quantity: int = 40


def build_catalog(spec: CatalogSpec) -> Catalog:
    """Draw the catalog for `spec`; pure and deterministic in the seed."""
    rng = random.Random(spec.seed)
    products: list[CatalogProduct] = []
    remaining = spec.skus
    while remaining > 0:
        size = _variant_count(rng, spec, remaining)
        products.append(_product(rng, spec, len(products) + 1, size))
        remaining -= size
    return Catalog(seed=spec.seed, products=tuple(products), locations=spec.locations)


def _variant_count(rng: random.Random, spec: CatalogSpec, remaining: int) -> int:
    """1 means a simple product; n > 1 means a variable product with n variants."""
    if remaining < 2 or rng.random() >= spec.variant_share:
        return 1
    return min(rng.randint(2, len(_OPTIONS)), remaining)


def _product(rng: random.Random, spec: CatalogSpec, number: int, size: int) -> CatalogProduct:
    sku = f"OS-{number:05d}"
    title = f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)}"
    if size == 1:
        item = _item(rng, spec, sku=sku, title=title, option=None)
        return CatalogProduct(sku=sku, title=title, variable=False, items=(item,))
    items = tuple(
        _item(rng, spec, sku=f"{sku}-{opt}", title=f"{title} - {opt}", option=opt)
        for opt in _OPTIONS[:size]
    )
    return CatalogProduct(sku=sku, title=title, variable=True, items=items)


def _item(
    rng: random.Random, spec: CatalogSpec, *, sku: str, title: str, option: str | None
) -> CatalogItem:
    return CatalogItem(
        sku=sku,
        title=title,
        option=option,
        location=rng.choice(spec.locations),
        initial_quantity=rng.randint(0, spec.max_quantity),
        price_cents=rng.randint(300, 9_900),
    )
