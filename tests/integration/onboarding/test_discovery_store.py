"""The discovery store: pages and their cursor saved together, a run that moved on refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from omnistock.domain.errors import InvalidInputError
from omnistock.domain.ids import AccountId
from omnistock.ledger.discovery import DiscoveredRow
from omnistock.ledger.store import Store

A = AccountId("woo")
NOW = datetime(2026, 12, 8, 1, 0, tzinfo=UTC)


def rows(*keys: str) -> list[DiscoveredRow]:
    return [
        DiscoveredRow(
            key=k,
            sku=f"SKU-{k}" if k != "none" else None,
            external_ids={"product_id": k},
            managed=k != "off",
            quantity=3 if k != "off" else None,
            title=f"Item {k}",
            location="10" if k.startswith("l") else None,
        )
        for k in keys
    ]


async def test_a_run_saves_pages_and_reads_them_back(store: Store) -> None:
    await store.discovery.begin(A, NOW)
    await store.discovery.save_page(
        A, rows("1", "off"), after="c1", expected=None, total=4, now=NOW
    )
    await store.discovery.save_page(
        A, rows("none", "l2"), after=None, expected="c1", total=None, now=NOW
    )
    run = await store.discovery.run_of(A)
    assert run is not None
    assert (run.cursor, run.done, run.pages, run.total) == (None, True, 2, 4)
    saved = await store.discovery.listings(A)
    assert [r.key for r in saved] == ["1", "l2", "none", "off"]
    first = saved[0]
    assert (first.sku, first.external_ids, first.managed, first.quantity) == (
        "SKU-1",
        {"product_id": "1"},
        True,
        3,
    )
    assert saved[1].location == "10"
    assert saved[2].sku is None
    assert (saved[3].managed, saved[3].quantity) == (False, None)
    assert first.seen_at == NOW
    assert await store.discovery.count(A) == 4


async def test_a_page_read_from_a_stale_cursor_writes_nothing(store: Store) -> None:
    await store.discovery.begin(A, NOW)
    await store.discovery.save_page(A, rows("1"), after="c1", expected=None, total=None, now=NOW)
    with pytest.raises(InvalidInputError, match="moved on"):
        await store.discovery.save_page(
            A, rows("2"), after="c2", expected=None, total=None, now=NOW
        )
    assert [r.key for r in await store.discovery.listings(A)] == ["1"]
    run = await store.discovery.run_of(A)
    assert run is not None
    assert (run.cursor, run.pages) == ("c1", 1)


async def test_a_finished_run_takes_no_more_pages(store: Store) -> None:
    await store.discovery.begin(A, NOW)
    await store.discovery.save_page(A, rows("1"), after=None, expected=None, total=None, now=NOW)
    with pytest.raises(InvalidInputError):
        await store.discovery.save_page(
            A, rows("2"), after=None, expected=None, total=None, now=NOW
        )


async def test_a_bad_row_fails_the_page_whole(store: Store) -> None:
    await store.discovery.begin(A, NOW)
    bad = [*rows("1"), DiscoveredRow(key="", sku="X", external_ids={}, managed=True)]
    with pytest.raises(InvalidInputError, match="key"):
        await store.discovery.save_page(A, bad, after="c1", expected=None, total=None, now=NOW)
    assert await store.discovery.listings(A) == []
    run = await store.discovery.run_of(A)
    assert run is not None
    assert run.pages == 0


async def test_beginning_again_forgets_the_account_but_not_the_others(store: Store) -> None:
    other = AccountId("shop")
    for account in (A, other):
        await store.discovery.begin(account, NOW)
        await store.discovery.save_page(
            account, rows("1"), after=None, expected=None, total=None, now=NOW
        )
    await store.discovery.begin(A, NOW)
    assert await store.discovery.listings(A) == []
    assert len(await store.discovery.listings(other)) == 1
    assert await store.discovery.run_of(AccountId("nobody")) is None
