-- Classifier models: numbered versions per name, each with its metrics and
-- its bytes. At most one version per name is live and at most one is in
-- shadow; older ones are retired, never deleted.
CREATE TABLE classifier_models (
    name TEXT NOT NULL,
    version BIGINT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('shadow', 'live', 'retired')),
    kind TEXT NOT NULL,
    metrics TEXT NOT NULL,
    model BYTEA NOT NULL,
    model_bytes BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    note TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    status_changed_at BIGINT NOT NULL,
    PRIMARY KEY (name, version)
);
CREATE UNIQUE INDEX classifier_models_one_live ON classifier_models (name) WHERE status = 'live';
CREATE UNIQUE INDEX classifier_models_one_shadow ON classifier_models (name) WHERE status = 'shadow';
