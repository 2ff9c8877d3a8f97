-- Why a listing is held back from pushing, when it is: 'no stock known' for a listing
-- whose SKU (or one of its bundle's components) has never had a ledger event, so that a
-- fresh ledger never zeroes a channel that still shows the merchant's real stock. Held
-- rows are not dirty; the SKU's first event makes them dirty again.
ALTER TABLE listing_sync ADD COLUMN held TEXT;
