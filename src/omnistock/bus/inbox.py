"""The Inbox port: a durable, deduplicating, leased queue between ingestion and processing.

Embedded form: the ledger database (`Store.inbox`); a distributed form (JetStream) follows
the same contract. The values live in the ledger so that it needs no import from here."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Protocol

from omnistock.ledger.inbox import InboxCounts, InboxItem, InboxKind, InboxMessage

__all__ = ["Inbox", "InboxCounts", "InboxItem", "InboxKind", "InboxMessage"]


class Inbox(Protocol):
    async def put(self, messages: Sequence[InboxMessage]) -> list[bool]:
        """Store every message durably before returning; one answer per message, in order:
        False when its dedupe key was already received (nothing is stored again, so
        duplicates are harmless). Raises InvalidInputError (nothing stored) for a malformed
        message, StorageBusyError when the store stayed contended."""
        ...

    async def take(self, limit: int, lease: float = ...) -> list[InboxItem]:
        """Up to `limit` items, oldest first, leased for `lease` seconds: an item neither
        acknowledged nor failed by then is delivered again (a crash loses nothing). Each
        delivery counts an attempt; an item whose attempts ran out is parked instead."""
        ...

    async def ack(self, ids: Collection[int]) -> None:
        """Done with these items: they are never delivered again. Idempotent."""
        ...

    async def fail(self, item_id: int, error: str, retry_at: datetime) -> bool:
        """Keep the item with `error`, to be delivered again from `retry_at`; after the
        maximum attempts it is parked (kept and listed by `parked`, never dropped).
        Returns whether it was parked."""
        ...

    async def parked(self, limit: int = 100) -> list[InboxItem]:
        """Parked items, oldest first, with their last error."""
        ...

    async def counts(self) -> InboxCounts:
        """How many items are pending (including leased and scheduled) and parked."""
        ...
