-- The durable inbox: a queue of received messages, leased to processors (visible_at).
CREATE TABLE inbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    account TEXT,
    dedupe_key TEXT NOT NULL,
    payload TEXT NOT NULL,
    received_at TEXT NOT NULL,
    visible_at TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    last_error TEXT,
    parked INTEGER NOT NULL
);
CREATE INDEX inbox_parked ON inbox (id) WHERE parked = 1;
-- Dedupe keys outlive their messages (acknowledged items are deleted), for a retention window.
CREATE TABLE inbox_keys (
    dedupe_key TEXT PRIMARY KEY,
    received_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX inbox_keys_by_age ON inbox_keys (received_at);
CREATE TABLE poll_cursors (
    account TEXT PRIMARY KEY,
    cursor TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
-- Facts about order lines that no ledger event records (a line cancelled before it was seen).
CREATE TABLE ingest_marks (
    key TEXT PRIMARY KEY,
    created_at TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE incidents (
    position INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    account TEXT,
    reason TEXT NOT NULL,
    order_id TEXT,
    line_id TEXT,
    sku TEXT,
    location TEXT,
    quantity INTEGER,
    recorded_at TEXT NOT NULL
);
