CREATE TABLE catalog_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO catalog_version (id, version) VALUES (1, 0);
CREATE TABLE locations (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL
);
CREATE TABLE items (
    sku TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 0,
    last_seq INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE TABLE bundle_components (
    bundle TEXT NOT NULL REFERENCES items (sku),
    component TEXT NOT NULL REFERENCES items (sku),
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (bundle, component)
) WITHOUT ROWID;
CREATE INDEX bundle_components_by_component ON bundle_components (component);
CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    platform TEXT NOT NULL,
    name TEXT NOT NULL,
    policy TEXT NOT NULL,
    settings TEXT NOT NULL
);
CREATE TABLE listings (
    id TEXT PRIMARY KEY,
    account TEXT NOT NULL REFERENCES accounts (id),
    sku TEXT NOT NULL REFERENCES items (sku),
    external_ids TEXT NOT NULL,
    override TEXT
);
CREATE INDEX listings_by_sku ON listings (sku);
CREATE INDEX listings_by_account ON listings (account);
CREATE TABLE balances (
    sku TEXT NOT NULL REFERENCES items (sku),
    location TEXT NOT NULL REFERENCES locations (id),
    on_hand INTEGER NOT NULL,
    reserved INTEGER NOT NULL,
    PRIMARY KEY (sku, location)
) WITHOUT ROWID;
CREATE TABLE events (
    position INTEGER PRIMARY KEY AUTOINCREMENT,
    idempotency_key TEXT NOT NULL,
    sku TEXT NOT NULL,
    location TEXT NOT NULL,
    seq INTEGER NOT NULL,
    type TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    source TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    reason TEXT,
    order_line TEXT,
    account TEXT,
    restock INTEGER,
    bundle TEXT,
    schema_version INTEGER NOT NULL
);
CREATE TABLE outcomes (
    idempotency_key TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    sequences TEXT NOT NULL,
    rejection_code TEXT,
    rejection_message TEXT
) WITHOUT ROWID;
CREATE TABLE listing_sync (
    listing TEXT PRIMARY KEY REFERENCES listings (id),
    account TEXT NOT NULL,
    desired_qty INTEGER NOT NULL,
    desired_seq INTEGER NOT NULL,
    priority INTEGER NOT NULL,
    pushed_qty INTEGER,
    pushed_seq INTEGER,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    last_error TEXT,
    -- 1 while desired differs from pushed, kept apart so that desired updates skip the index
    dirty INTEGER NOT NULL DEFAULT 1
) WITHOUT ROWID;
CREATE INDEX listing_sync_dirty ON listing_sync (account) WHERE dirty = 1
;
-- A listing whose desired quantity moves away from what was pushed becomes dirty again.
-- A trigger, so that the frequent update of an already dirty listing never touches the index.
CREATE TRIGGER listing_sync_mark_dirty AFTER UPDATE OF desired_qty ON listing_sync
WHEN NEW.dirty = 0 AND (NEW.pushed_qty IS NULL OR NEW.pushed_qty <> NEW.desired_qty)
BEGIN
    UPDATE listing_sync SET dirty = 1 WHERE listing = NEW.listing;
END
