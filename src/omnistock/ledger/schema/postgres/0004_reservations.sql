-- Checkout reservations (headless storefront / POS): lines held until confirmed, released
-- or expired. Times are UTC ISO-8601 text, so they sort as they compare.
CREATE TABLE reservations (
    id TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    status TEXT NOT NULL,
    lines TEXT NOT NULL,
    source TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    reason TEXT
);
CREATE INDEX reservations_held_by_expiry ON reservations (expires_at) WHERE status = 'held'
