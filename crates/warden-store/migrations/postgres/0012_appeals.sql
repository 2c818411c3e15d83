-- Appeals (DSA Art. 20 internal complaint handling).
--
-- Every case has a kind: `report` (opened by reports and signals) or
-- `appeal` (opened by an appeal of a decision). Only report cases join by
-- subject and category, so the one-open-case index covers report cases
-- only. An appeal (one per contested decision while it is open) has one
-- case and gathers its appellants' items (each idempotent by the
-- platform's id with its fingerprint); it records the original decider
-- and their role when it came in, for the independence rule, and its
-- outcome once decided. A statement of reasons records the outcome of an
-- appeal of its decision. The built-in English `appeal.*` notice
-- templates (warden_domain::notice::DEFAULT_APPEAL_TEMPLATES) are seeded.
ALTER TABLE cases ADD COLUMN kind TEXT NOT NULL DEFAULT 'report';
ALTER TABLE cases ADD CONSTRAINT cases_kind_known CHECK (kind IN ('report', 'appeal'));
DROP INDEX cases_one_open;
CREATE UNIQUE INDEX cases_one_open ON cases (subject_kind, subject_id, category) WHERE status <> 'resolved' AND kind = 'report';
CREATE INDEX cases_kind ON cases (kind) WHERE kind <> 'report';
CREATE TABLE appeals (
    id BIGSERIAL PRIMARY KEY,
    case_id BIGINT NOT NULL UNIQUE REFERENCES cases (id),
    decision_id BIGINT NOT NULL REFERENCES decisions (id),
    original_case_id BIGINT NOT NULL REFERENCES cases (id),
    decider_id BIGINT,
    decider_role TEXT,
    outcome TEXT,
    reviewer TEXT,
    reviewer_id BIGINT,
    reviewer_role TEXT,
    rationale TEXT,
    replacement_decision_id BIGINT,
    opened_at BIGINT NOT NULL,
    decided_at BIGINT
);
CREATE UNIQUE INDEX appeals_one_open ON appeals (decision_id) WHERE outcome IS NULL;
CREATE INDEX appeals_opened ON appeals (opened_at);
CREATE TABLE appeal_items (
    id BIGSERIAL PRIMARY KEY,
    platform_id TEXT NOT NULL UNIQUE,
    appeal_id BIGINT NOT NULL REFERENCES appeals (id),
    fingerprint TEXT NOT NULL,
    action_id BIGINT,
    appellant_kind TEXT NOT NULL,
    appellant_id TEXT NOT NULL,
    statement TEXT NOT NULL,
    language TEXT,
    appealed_at BIGINT NOT NULL,
    received_at BIGINT NOT NULL
);
CREATE INDEX appeal_items_appeal ON appeal_items (appeal_id);
ALTER TABLE dsa_statements ADD COLUMN appeal_outcome TEXT;
ALTER TABLE dsa_statements ADD COLUMN appeal_decided_at BIGINT;
ALTER TABLE dsa_statements ADD COLUMN withdrawn_at BIGINT;
ALTER TABLE appeals ADD CONSTRAINT appeals_outcome_known CHECK (outcome IN ('upheld', 'overturned', 'modified'));
ALTER TABLE appeals ADD CONSTRAINT appeals_decider_role_known CHECK (decider_role IN ('associate', 'analyst', 'lead', 'qa', 'policy', 'admin', 'auditor'));
ALTER TABLE appeals ADD CONSTRAINT appeals_reviewer_role_known CHECK (reviewer_role IN ('associate', 'analyst', 'lead', 'qa', 'policy', 'admin', 'auditor'));
ALTER TABLE appeal_items ADD CONSTRAINT appeal_items_appellant_kind_known CHECK (appellant_kind IN ('account'));
ALTER TABLE dsa_statements ADD CONSTRAINT dsa_statements_appeal_outcome_known CHECK (appeal_outcome IN ('upheld', 'overturned', 'modified'));
ALTER TABLE notice_templates DROP CONSTRAINT notice_templates_action_type_known;
ALTER TABLE notice_templates ADD CONSTRAINT notice_templates_action_type_known CHECK (action_type IN ('remove_content', 'warn', 'restrict', 'suspend', 'ban', 'hold_transaction', 'label', 'reversal', 'appeal.upheld', 'appeal.overturned', 'appeal.modified'));
INSERT INTO notice_templates (action_type, category, language, subject, body, updated_by, updated_at) VALUES ('appeal.upheld', '*', 'en', 'Your appeal was reviewed: the decision stands', 'We reviewed your appeal {{appeal_id}} of decision {{original_decision_id}} ({{category_name}}). Someone who did not take the decision looked at it again, and it stands.

You may have other options, such as an out-of-court dispute settlement body or the courts.', 'system', 0);
INSERT INTO notice_templates (action_type, category, language, subject, body, updated_by, updated_at) VALUES ('appeal.overturned', '*', 'en', 'Your appeal was successful', 'We reviewed your appeal {{appeal_id}} of decision {{original_decision_id}} ({{category_name}}) and reversed the decision. Anything it restricted is restored, and it no longer counts against your account.', 'system', 0);
INSERT INTO notice_templates (action_type, category, language, subject, body, updated_by, updated_at) VALUES ('appeal.modified', '*', 'en', 'Your appeal was reviewed: the decision was changed', 'We reviewed your appeal {{appeal_id}} of decision {{original_decision_id}} and replaced it with decision {{decision_id}} ({{category_name}}). You will receive a separate notice of what now applies.', 'system', 0);
