-- Enforcement: versioned taxonomy and matrix, decision rights, reversals,
-- the transactional outbox of deliveries, notices and DSA statements of
-- reasons. Times are milliseconds since the epoch; JSON is TEXT.
CREATE TABLE taxonomy_versions (
    version BIGINT PRIMARY KEY,
    document TEXT NOT NULL,
    note TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
ALTER TABLE decisions ADD COLUMN taxonomy_version BIGINT;
ALTER TABLE decisions ADD COLUMN enforcement TEXT;
ALTER TABLE decisions ADD COLUMN reversed_at BIGINT;
ALTER TABLE decisions ADD COLUMN reversed_by TEXT;
ALTER TABLE decisions ADD COLUMN reversal_reason TEXT;
ALTER TABLE actions ADD COLUMN approval_reasons TEXT;
ALTER TABLE actions ADD COLUMN approval_by TEXT;
ALTER TABLE actions ADD COLUMN approval_by_id BIGINT;
ALTER TABLE actions ADD COLUMN approval_at BIGINT;
ALTER TABLE actions ADD COLUMN approval_note TEXT;
ALTER TABLE actions ADD COLUMN reversed_at BIGINT;
ALTER TABLE actions ADD COLUMN reversed_by TEXT;
ALTER TABLE actions ADD COLUMN reversal_reason TEXT;
ALTER TABLE actions ADD COLUMN status_at BIGINT;
ALTER TABLE actions ADD COLUMN status_detail TEXT;
CREATE INDEX actions_awaiting_approval ON actions (created_at, id) WHERE status = 'pending_approval';
CREATE TABLE outbox (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL,
    action_id BIGINT REFERENCES actions (id),
    notice_id BIGINT,
    endpoint_key TEXT NOT NULL,
    idempotency_key TEXT NOT NULL UNIQUE,
    body TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    replays BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    lease_owner TEXT,
    last_error TEXT,
    last_status_code BIGINT,
    platform_detail TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    delivered_at BIGINT,
    confirmed_at BIGINT
);
CREATE INDEX outbox_due ON outbox (next_attempt_at, id) WHERE status IN ('pending', 'sending');
CREATE INDEX outbox_action ON outbox (action_id, id);
CREATE INDEX outbox_status ON outbox (status, id);
CREATE TABLE notice_templates (
    id BIGSERIAL PRIMARY KEY,
    action_type TEXT NOT NULL,
    category TEXT NOT NULL,
    language TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (action_type, category, language)
);
CREATE TABLE notices (
    id BIGSERIAL PRIMARY KEY,
    decision_id BIGINT NOT NULL REFERENCES decisions (id),
    action_id BIGINT,
    template_id BIGINT,
    recipient_kind TEXT NOT NULL,
    recipient_id TEXT NOT NULL,
    language TEXT NOT NULL,
    subject TEXT,
    body TEXT,
    status TEXT NOT NULL,
    refusal TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX notices_decision ON notices (decision_id);
CREATE TABLE dsa_statements (
    id BIGSERIAL PRIMARY KEY,
    decision_id BIGINT NOT NULL UNIQUE REFERENCES decisions (id),
    puid TEXT NOT NULL UNIQUE,
    statement TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    submission_status TEXT NOT NULL,
    submission_attempts BIGINT NOT NULL DEFAULT 0,
    submitted_at BIGINT,
    submission_error TEXT,
    database_uuid TEXT,
    permalink TEXT
);
CREATE INDEX dsa_statements_created ON dsa_statements (created_at, id);
CREATE INDEX dsa_statements_submission ON dsa_statements (submission_status, id);
INSERT INTO notice_templates (action_type, category, language, subject, body, updated_by, updated_at) VALUES
('remove_content', '*', 'en', 'We removed your content', 'We removed your {{subject_kind}} {{subject_id}} because it breaks our rules on {{category_name}}.

If you think we made a mistake, you can appeal this decision.', 'system', 0),
('warn', '*', 'en', 'A warning about your account', 'Your account received a warning for breaking our rules on {{category_name}}. Further breaches may lead to restrictions of your account.', 'system', 0),
('restrict', '*', 'en', 'A feature of your account is restricted', 'You cannot use {{feature}} until {{end_date}} because you broke our rules on {{category_name}}.

If you think we made a mistake, you can appeal this decision.', 'system', 0),
('suspend', '*', 'en', 'Your account is suspended', 'Your account is suspended until {{end_date}} because you broke our rules on {{category_name}}.

If you think we made a mistake, you can appeal this decision.', 'system', 0),
('ban', '*', 'en', 'Your account is closed', 'Your account was closed for a serious or repeated breach of our rules on {{category_name}}.

If you think we made a mistake, you can appeal this decision.', 'system', 0),
('hold_transaction', '*', 'en', 'A payment is on hold', 'We put your transaction {{subject_id}} on hold while we review it under our rules on {{category_name}}.', 'system', 0),
('label', '*', 'en', 'A label was added to your content', 'We added the label {{label}} to your {{subject_kind}} {{subject_id}} under our rules on {{category_name}}.', 'system', 0),
('reversal', '*', 'en', 'We reversed an earlier decision', 'We reversed {{action_name}} (decision {{decision_id}}). We are sorry for the trouble.', 'system', 0);
