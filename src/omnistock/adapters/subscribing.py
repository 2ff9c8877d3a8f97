"""Notification registration, pure: what to create, keep, re-activate and remove so that an
account delivers exactly the topics omnistock consumes to one target.

Each platform's `subscriptions.py` lists what the channel holds as `Held` values (marking
which are omnistock's own, by the platform's rule) and carries out the `Plan` made here."""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from omnistock.adapters.base import Subscription, SubscriptionReport
from omnistock.domain.errors import PermanentError

T = TypeVar("T")

# The name omnistock gives what it creates where the platform names things (WooCommerce
# webhooks, eBay and Amazon destinations): how it recognises its own later.
OWN_PREFIX = "omnistock"


@dataclass(frozen=True, slots=True, kw_only=True)
class Held:
    """A subscription the channel holds now."""

    subscription: Subscription
    ours: bool  # created by omnistock (the platform's rule decides)
    active: bool = True  # delivering (WooCommerce disables failing webhooks)


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    create: tuple[str, ...] = ()  # topics
    keep: tuple[Subscription, ...] = ()
    reactivate: tuple[Subscription, ...] = ()  # kept, but switched back on first
    remove: tuple[Subscription, ...] = ()

    def report(self, created: Sequence[Subscription]) -> SubscriptionReport:
        return SubscriptionReport(
            created=tuple(created), kept=self.keep + self.reactivate, removed=self.remove
        )


def plan_register(held: Sequence[Held], topics: Sequence[str], target: str) -> Plan:
    """Each topic delivered to `target` once: the first matching subscription is kept (and
    re-activated if off), a topic without one is created. omnistock's own duplicates, and
    its own subscriptions of these topics delivering elsewhere (an old address), are
    removed; anything else pointing elsewhere is left alone."""
    keep: list[Subscription] = []
    reactivate: list[Subscription] = []
    remove: list[Subscription] = []
    covered: set[str] = set()
    for h in held:
        sub = h.subscription
        if sub.topic not in topics:
            continue
        if sub.target == target and sub.topic not in covered:
            covered.add(sub.topic)
            (keep if h.active else reactivate).append(sub)
        elif h.ours:
            remove.append(sub)
    create = tuple(t for t in topics if t not in covered)
    return Plan(create=create, keep=tuple(keep), reactivate=tuple(reactivate), remove=tuple(remove))


def plan_remove(held: Sequence[Held], topics: Sequence[str], target: str) -> Plan:
    """Every subscription delivering to `target` that is omnistock's own or of a topic it
    consumes; nothing delivering elsewhere."""
    gone = tuple(
        h.subscription
        for h in held
        if h.subscription.target == target and (h.ours or h.subscription.topic in topics)
    )
    return Plan(remove=gone)


async def registered(work: Awaitable[T], *, account: str) -> T:
    """`work`'s result; an answer it could not read (ValueError, KeyError, TypeError)
    becomes the PermanentError the protocol promises."""
    try:
        return await work
    except (ValueError, KeyError, TypeError) as exc:
        raise PermanentError(f"unexpected answer: {exc}", account=account) from None
