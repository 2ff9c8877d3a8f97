"""What makes a seeded shop look like one that already sells: listings whose stock the
platform does not track, and SKUs two listings share. Pure and seeded, the same on every
platform; each sandbox applies the plan to its own listings (in its own seed order)."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class ListingMix:
    unmanaged_share: float = 0.0  # listings whose stock the platform does not manage
    duplicate_skus: int = 0  # listings given the SKU of another listing

    def __post_init__(self) -> None:
        if not 0.0 <= self.unmanaged_share <= 1.0:
            raise ValueError("unmanaged_share must be between 0 and 1")
        if self.duplicate_skus < 0:
            raise ValueError("duplicate_skus must be >= 0")

    def plan(self, count: int, seed: int) -> MixPlan:
        """Which of `count` listings (by seed order) are unmanaged, and which take the SKU
        of which other listing (a copy never copies a copy; at most count // 2 copies)."""
        rng = random.Random(f"mix:{seed}")
        unmanaged = frozenset(rng.sample(range(count), round(count * self.unmanaged_share)))
        pairs = min(self.duplicate_skus, count // 2)
        chosen = rng.sample(range(count), 2 * pairs)
        copies = dict(zip(chosen[:pairs], chosen[pairs:], strict=True))
        return MixPlan(unmanaged=unmanaged, copies=copies)


@dataclass(frozen=True, slots=True, kw_only=True)
class MixPlan:
    unmanaged: frozenset[int]
    copies: dict[int, int]  # listing index -> index of the listing whose SKU it takes
