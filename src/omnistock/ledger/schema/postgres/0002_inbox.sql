-- The durable inbox: a queue of received messages, leased to processors (visible_at).
CREATE TABLE inbox (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind TEXT NOT NULL,
    account TEXT,
    dedupe_key TEXT NOT NULL,
    payload TEXT NOT NULL,
    received_at TIMESTAMPTZ NOT NULL,
    visible_at TIMESTAMPTZ NOT NULL,
    attempts BIGINT NOT NULL,
    last_error TEXT,
    parked BIGINT NOT NULL
);
CREATE INDEX inbox_parked ON inbox (id) WHERE parked = 1;
-- Dedupe keys outlive their messages (acknowledged items are deleted), for a retention window.
CREATE TABLE inbox_keys (
    dedupe_key TEXT PRIMARY KEY,
    received_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX inbox_keys_by_age ON inbox_keys (received_at);
CREATE TABLE poll_cursors (
    account TEXT PRIMARY KEY,
    cursor TEXT NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);
-- Facts about order lines that no ledger event records (a line cancelled before it was seen).
CREATE TABLE ingest_marks (
    key TEXT PRIMARY KEY,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE incidents (
    position BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    account TEXT,
    reason TEXT NOT NULL,
    order_id TEXT,
    line_id TEXT,
    sku TEXT,
    location TEXT,
    quantity BIGINT,
    recorded_at TIMESTAMPTZ NOT NULL
);
