-- Detection: rule versions, hits, labels, automated actions, and the
-- cursor of the detection worker over the events table.
CREATE TABLE rule_versions (
    rule_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    source_hash TEXT NOT NULL,
    source TEXT NOT NULL,
    mode TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (rule_id, version)
);
CREATE UNIQUE INDEX rule_versions_hash ON rule_versions (rule_id, source_hash);
CREATE TABLE rule_hits (
    id BIGSERIAL PRIMARY KEY,
    rule_id TEXT NOT NULL,
    rule_version BIGINT NOT NULL,
    mode TEXT NOT NULL,
    event_id TEXT NOT NULL,
    event_seq BIGINT NOT NULL,
    subject_kind TEXT,
    subject_id TEXT,
    actor_id TEXT,
    category TEXT NOT NULL,
    matched TEXT NOT NULL,
    acted BIGINT NOT NULL,
    occurred_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX rule_hits_once ON rule_hits (rule_id, rule_version, event_id);
CREATE INDEX rule_hits_rule ON rule_hits (rule_id, occurred_at);
CREATE TABLE labels (
    subject_kind TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    label TEXT NOT NULL,
    expires_at BIGINT,
    source TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (subject_kind, subject_id, label)
);
CREATE TABLE rule_actions (
    id BIGSERIAL PRIMARY KEY,
    rule_id TEXT NOT NULL,
    rule_version BIGINT NOT NULL,
    event_id TEXT NOT NULL,
    target_kind TEXT NOT NULL,
    target_id TEXT NOT NULL,
    action_type TEXT NOT NULL,
    duration_seconds BIGINT,
    expires_at BIGINT,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX rule_actions_once ON rule_actions (rule_id, event_id, action_type);
CREATE INDEX rule_actions_target ON rule_actions (target_kind, target_id);
CREATE TABLE detection_cursor (
    id BIGINT PRIMARY KEY,
    last_seq BIGINT NOT NULL
);
INSERT INTO detection_cursor (id, last_seq) VALUES (1, 0);
