-- Listing discovery (onboarding): every listing an account's channel has, as last read,
-- and where the account's discovery run stands. A page of listings and the cursor after it
-- are written in one transaction, so an interrupted run resumes after the last saved page.
CREATE TABLE discovered_listings (
    account TEXT NOT NULL,
    key TEXT NOT NULL,
    sku TEXT,
    external_ids TEXT NOT NULL,
    managed INTEGER NOT NULL,
    quantity INTEGER,
    title TEXT NOT NULL,
    location TEXT,
    seen_at TEXT NOT NULL,
    PRIMARY KEY (account, key)
) WITHOUT ROWID;
CREATE TABLE discovery_runs (
    account TEXT PRIMARY KEY,
    cursor TEXT,
    done INTEGER NOT NULL,
    pages INTEGER NOT NULL,
    total INTEGER,
    started_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) WITHOUT ROWID;
