-- Audit records without a global lock (src/sql/audit_sealing.rs): writers
-- append records unsealed, numbered by `id` and stamped with their
-- transaction's id (`txid`); the sealer later assigns each its place in the
-- chain (`seq`) and its hashes, in (txid, id) order, below the oldest
-- running transaction. Records written before this migration keep their
-- place: their `id` is their `seq`, and they are sealed. SQLite keeps
-- chaining records as it writes them (one writer at a time).
ALTER TABLE audit_log ADD COLUMN id BIGINT;
UPDATE audit_log SET id = seq;
CREATE SEQUENCE audit_log_id_seq OWNED BY audit_log.id;
SELECT setval('audit_log_id_seq', COALESCE((SELECT MAX(seq) FROM audit_log), 0) + 1, false);
ALTER TABLE audit_log ALTER COLUMN id SET DEFAULT nextval('audit_log_id_seq');
ALTER TABLE audit_log ALTER COLUMN id SET NOT NULL;
ALTER TABLE audit_log ADD COLUMN txid BIGINT NOT NULL DEFAULT 0;
ALTER TABLE audit_log ALTER COLUMN txid SET DEFAULT txid_current();
ALTER TABLE audit_log DROP CONSTRAINT audit_log_pkey;
ALTER TABLE audit_log ADD PRIMARY KEY (id);
ALTER TABLE audit_log ALTER COLUMN seq DROP NOT NULL;
ALTER TABLE audit_log ALTER COLUMN previous_hash DROP NOT NULL;
ALTER TABLE audit_log ALTER COLUMN hash DROP NOT NULL;
CREATE UNIQUE INDEX audit_log_seq ON audit_log (seq);
CREATE INDEX audit_log_unsealed ON audit_log (txid, id) WHERE seq IS NULL;
