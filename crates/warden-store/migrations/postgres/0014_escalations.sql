-- Escalations and evidence (issue 12).
--
-- An escalation moves a case to a specialist team's restricted queue at a
-- severity (sev1..sev4) with a reason; it records the times the KPIs read
-- (detected = the case opened, escalated, acknowledged, resolved) and the
-- package as sent (JSON). Sev-1 pages go out as outbox rows of kind
-- `escalation.page` (endpoint key `escalation.page`), linked by
-- `outbox.escalation_id`; acknowledging cancels the pages not yet sent.
--
-- Evidence items belong to a case; their content (an excerpt's or a URL's
-- UTF-8 bytes, a file's bytes) is stored once per SHA-256 in
-- `evidence_blobs`: on PostgreSQL a `bytea` column (not large objects:
-- bytea rows are transactional, replicated and dumped like every other
-- row, and evidence files are bounded by `[evidence] file_bytes_max`).
-- Every read hashes the bytes again.
CREATE TABLE escalations (
    id BIGSERIAL PRIMARY KEY,
    case_id BIGINT NOT NULL REFERENCES cases (id),
    team TEXT NOT NULL,
    severity TEXT NOT NULL,
    reason TEXT NOT NULL,
    escalated_by_id BIGINT NOT NULL,
    escalated_by TEXT NOT NULL,
    detected_at BIGINT NOT NULL,
    escalated_at BIGINT NOT NULL,
    acknowledge_by BIGINT NOT NULL,
    acknowledged_at BIGINT,
    acknowledged_by TEXT,
    resolved_at BIGINT,
    package TEXT NOT NULL
);
CREATE INDEX escalations_case ON escalations (case_id, id);
CREATE INDEX escalations_open ON escalations (escalated_at, id) WHERE acknowledged_at IS NULL;
ALTER TABLE escalations ADD CONSTRAINT escalations_severity_known CHECK (severity IN ('sev1', 'sev2', 'sev3', 'sev4'));
CREATE TABLE evidence_blobs (
    hash TEXT PRIMARY KEY,
    size_bytes BIGINT NOT NULL,
    content BYTEA NOT NULL,
    stored_at BIGINT NOT NULL
);
CREATE TABLE evidence_items (
    id BIGSERIAL PRIMARY KEY,
    case_id BIGINT NOT NULL REFERENCES cases (id),
    kind TEXT NOT NULL,
    content_hash TEXT NOT NULL REFERENCES evidence_blobs (hash),
    size_bytes BIGINT NOT NULL,
    media_type TEXT,
    file_name TEXT,
    caption TEXT NOT NULL,
    added_by_id BIGINT NOT NULL,
    added_by TEXT NOT NULL,
    added_at BIGINT NOT NULL
);
CREATE INDEX evidence_items_case ON evidence_items (case_id, id);
CREATE UNIQUE INDEX evidence_items_case_content ON evidence_items (case_id, content_hash);
ALTER TABLE evidence_items ADD CONSTRAINT evidence_items_kind_known CHECK (kind IN ('text_excerpt', 'url', 'file'));
ALTER TABLE outbox ADD COLUMN escalation_id BIGINT;
CREATE INDEX outbox_escalation ON outbox (escalation_id, id) WHERE escalation_id IS NOT NULL;
ALTER TABLE outbox DROP CONSTRAINT outbox_kind_known;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_known CHECK (kind IN ('action.apply', 'action.lift', 'action.reverse', 'notice', 'escalation.page'));
