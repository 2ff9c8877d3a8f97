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
    version BIGINT NOT NULL DEFAULT 0,
    last_seq BIGINT NOT NULL DEFAULT 0
);
CREATE TABLE bundle_components (
    bundle TEXT NOT NULL REFERENCES items (sku),
    component TEXT NOT NULL REFERENCES items (sku),
    quantity BIGINT NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (bundle, component)
);
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
    on_hand BIGINT NOT NULL,
    reserved BIGINT NOT NULL,
    PRIMARY KEY (sku, location)
);
CREATE TABLE events (
    position BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    idempotency_key TEXT NOT NULL,
    sku TEXT NOT NULL,
    location TEXT NOT NULL,
    seq BIGINT NOT NULL,
    type TEXT NOT NULL,
    quantity BIGINT NOT NULL,
    source TEXT NOT NULL,
    occurred_at TIMESTAMPTZ NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL,
    reason TEXT,
    order_line TEXT,
    account TEXT,
    restock BOOLEAN,
    bundle TEXT,
    schema_version INTEGER NOT NULL
);
CREATE TABLE outcomes (
    idempotency_key TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    sequences TEXT NOT NULL,
    rejection_code TEXT,
    rejection_message TEXT
);
CREATE TABLE listing_sync (
    listing TEXT PRIMARY KEY REFERENCES listings (id),
    account TEXT NOT NULL,
    desired_qty BIGINT NOT NULL,
    desired_seq BIGINT NOT NULL,
    priority BIGINT NOT NULL,
    pushed_qty BIGINT,
    pushed_seq BIGINT,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMPTZ,
    last_error TEXT,
    -- 1 while desired differs from pushed, kept apart so that desired updates skip the index
    dirty BIGINT NOT NULL DEFAULT 1
);
CREATE INDEX listing_sync_dirty ON listing_sync (account) WHERE dirty = 1
;
-- A listing whose desired quantity moves away from what was pushed becomes dirty again.
-- Set in a BEFORE trigger: an unchanged `dirty` keeps the update HOT (no index write).
CREATE FUNCTION listing_sync_mark_dirty() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.dirty = 0 AND NEW.pushed_qty IS DISTINCT FROM NEW.desired_qty THEN
        NEW.dirty := 1;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER listing_sync_mark_dirty BEFORE UPDATE OF desired_qty ON listing_sync
FOR EACH ROW EXECUTE FUNCTION listing_sync_mark_dirty()
