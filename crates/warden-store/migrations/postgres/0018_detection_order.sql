-- Detection reads events in (inserting transaction, seq) order and only
-- below the oldest running transaction (src/sql/detection.rs,
-- `EventPosition`): concurrent intake transactions commit out of `seq`
-- order, so a cursor over `seq` alone could pass an event not yet
-- visible, which would never be evaluated. `txid` is the inserting
-- transaction's id (`txid_current()`, the 64-bit id `pg_current_xact_id()`
-- also gives, as BIGINT like `audit_log.txid` of 0013). Events stored
-- before this migration get 0 and keep their `seq` order, ahead of every
-- later event, and the cursor keeps its place as (0, last_seq). SQLite has
-- one writer: commit order is `seq` order there, and it needs none of this.
ALTER TABLE events ADD COLUMN txid BIGINT NOT NULL DEFAULT 0;
ALTER TABLE events ALTER COLUMN txid SET DEFAULT txid_current();
CREATE INDEX events_detection_order ON events (txid, seq);
ALTER TABLE detection_cursor ADD COLUMN last_txid BIGINT NOT NULL DEFAULT 0;
