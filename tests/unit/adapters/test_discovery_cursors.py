"""Discovery cursors, pure: they round-trip, and a foreign one is refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from omnistock.adapters.shopify import discovery as shopify
from omnistock.adapters.woocommerce import discovery as woo

_PARENTS = st.lists(
    st.builds(woo.Parent, st.integers(1, 10**9), st.text(max_size=20)), max_size=100
)


@given(
    page=st.integers(1, 10**6),
    pages=st.one_of(st.none(), st.integers(0, 10**6)),
    parents=_PARENTS,
    vpage=st.integers(1, 1000),
    total=st.one_of(st.none(), st.integers(0, 10**7)),
)
def test_a_woocommerce_cursor_round_trips(
    page: int, pages: int | None, parents: list[woo.Parent], vpage: int, total: int | None
) -> None:
    cursor = woo.Cursor(
        page=page, pages=pages, parents=tuple(parents), variations_page=vpage, total=total
    )
    assert woo.Cursor.decode(cursor.encode()) == cursor


@pytest.mark.parametrize("text", ["", "!!", "e30=", "eyJ2IjoxLCJwYWdlIjowfQ=="])
def test_a_foreign_woocommerce_cursor_is_refused(text: str) -> None:
    with pytest.raises(woo.InvalidCursorError):
        woo.Cursor.decode(text)


@given(levels=st.integers(1, shopify.LEVELS_CAP), after=st.one_of(st.none(), st.text(min_size=1)))
def test_a_shopify_cursor_round_trips(levels: int, after: str | None) -> None:
    cursor = shopify.Cursor(levels, after)
    assert shopify.Cursor.decode(cursor.encode()) == cursor


def test_the_woocommerce_run_ends_after_the_last_products_page_and_its_parents() -> None:
    last = woo.Cursor(page=3, pages=2)
    assert last.finished
    assert not woo.Cursor(page=3, pages=2, parents=(woo.Parent(1, "x"),)).finished
    assert not woo.Cursor(page=1).finished
