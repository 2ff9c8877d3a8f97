"""The notification outbox: facts for downstream systems (stock.changed, order.oversold,
channel.degraded), each with one delivery row per subscriber of its topic.

Publishing is a local write; delivering (signed webhooks) and streaming (SSE) read it."""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from urllib.parse import urlsplit

from omnistock.domain.errors import InvalidInputError
from omnistock.domain.ids import check_identifier
from omnistock.ledger.database import Database

MAX_ERROR = 300


class Feed(StrEnum):
    """A source of notifications published in order behind a durable cursor."""

    STOCK = "stock"  # ledger events -> stock.changed
    INCIDENTS = "incidents"  # incidents -> order.oversold


class Topic(StrEnum):
    STOCK_CHANGED = "stock.changed"
    ORDER_OVERSOLD = "order.oversold"
    CHANNEL_DEGRADED = "channel.degraded"


@dataclass(frozen=True, slots=True)
class Notification:
    id: int
    topic: Topic
    payload: str  # JSON text, delivered byte for byte as signed
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Subscription:
    id: str
    url: str
    topics: frozenset[Topic]
    active: bool


@dataclass(frozen=True, slots=True)
class DueDelivery:
    subscription: Subscription
    secret: str
    notification: Notification
    attempts: int


class NotificationRepo:
    def __init__(self, db: Database) -> None:
        self._db = db

    def publish(self, topic: Topic, payload: Mapping[str, object], now: datetime) -> int:
        """Record a fact and a pending delivery for each active subscriber of its topic."""
        with self._db.transaction():
            return self._insert(topic, payload, now)

    def feed_position(self, feed: Feed) -> int:
        """How far `feed` has been published (see schema 0006_feeds)."""
        [(position,)] = self._db.rows(
            "SELECT position FROM feed_cursors WHERE feed = ?", (feed.value,)
        )
        return int(position)

    def publish_feed(
        self,
        feed: Feed,
        after: int,
        through: int,
        facts: Sequence[tuple[Topic, Mapping[str, object]]],
        now: datetime,
    ) -> bool:
        """Publish `facts` and move `feed` from `after` to `through`, in one transaction.

        False (nothing published) when the feed is no longer at `after`: another process
        published that stretch first, so each fact goes out exactly once."""
        if through <= after:
            raise ValueError(f"a feed moves forward: {after} -> {through}")
        with self._db.transaction():
            moved = self._db.run(
                "UPDATE feed_cursors SET position = ? WHERE feed = ? AND position = ?",
                (through, feed.value, after),
            )
            if not moved:
                return False
            for topic, payload in facts:
                self._insert(topic, payload, now)
            return True

    def _insert(self, topic: Topic, payload: Mapping[str, object], now: datetime) -> int:
        text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        [(nid,)] = self._db.rows(
            "INSERT INTO notifications (topic, payload, created_at) VALUES (?, ?, ?) RETURNING id",
            (topic.value, text, _iso(now)),
        )
        for sub in self._subscriptions(active_only=True):
            if topic in sub.topics:
                self._db.run(
                    "INSERT INTO deliveries (subscription, notification, next_at) VALUES (?, ?, ?)",
                    (sub.id, nid, _iso(now)),
                )
        return int(nid)

    def subscribe(self, url: str, topics: frozenset[Topic]) -> tuple[Subscription, str]:
        """A new subscriber and its signing secret (shown once, kept to sign)."""
        try:
            parts = urlsplit(url)
            scheme, host = parts.scheme, parts.hostname
        except ValueError:  # an unbalanced IPv6 bracket, a bad port
            scheme, host = "", None
        if scheme not in ("https", "http") or not host or len(url) > 2_000:
            raise InvalidInputError(
                "url", "must be an http(s) URL with a host, of at most 2000 characters"
            )
        if not topics:
            raise InvalidInputError("topics", "name at least one topic")
        sub = Subscription(f"sub_{secrets.token_hex(8)}", url, topics, True)
        secret = "whsec_" + secrets.token_urlsafe(32)
        with self._db.transaction():
            self._db.run(
                "INSERT INTO subscriptions (id, url, secret, topics) VALUES (?, ?, ?, ?)",
                (sub.id, url, secret, ",".join(sorted(topics))),
            )
        return sub, secret

    def unsubscribe(self, sid: str) -> bool:
        check_identifier("subscription", sid)
        with self._db.transaction():
            return (
                self._db.run(
                    "UPDATE subscriptions SET active = 0 WHERE id = ? AND active = 1", (sid,)
                )
                == 1
            )

    def subscriptions(self) -> list[Subscription]:
        return self._subscriptions(active_only=False)

    def last_id(self) -> int:
        """The id of the newest notification (0 when none): where a new stream starts."""
        [(newest,)] = self._db.rows("SELECT COALESCE(MAX(id), 0) FROM notifications")
        return int(newest)

    def after(self, last_id: int, limit: int = 100) -> list[Notification]:
        """Notifications with id > `last_id`, oldest first (for streams resuming by id)."""
        rows = self._db.rows(
            "SELECT id, topic, payload, created_at FROM notifications WHERE id > ?"
            " ORDER BY id LIMIT ?",
            (last_id, limit),
        )
        return [Notification(i, Topic(t), p, datetime.fromisoformat(c)) for i, t, p, c in rows]

    def due(self, now: datetime, limit: int = 100) -> list[DueDelivery]:
        """Pending deliveries whose time has come, oldest first."""
        rows = self._db.rows(
            "SELECT s.id, s.url, s.topics, s.active, s.secret, n.id, n.topic, n.payload,"
            " n.created_at, d.attempts FROM deliveries d"
            " JOIN subscriptions s ON s.id = d.subscription"
            " JOIN notifications n ON n.id = d.notification"
            " WHERE d.status = 'pending' AND d.next_at <= ? ORDER BY d.next_at, n.id LIMIT ?",
            (_iso(now), limit),
        )
        return [
            DueDelivery(
                Subscription(sid, url, _topics(topics), bool(active)),
                secret,
                Notification(nid, Topic(topic), payload, datetime.fromisoformat(created)),
                attempts,
            )
            for sid, url, topics, active, secret, nid, topic, payload, created, attempts in rows
        ]

    def delivered(self, subscription: str, notification: int) -> None:
        self._set(subscription, notification, "delivered", None, None)

    def retry(self, subscription: str, notification: int, error: str, at: datetime) -> None:
        self._set(subscription, notification, "pending", error, at)

    def give_up(self, subscription: str, notification: int, error: str) -> None:
        """Stop retrying; the delivery stays visible as failed with its error."""
        self._set(subscription, notification, "failed", error, None)

    def _set(self, sub: str, nid: int, status: str, error: str | None, at: datetime | None) -> None:
        with self._db.transaction():
            self._db.run(
                "UPDATE deliveries SET status = ?, attempts = attempts + 1, last_error = ?,"
                " next_at = COALESCE(?, next_at) WHERE subscription = ? AND notification = ?",
                (
                    status,
                    None if error is None else error[:MAX_ERROR],
                    None if at is None else _iso(at),
                    sub,
                    nid,
                ),
            )

    def _subscriptions(self, *, active_only: bool) -> list[Subscription]:
        sql = "SELECT id, url, topics, active FROM subscriptions"
        rows = self._db.rows(sql + (" WHERE active = 1" if active_only else "") + " ORDER BY id")
        return [Subscription(i, u, _topics(t), bool(a)) for i, u, t, a in rows]


def _topics(text: str) -> frozenset[Topic]:
    return frozenset(Topic(t) for t in text.split(",") if t)


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat()
