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
CREATE TRIGGER cases_kind_known_insert BEFORE INSERT ON cases WHEN NEW.kind NOT IN ('report', 'appeal') BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: cases_kind_known'); END;
CREATE TRIGGER cases_kind_known_update BEFORE UPDATE OF kind ON cases WHEN NEW.kind NOT IN ('report', 'appeal') BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: cases_kind_known'); END;
DROP INDEX cases_one_open;
CREATE UNIQUE INDEX cases_one_open ON cases (subject_kind, subject_id, category) WHERE status <> 'resolved' AND kind = 'report';
CREATE INDEX cases_kind ON cases (kind) WHERE kind <> 'report';
CREATE TABLE appeals (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
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
    id INTEGER PRIMARY KEY AUTOINCREMENT,
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
CREATE TRIGGER appeals_outcome_known_insert BEFORE INSERT ON appeals WHEN NEW.outcome NOT IN ('upheld', 'overturned', 'modified') BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: appeals_outcome_known'); END;
CREATE TRIGGER appeals_outcome_known_update BEFORE UPDATE OF outcome ON appeals WHEN NEW.outcome NOT IN ('upheld', 'overturned', 'modified') BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: appeals_outcome_known'); END;
CREATE TRIGGER appeals_decider_role_known_insert BEFORE INSERT ON appeals WHEN NEW.decider_role NOT IN ('associate', 'analyst', 'lead', 'qa', 'policy', 'admin', 'auditor') BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: appeals_decider_role_known'); END;
CREATE TRIGGER appeals_decider_role_known_update BEFORE UPDATE OF decider_role ON appeals WHEN NEW.decider_role NOT IN ('associate', 'analyst', 'lead', 'qa', 'policy', 'admin', 'auditor') BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: appeals_decider_role_known'); END;
CREATE TRIGGER appeals_reviewer_role_known_insert BEFORE INSERT ON appeals WHEN NEW.reviewer_role NOT IN ('associate', 'analyst', 'lead', 'qa', 'policy', 'admin', 'auditor') BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: appeals_reviewer_role_known'); END;
CREATE TRIGGER appeals_reviewer_role_known_update BEFORE UPDATE OF reviewer_role ON appeals WHEN NEW.reviewer_role NOT IN ('associate', 'analyst', 'lead', 'qa', 'policy', 'admin', 'auditor') BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: appeals_reviewer_role_known'); END;
CREATE TRIGGER appeal_items_appellant_kind_known_insert BEFORE INSERT ON appeal_items WHEN NEW.appellant_kind NOT IN ('account') BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: appeal_items_appellant_kind_known'); END;
CREATE TRIGGER appeal_items_appellant_kind_known_update BEFORE UPDATE OF appellant_kind ON appeal_items WHEN NEW.appellant_kind NOT IN ('account') BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: appeal_items_appellant_kind_known'); END;
CREATE TRIGGER dsa_statements_appeal_outcome_known_insert BEFORE INSERT ON dsa_statements WHEN NEW.appeal_outcome NOT IN ('upheld', 'overturned', 'modified') BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: dsa_statements_appeal_outcome_known'); END;
CREATE TRIGGER dsa_statements_appeal_outcome_known_update BEFORE UPDATE OF appeal_outcome ON dsa_statements WHEN NEW.appeal_outcome NOT IN ('upheld', 'overturned', 'modified') BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: dsa_statements_appeal_outcome_known'); END;
DROP TRIGGER notice_templates_action_type_known_insert;
DROP TRIGGER notice_templates_action_type_known_update;
CREATE TRIGGER notice_templates_action_type_known_insert BEFORE INSERT ON notice_templates WHEN NEW.action_type NOT IN ('remove_content', 'warn', 'restrict', 'suspend', 'ban', 'hold_transaction', 'label', 'reversal', 'appeal.upheld', 'appeal.overturned', 'appeal.modified') BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: notice_templates_action_type_known'); END;
CREATE TRIGGER notice_templates_action_type_known_update BEFORE UPDATE OF action_type ON notice_templates WHEN NEW.action_type NOT IN ('remove_content', 'warn', 'restrict', 'suspend', 'ban', 'hold_transaction', 'label', 'reversal', 'appeal.upheld', 'appeal.overturned', 'appeal.modified') BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: notice_templates_action_type_known'); END;
INSERT INTO notice_templates (action_type, category, language, subject, body, updated_by, updated_at) VALUES ('appeal.upheld', '*', 'en', 'Your appeal was reviewed: the decision stands', 'We reviewed your appeal {{appeal_id}} of decision {{original_decision_id}} ({{category_name}}). Someone who did not take the decision looked at it again, and it stands.

You may have other options, such as an out-of-court dispute settlement body or the courts.', 'system', 0);
INSERT INTO notice_templates (action_type, category, language, subject, body, updated_by, updated_at) VALUES ('appeal.overturned', '*', 'en', 'Your appeal was successful', 'We reviewed your appeal {{appeal_id}} of decision {{original_decision_id}} ({{category_name}}) and reversed the decision. Anything it restricted is restored, and it no longer counts against your account.', 'system', 0);
INSERT INTO notice_templates (action_type, category, language, subject, body, updated_by, updated_at) VALUES ('appeal.modified', '*', 'en', 'Your appeal was reviewed: the decision was changed', 'We reviewed your appeal {{appeal_id}} of decision {{original_decision_id}} and replaced it with decision {{decision_id}} ({{category_name}}). You will receive a separate notice of what now applies.', 'system', 0);
