-- Listings by account and SKU. A sale on a channel moves the expected level of that
-- account's listing of the SKU (sold_on_channel); with an index on the account alone,
-- SQLite read every listing of the account for each sale, and again for the check that
-- the SKU is listed once (5,000 listings an account in the latency benchmark: 17% of the
-- store's time). The account's own index is a prefix of this one.
DROP INDEX listings_by_account;
CREATE INDEX listings_by_account_sku ON listings (account, sku);
