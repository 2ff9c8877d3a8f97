"""Group commit: callers that arrive while a write is in progress share the next one. Each
caller still returns only once its own items are durable, with its own answers; a burst of
webhook deliveries or of event batches then costs one transaction (one flushed commit on
PostgreSQL) per group instead of one per caller."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

from omnistock.bus.inbox import Inbox, InboxMessage
from omnistock.domain.errors import InvalidInputError

T = TypeVar("T")
R = TypeVar("R")


class GroupCommit(Generic[T, R]):
    """Runs `write` over the items of every caller waiting, at most `max_items` per write
    (a caller's items never split); `write` answers one R per item, in order, or raises
    having written nothing. A group whose write raises is written again caller by caller,
    so one caller's bad input fails only that caller (checking items before submitting
    them saves that second round)."""

    def __init__(
        self, write: Callable[[list[T]], Awaitable[Sequence[R]]], *, max_items: int
    ) -> None:
        if max_items < 1:
            raise ValueError("max_items must be >= 1")
        self._write = write
        self._max_items = max_items
        self._waiting: list[tuple[Sequence[T], asyncio.Future[list[R]]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, items: Sequence[T]) -> list[R]:
        if len(items) > self._max_items:
            raise InvalidInputError("items", f"at most {self._max_items}, got {len(items)}")
        done: asyncio.Future[list[R]] = asyncio.get_running_loop().create_future()
        # A caller that went away (shield) never reads its answer: read a failure for it,
        # so that a store closing at shutdown is not reported as an unretrieved error.
        done.add_done_callback(_consume)
        self._waiting.append((items, done))
        if self._writer is None or self._writer.done():
            # A task of its own: a caller that goes away (its client disconnected) must
            # not take the others' write with it.
            self._writer = asyncio.create_task(self._drain())
        return await asyncio.shield(done)

    async def _drain(self) -> None:
        while self._waiting:
            size, count = 0, 0
            for items, _ in self._waiting:
                if count and size + len(items) > self._max_items:
                    break
                size += len(items)
                count += 1
            group = self._waiting[:count]
            del self._waiting[:count]
            await self._commit(group)

    async def _commit(self, group: list[tuple[Sequence[T], asyncio.Future[list[R]]]]) -> None:
        try:
            answers = await self._write([item for items, _ in group for item in items])
        except Exception as error:
            if len(group) == 1:
                group[0][1].set_exception(error)
                return
            # The write refused the group as a whole (nothing written): one caller's items
            # may be the cause (a key reused for another payload), so each is written alone
            # and gets its own answer.
            for caller in group:
                await self._commit([caller])
            return
        start = 0
        for items, done in group:
            done.set_result(list(answers[start : start + len(items)]))
            start += len(items)


class GroupPut:
    """Inbox.put through group commit."""

    def __init__(self, inbox: Inbox, *, max_group: int = 5_000) -> None:
        self._group: GroupCommit[InboxMessage, bool] = GroupCommit(inbox.put, max_items=max_group)

    async def put(self, messages: Sequence[InboxMessage]) -> list[bool]:
        """As Inbox.put. A malformed message is refused here, before it can join (and
        fail) someone else's write."""
        for index, message in enumerate(messages):
            try:
                message.validate()
            except (InvalidInputError, ValueError) as exc:
                raise InvalidInputError(f"messages[{index}]", str(exc)) from None
        return await self._group.submit(messages)


def _consume(done: asyncio.Future[Any]) -> None:
    if not done.cancelled():
        done.exception()
