"""Group commit for the inbox: callers that arrive while a write is in progress share the
next one. Each caller still returns only once its own messages are durable; a burst of
webhook deliveries then costs one transaction (one flushed commit on PostgreSQL) per
group instead of one per delivery."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from omnistock.bus.inbox import Inbox, InboxMessage
from omnistock.domain.errors import InvalidInputError


class GroupPut:
    def __init__(self, inbox: Inbox, *, max_group: int = 500) -> None:
        self._inbox = inbox
        self._max_group = max_group
        self._waiting: list[tuple[Sequence[InboxMessage], asyncio.Future[list[bool]]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def put(self, messages: Sequence[InboxMessage]) -> list[bool]:
        """As Inbox.put. A malformed message is refused here, before it can join (and
        fail) someone else's write."""
        for index, message in enumerate(messages):
            try:
                message.validate()
            except (InvalidInputError, ValueError) as exc:
                raise InvalidInputError(f"messages[{index}]", str(exc)) from None
        done: asyncio.Future[list[bool]] = asyncio.get_running_loop().create_future()
        # A caller that went away (shield) never reads its answer: read a failure for it,
        # so that a store closing at shutdown is not reported as an unretrieved error.
        done.add_done_callback(_consume)
        self._waiting.append((messages, done))
        if self._writer is None or self._writer.done():
            # A task of its own: a caller that goes away (its client disconnected) must
            # not take the others' write with it.
            self._writer = asyncio.create_task(self._drain())
        return await asyncio.shield(done)

    async def _drain(self) -> None:
        while self._waiting:
            group = self._waiting[: self._max_group]
            del self._waiting[: self._max_group]
            await self._write(group)

    async def _write(
        self, group: list[tuple[Sequence[InboxMessage], asyncio.Future[list[bool]]]]
    ) -> None:
        try:
            stored = await self._inbox.put([m for messages, _ in group for m in messages])
        except Exception as error:  # every caller of the group gets the store's answer
            for _, done in group:
                done.set_exception(error)
            return
        start = 0
        for messages, done in group:
            done.set_result(stored[start : start + len(messages)])
            start += len(messages)


def _consume(done: asyncio.Future[list[bool]]) -> None:
    if not done.cancelled():
        done.exception()
