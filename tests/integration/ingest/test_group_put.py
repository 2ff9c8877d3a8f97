"""Group commit into the inbox (SQLite): concurrent callers share writes, each gets its
own answers, a malformed message fails only its caller, a store failure reaches every
caller of that write, and a caller that goes away does not lose the others' messages."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from omnistock.bus.group import GroupCommit, GroupPut
from omnistock.bus.inbox import Inbox, InboxKind, InboxMessage
from omnistock.domain.errors import (
    IdempotencyConflictError,
    InvalidInputError,
    StorageBusyError,
)
from omnistock.domain.ids import AccountId
from omnistock.ledger.store import Store


def message(key: str) -> InboxMessage:
    return InboxMessage(
        kind=InboxKind.CHANNEL_EVENT, account=AccountId("shop"), dedupe_key=key, payload="{}"
    )


class Counting:
    """The store's inbox, counting its writes (and failing them on demand)."""

    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox
        self.writes = 0
        self.fail = False

    async def put(self, messages: Sequence[InboxMessage]) -> list[bool]:
        self.writes += 1
        await asyncio.sleep(0.01)  # a commit takes time: later callers queue behind it
        if self.fail:
            raise StorageBusyError("database is locked")
        return await self.inbox.put(messages)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(f"sqlite:///{tmp_path / 'group.db'}")
    yield opened
    await opened.close()


async def test_concurrent_callers_share_writes_and_get_their_own_answers(store: Store) -> None:
    counting = Counting(store.inbox)
    group = GroupPut(counting)  # type: ignore[arg-type]
    calls = [group.put([message(f"k{n}"), message(f"k{n % 5}")]) for n in range(20)]
    answers = await asyncio.gather(*calls)
    assert counting.writes <= 3  # the first caller's write, then the rest together
    assert answers[0] == [True, False]  # k0 twice in one call: stored once
    assert answers[7] == [True, False]  # k7 new, k2 already stored
    assert (await store.inbox.counts()).pending == 20


async def test_a_malformed_message_fails_only_its_caller(store: Store) -> None:
    group = GroupPut(store.inbox)
    bad = InboxMessage(kind=InboxKind.CHANNEL_EVENT, account=None, dedupe_key="", payload="{}")
    good, refused = await asyncio.gather(
        group.put([message("ok")]), group.put([bad]), return_exceptions=True
    )
    assert good == [True]
    assert isinstance(refused, InvalidInputError)
    assert "messages[0]" in str(refused)


async def test_a_store_failure_reaches_every_caller_of_the_write(store: Store) -> None:
    counting = Counting(store.inbox)
    counting.fail = True
    group = GroupPut(counting)  # type: ignore[arg-type]
    results = await asyncio.gather(
        *(group.put([message(f"f{n}")]) for n in range(5)), return_exceptions=True
    )
    assert all(isinstance(r, StorageBusyError) for r in results)
    assert (await store.inbox.counts()).pending == 0


async def test_a_caller_that_goes_away_does_not_cancel_the_others_write(store: Store) -> None:
    group = GroupPut(Counting(store.inbox))  # type: ignore[arg-type]
    first = asyncio.create_task(group.put([message("a")]))
    second = asyncio.create_task(group.put([message("b")]))
    await asyncio.sleep(0)
    first.cancel()
    assert await second == [True]
    await asyncio.sleep(0.05)
    assert (await store.inbox.counts()).pending == 2  # the cancelled caller's too


async def test_group_commit_fills_writes_up_to_max_items_and_answers_each_caller() -> None:
    writes: list[list[int]] = []

    async def write(items: list[int]) -> list[int]:
        writes.append(items)
        await asyncio.sleep(0.01)
        return [item * 10 for item in items]

    group: GroupCommit[int, int] = GroupCommit(write, max_items=5)
    answers = await asyncio.gather(*(group.submit([n, n + 100]) for n in range(6)))
    assert answers == [[n * 10, (n + 100) * 10] for n in range(6)]
    # Two callers a write: a third would pass 5 items.
    assert [len(w) for w in writes] == [4, 4, 4]
    with pytest.raises(InvalidInputError, match="at most 5"):
        await group.submit(list(range(6)))
    with pytest.raises(ValueError, match="max_items"):
        GroupCommit(write, max_items=0)


async def test_a_group_refused_as_a_whole_is_written_again_caller_by_caller() -> None:
    writes: list[list[str]] = []

    async def write(items: list[str]) -> list[str]:
        writes.append(items)
        await asyncio.sleep(0.01)
        if "reused-key" in items:
            raise IdempotencyConflictError("reused-key")
        return [item.upper() for item in items]

    group: GroupCommit[str, str] = GroupCommit(write, max_items=100)
    results = await asyncio.gather(
        group.submit(["first"]),
        group.submit(["good"]),
        group.submit(["reused-key"]),
        group.submit(["also-good"]),
        return_exceptions=True,
    )
    assert list(results[:2]) == [["FIRST"], ["GOOD"]]
    assert isinstance(results[2], IdempotencyConflictError)
    assert results[3] == ["ALSO-GOOD"]
    everyone = ["first", "good", "reused-key", "also-good"]
    assert writes == [everyone] + [[item] for item in everyone]  # refused whole, then alone
