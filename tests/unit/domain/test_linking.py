"""Linking discovered listings to catalog SKUs: the buckets, and their invariants."""

from __future__ import annotations

import random
from dataclasses import dataclass

from hypothesis import given
from hypothesis import strategies as st

from omnistock.domain.ids import Sku
from omnistock.domain.linking import LinkReport, link_listings, normalise_sku


@dataclass(frozen=True, slots=True)
class Found:
    key: str
    sku: str | None
    managed: bool = True
    location: str | None = None


def _keys(items: tuple[Found, ...]) -> list[str]:
    return [x.key for x in items]


def _linked(report: LinkReport[Found]) -> dict[str, str]:
    return {link.listing.key: link.sku for link in report.linked}


def test_each_rule_puts_a_listing_in_its_bucket() -> None:
    found = [
        Found("1", "A"),
        Found("2", "B", managed=False),
        Found("3", None),
        Found("4", ""),
        Found("5", "ZZ"),
        Found("6", "D"),
        Found("7", "D"),
    ]
    report = link_listings(found, {Sku("A"), Sku("B"), Sku("C"), Sku("D")})
    assert _linked(report) == {"1": "A"}
    assert _keys(report.unmanaged) == ["2"]
    assert _keys(report.unmatched) == ["3", "4", "5"]
    assert _keys(report.duplicates) == ["6", "7"]
    assert report.missing == ("B", "C", "D")
    assert report.counts()["duplicates"] == 2


def test_exact_match_is_case_and_space_sensitive_unless_normalising() -> None:
    found = [Found("1", " os-1 "), Found("2", "OS 2")]
    catalog = {Sku("OS-1"), Sku("OS2")}
    assert link_listings(found, catalog).linked == ()
    assert _linked(link_listings(found, catalog, normalise=True)) == {"1": "OS-1", "2": "OS2"}


def test_normalised_match_never_doubles_an_exact_link() -> None:
    found = [Found("1", "ABC"), Found("2", "abc")]
    report = link_listings(found, {Sku("ABC")}, normalise=True)
    assert _linked(report) == {"1": "ABC"}
    assert _keys(report.duplicates) == ["2"]


def test_a_normalised_form_two_catalog_skus_share_matches_neither() -> None:
    report = link_listings([Found("1", "Abc")], {Sku("ABC"), Sku("abc")}, normalise=True)
    assert report.linked == ()
    assert _keys(report.unmatched) == ["1"]


def test_one_sku_at_two_locations_is_a_duplicate_unless_a_location_is_chosen() -> None:
    found = [Found("v1@10", "A", location="10"), Found("v1@20", "A", location="20")]
    assert _keys(link_listings(found, {Sku("A")}).duplicates) == ["v1@10", "v1@20"]
    chosen = link_listings(found, {Sku("A")}, location="20")
    assert _linked(chosen) == {"v1@20": "A"}
    assert _keys(chosen.elsewhere) == ["v1@10"]


def test_nothing_discovered_leaves_the_whole_catalog_missing() -> None:
    nothing: list[Found] = []
    report = link_listings(nothing, {Sku("B"), Sku("A")})
    assert report.missing == ("A", "B")
    assert sum(report.counts().values()) == 2


# --- properties --------------------------------------------------------------------------

_SKUS = st.sampled_from(["A", "a", " A", "B", "b ", "C", "D D", "dd", "", "E"])
_LOCATIONS = st.sampled_from([None, "10", "20"])


@st.composite
def _listings(draw: st.DrawFn) -> list[Found]:
    rows = draw(
        st.lists(st.tuples(st.one_of(st.none(), _SKUS), st.booleans(), _LOCATIONS), max_size=25)
    )
    return [Found(str(n), sku, managed, loc) for n, (sku, managed, loc) in enumerate(rows)]


_CATALOGS = st.sets(_SKUS.filter(bool).map(Sku), max_size=6)
_NORMALISE = st.booleans()


def _buckets(report: LinkReport[Found]) -> list[str]:
    return [
        *(link.listing.key for link in report.linked),
        *_keys(report.unmatched),
        *_keys(report.duplicates),
        *_keys(report.unmanaged),
        *_keys(report.elsewhere),
    ]


@given(_listings(), _CATALOGS, _NORMALISE, _LOCATIONS)
def test_every_listing_is_in_exactly_one_bucket(
    found: list[Found], catalog: set[Sku], normalise: bool, location: str | None
) -> None:
    report = link_listings(found, catalog, normalise=normalise, location=location)
    assert sorted(_buckets(report)) == sorted(x.key for x in found)


@given(_listings(), _CATALOGS, _NORMALISE, _LOCATIONS)
def test_links_are_one_to_one_and_cover_the_catalog_with_missing(
    found: list[Found], catalog: set[Sku], normalise: bool, location: str | None
) -> None:
    report = link_listings(found, catalog, normalise=normalise, location=location)
    linked_skus = [link.sku for link in report.linked]
    assert len(linked_skus) == len(set(linked_skus))
    assert set(linked_skus).isdisjoint(report.missing)
    assert set(linked_skus) | set(report.missing) == catalog


@given(_listings(), _CATALOGS, _NORMALISE, _LOCATIONS)
def test_only_managed_listings_with_a_sku_at_the_location_are_linked(
    found: list[Found], catalog: set[Sku], normalise: bool, location: str | None
) -> None:
    for link in link_listings(found, catalog, normalise=normalise, location=location).linked:
        assert link.listing.managed
        assert link.listing.sku
        assert location is None or link.listing.location in (None, location)
        same = link.sku if not normalise else None
        assert same is None or link.listing.sku == same


@given(_listings(), _CATALOGS, _LOCATIONS)
def test_normalisation_only_ever_adds_matches(
    found: list[Found], catalog: set[Sku], location: str | None
) -> None:
    exact = _linked(link_listings(found, catalog, location=location))
    loose = _linked(link_listings(found, catalog, normalise=True, location=location))
    assert exact.items() <= loose.items()
    for key, sku in loose.items():
        listing = next(x for x in found if x.key == key)
        assert normalise_sku(listing.sku or "") == normalise_sku(sku)


@given(_listings(), _CATALOGS, _NORMALISE)
def test_a_sku_two_eligible_listings_share_is_never_linked(
    found: list[Found], catalog: set[Sku], normalise: bool
) -> None:
    report = link_listings(found, catalog, normalise=normalise)
    eligible = [x for x in found if x.managed and x.sku]
    for link in report.linked:
        assert [x.sku for x in eligible].count(link.listing.sku) == 1


@given(_listings(), _CATALOGS, _NORMALISE, st.randoms())
def test_the_order_of_the_listings_does_not_matter(
    found: list[Found], catalog: set[Sku], normalise: bool, rng: random.Random
) -> None:
    shuffled = list(found)
    rng.shuffle(shuffled)
    assert link_listings(shuffled, catalog, normalise=normalise) == link_listings(
        found, catalog, normalise=normalise
    )
