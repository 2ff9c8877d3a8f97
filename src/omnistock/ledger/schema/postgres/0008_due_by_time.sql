-- When an account's next dirty listing falls due: the first of its dirty rows by retry
-- time (a row with none is due now: NULLS FIRST). Without the time in the index, every
-- dispatcher pass read all of the account's dirty rows (10,000 after a burst). A desired
-- update leaves next_attempt_at as it was, so it stays HOT.
DROP INDEX listing_sync_dirty;
CREATE INDEX listing_sync_dirty ON listing_sync (account, next_attempt_at NULLS FIRST)
WHERE dirty = 1;
