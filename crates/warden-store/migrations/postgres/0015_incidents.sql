-- Incidents and bulk containment.
--
-- An incident groups cases during a surge: its title, severity (sev1 to
-- sev4), description, owner and status (open, contained, resolved), its
-- member cases (each once) and its timeline. A bulk action over an
-- incident's open cases keeps its command (the body as checked, JSON), its
-- fingerprint (a submission matches its dry run), its status (dry_run,
-- awaiting_approval, applying, completed, rejected), its one approval and
-- its counts, and when its set of cases was taken (cases that join the
-- incident later are not part of it). Each case a run has dealt with has one bulk_action_items row
-- (the step's idempotency key: bulk and case), written in the transaction
-- of the case's decision: a run resumed after a crash passes over the
-- cases that have a row, so no case is decided twice.
CREATE TABLE incidents (
    id BIGSERIAL PRIMARY KEY,
    title TEXT NOT NULL,
    severity TEXT NOT NULL,
    description TEXT NOT NULL,
    owner_id BIGINT NOT NULL,
    owner TEXT NOT NULL,
    status TEXT NOT NULL,
    timeline_entries BIGINT NOT NULL DEFAULT 0,
    opened_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX incidents_opened ON incidents (opened_at);
CREATE TABLE incident_cases (
    incident_id BIGINT NOT NULL REFERENCES incidents (id),
    case_id BIGINT NOT NULL REFERENCES cases (id),
    added_at BIGINT NOT NULL,
    PRIMARY KEY (incident_id, case_id)
);
CREATE INDEX incident_cases_case ON incident_cases (case_id);
CREATE TABLE incident_timeline (
    id BIGSERIAL PRIMARY KEY,
    incident_id BIGINT NOT NULL REFERENCES incidents (id),
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    event TEXT NOT NULL,
    text TEXT NOT NULL
);
CREATE INDEX incident_timeline_incident ON incident_timeline (incident_id, id);
CREATE TABLE bulk_actions (
    id BIGSERIAL PRIMARY KEY,
    incident_id BIGINT NOT NULL REFERENCES incidents (id),
    author_id BIGINT NOT NULL,
    author TEXT NOT NULL,
    status TEXT NOT NULL,
    command TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    planned BIGINT NOT NULL DEFAULT 0,
    applied BIGINT NOT NULL DEFAULT 0,
    skipped BIGINT NOT NULL DEFAULT 0,
    approver_id BIGINT,
    approver TEXT,
    approved_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    completed_at BIGINT,
    cases_as_of BIGINT NOT NULL
);
CREATE INDEX bulk_actions_incident ON bulk_actions (incident_id, id);
CREATE INDEX bulk_actions_applying ON bulk_actions (status) WHERE status = 'applying';
CREATE TABLE bulk_action_items (
    bulk_id BIGINT NOT NULL REFERENCES bulk_actions (id),
    case_id BIGINT NOT NULL REFERENCES cases (id),
    outcome TEXT NOT NULL,
    decision_id BIGINT,
    reason_code TEXT,
    reason TEXT,
    at BIGINT NOT NULL,
    PRIMARY KEY (bulk_id, case_id)
);
ALTER TABLE incidents ADD CONSTRAINT incidents_status_known CHECK (status IN ('open', 'contained', 'resolved'));
ALTER TABLE incidents ADD CONSTRAINT incidents_severity_known CHECK (severity IN ('sev1', 'sev2', 'sev3', 'sev4'));
ALTER TABLE bulk_actions ADD CONSTRAINT bulk_actions_status_known CHECK (status IN ('dry_run', 'awaiting_approval', 'applying', 'completed', 'rejected'));
ALTER TABLE bulk_action_items ADD CONSTRAINT bulk_action_items_outcome_known CHECK (outcome IN ('applied', 'skipped'));
