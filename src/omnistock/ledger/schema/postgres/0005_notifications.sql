-- Downstream notifications: an outbox of facts, and one delivery row per subscriber, so a
-- restart loses nothing and a slow subscriber never holds up the others.
CREATE TABLE notifications (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    topic TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE subscriptions (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    topics TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE deliveries (
    subscription TEXT NOT NULL REFERENCES subscriptions (id),
    notification BIGINT NOT NULL REFERENCES notifications (id),
    status TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at TEXT NOT NULL,
    last_error TEXT,
    PRIMARY KEY (subscription, notification)
);
CREATE INDEX deliveries_pending ON deliveries (next_at) WHERE status = 'pending'
