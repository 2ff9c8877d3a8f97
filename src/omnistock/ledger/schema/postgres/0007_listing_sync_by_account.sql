-- An account's listings in id order (a first sync's plan, a reconciliation's pages): without
-- it the first page of the last account scans every other account's rows first.
CREATE INDEX listing_sync_account ON listing_sync (account, listing);
