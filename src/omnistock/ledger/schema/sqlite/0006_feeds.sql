-- How far each outgoing feed has been published: `stock` over the ledger's events
-- (stock.changed), `incidents` over the incidents (order.oversold). A feed's cursor moves in
-- the same transaction as the notifications it produced, so a crash neither loses a fact
-- nor publishes it twice. An existing database starts at its end: its past was published.
CREATE TABLE feed_cursors (
    feed TEXT PRIMARY KEY,
    position BIGINT NOT NULL
);
INSERT INTO feed_cursors (feed, position) SELECT 'stock', COALESCE(MAX(position), 0) FROM events;
INSERT INTO feed_cursors (feed, position)
SELECT 'incidents', COALESCE(MAX(position), 0) FROM incidents;
