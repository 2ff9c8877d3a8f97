"""Linking, pure: which discovered channel listings are the catalog's SKUs, matched by the
channel's SKU, and why every other listing is left alone (so never pushed to).

Rules, in order, each listing landing in exactly one bucket:
1. `unmanaged`: the channel does not track its stock; never linked.
2. `elsewhere`: a location was chosen and the listing is stocked at another one.
3. `unmatched`: no SKU, or a SKU the catalog does not have.
4. `duplicates`: two or more listings share the SKU on the account (or, normalised, claim
   one catalog SKU): none of them is linked, since pushing to each would show the stock
   twice (a Shopify variant stocked at two locations is two listings).
5. `linked`: one listing, one catalog SKU.
Normalisation (opt-in) is tried only for listings the exact match left unmatched, so it
can only add links, never take one away."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from omnistock.domain.ids import Sku


class ChannelListing(Protocol):
    """What linking reads of a discovered listing (adapters' DiscoveredListing has it)."""

    @property
    def key(self) -> str: ...
    @property
    def sku(self) -> str | None: ...
    @property
    def managed(self) -> bool: ...
    @property
    def location(self) -> str | None: ...


L = TypeVar("L", bound=ChannelListing)


@dataclass(frozen=True, slots=True)
class Link(Generic[L]):
    sku: Sku  # the catalog's SKU (the listing's own may differ in case or spaces)
    listing: L


@dataclass(frozen=True, slots=True, kw_only=True)
class LinkReport(Generic[L]):
    linked: tuple[Link[L], ...]
    unmatched: tuple[L, ...]
    duplicates: tuple[L, ...]
    unmanaged: tuple[L, ...]
    elsewhere: tuple[L, ...]
    missing: tuple[Sku, ...]  # catalog SKUs no listing is linked to

    def counts(self) -> dict[str, int]:
        return {
            "linked": len(self.linked),
            "unmatched": len(self.unmatched),
            "duplicates": len(self.duplicates),
            "unmanaged": len(self.unmanaged),
            "elsewhere": len(self.elsewhere),
            "missing": len(self.missing),
        }


def normalise_sku(sku: str) -> str:
    """The SKU without any whitespace (surrounding or internal), case-folded."""
    return "".join(sku.split()).casefold()


def link_listings(
    listings: Iterable[L],
    catalog: Collection[Sku],
    *,
    normalise: bool = False,
    location: str | None = None,
) -> LinkReport[L]:
    """Match `listings` (keys unique) to `catalog` SKUs; see the module docstring.

    `location`: link only listings stocked there (listings without a location qualify)."""
    buckets: dict[str, list[L]] = {"unmanaged": [], "elsewhere": [], "unmatched": []}
    eligible: list[L] = []
    for listing in listings:
        reason = _excluded(listing, location)
        if reason is None:
            eligible.append(listing)
        else:
            buckets[reason].append(listing)
    linked, pending, duplicates = _exact(eligible, frozenset(catalog))
    if normalise:
        more, pending, clashing = _normalised(pending, catalog, {link.sku for link in linked})
        linked, duplicates = linked + more, duplicates + clashing
    taken = {link.sku for link in linked}
    return LinkReport(
        linked=tuple(sorted(linked, key=lambda x: x.listing.key)),
        unmatched=_by_key([*buckets["unmatched"], *pending]),
        duplicates=_by_key(duplicates),
        unmanaged=_by_key(buckets["unmanaged"]),
        elsewhere=_by_key(buckets["elsewhere"]),
        missing=tuple(sorted(s for s in set(catalog) if s not in taken)),
    )


def _excluded(listing: ChannelListing, location: str | None) -> str | None:
    if not listing.managed:
        return "unmanaged"
    if location is not None and listing.location not in (None, location):
        return "elsewhere"
    if not listing.sku:
        return "unmatched"
    return None


def _exact(
    eligible: Sequence[L], catalog: frozenset[Sku]
) -> tuple[list[Link[L]], list[L], list[L]]:
    """(linked, unmatched, duplicates) by the SKU exactly as the channel spells it."""
    groups = _grouped(eligible, lambda sku: sku)
    linked: list[Link[L]] = []
    unmatched: list[L] = []
    duplicates: list[L] = []
    for sku, group in groups.items():
        if len(group) > 1:
            duplicates.extend(group)
        elif Sku(sku) in catalog:
            linked.append(Link(Sku(sku), group[0]))
        else:
            unmatched.extend(group)
    return linked, unmatched, duplicates


def _normalised(
    pending: Sequence[L], catalog: Collection[Sku], taken: set[Sku]
) -> tuple[list[Link[L]], list[L], list[L]]:
    """(linked, still unmatched, duplicates) among what the exact match left unmatched.

    A catalog SKU already linked exactly makes a listing normalising to it a duplicate; a
    normalised form two catalog SKUs share matches neither (the listing stays unmatched)."""
    by_form: dict[str, list[Sku]] = {}
    for sku in catalog:
        by_form.setdefault(normalise_sku(sku), []).append(sku)
    linked: list[Link[L]] = []
    unmatched: list[L] = []
    duplicates: list[L] = []
    for form, group in _grouped(pending, normalise_sku).items():
        candidates = by_form.get(form, [])
        if len(candidates) != 1:
            unmatched.extend(group)
        elif len(group) > 1 or candidates[0] in taken:
            duplicates.extend(group)
        else:
            linked.append(Link(candidates[0], group[0]))
    return linked, unmatched, duplicates


def _grouped(listings: Iterable[L], form: _Form) -> dict[str, list[L]]:
    groups: dict[str, list[L]] = {}
    for listing in listings:
        groups.setdefault(form(listing.sku or ""), []).append(listing)
    return groups


class _Form(Protocol):
    def __call__(self, sku: str, /) -> str: ...


def _by_key(listings: Iterable[L]) -> tuple[L, ...]:
    return tuple(sorted(listings, key=lambda x: x.key))
