-- Signed checkpoints of the audit chain (warden_domain::audit::checkpoint):
-- record `seq` had chain hash `hash` when key `key_id` signed it. `note` is
-- the signed text, which verification reads; the other columns are for
-- listing. Times are milliseconds since the epoch.
CREATE TABLE audit_checkpoints (
    id BIGSERIAL PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL,
    key_id TEXT NOT NULL,
    signed_at BIGINT NOT NULL,
    note TEXT NOT NULL
);
CREATE INDEX audit_checkpoints_by_seq ON audit_checkpoints (seq);
