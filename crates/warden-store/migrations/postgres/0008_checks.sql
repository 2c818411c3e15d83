-- Every status and kind column holds only values Warden knows: subject
-- kinds, case statuses and severities, report sources, action types and
-- statuses, delivery kinds and statuses, roles, scopes, rule modes, notice
-- and submission statuses. The lists are the domain's enums (a unit test
-- in src/sql/migrate.rs compares them); the store's row wrappers refuse
-- an unknown value on the way out as well (StoreError::Corrupt).
-- NULL stays allowed where the column allows it (an event without actor).
-- PostgreSQL: named CHECK constraints, `<table>_<column>_known`. Adding
-- one validates the rows already stored: a database holding a value
-- Warden does not know fails this migration, naming the constraint.
ALTER TABLE subjects ADD CONSTRAINT subjects_kind_known CHECK (kind IN ('account', 'content', 'message', 'listing', 'transaction', 'media'));
ALTER TABLE subjects ADD CONSTRAINT subjects_owner_kind_known CHECK (owner_kind IN ('account', 'content', 'message', 'listing', 'transaction', 'media'));
ALTER TABLE events ADD CONSTRAINT events_actor_kind_known CHECK (actor_kind IN ('account', 'content', 'message', 'listing', 'transaction', 'media'));
ALTER TABLE events ADD CONSTRAINT events_subject_kind_known CHECK (subject_kind IN ('account', 'content', 'message', 'listing', 'transaction', 'media'));
ALTER TABLE cases ADD CONSTRAINT cases_subject_kind_known CHECK (subject_kind IN ('account', 'content', 'message', 'listing', 'transaction', 'media'));
ALTER TABLE cases ADD CONSTRAINT cases_severity_known CHECK (severity IN (1, 2, 3, 4));
ALTER TABLE cases ADD CONSTRAINT cases_status_known CHECK (status IN ('new', 'in_review', 'waiting_for_information', 'escalated', 'resolved', 'reopened'));
ALTER TABLE reports ADD CONSTRAINT reports_subject_kind_known CHECK (subject_kind IN ('account', 'content', 'message', 'listing', 'transaction', 'media'));
ALTER TABLE reports ADD CONSTRAINT reports_source_known CHECK (source IN ('user_report', 'automated_flag', 'trusted_flagger', 'legal_notice', 'support_escalation'));
ALTER TABLE reports ADD CONSTRAINT reports_reporter_kind_known CHECK (reporter_kind IN ('account', 'content', 'message', 'listing', 'transaction', 'media'));
ALTER TABLE signals ADD CONSTRAINT signals_subject_kind_known CHECK (subject_kind IN ('account', 'content', 'message', 'listing', 'transaction', 'media'));
ALTER TABLE case_transitions ADD CONSTRAINT case_transitions_from_status_known CHECK (from_status IN ('new', 'in_review', 'waiting_for_information', 'escalated', 'resolved', 'reopened'));
ALTER TABLE case_transitions ADD CONSTRAINT case_transitions_to_status_known CHECK (to_status IN ('new', 'in_review', 'waiting_for_information', 'escalated', 'resolved', 'reopened'));
ALTER TABLE decisions ADD CONSTRAINT decisions_subject_kind_known CHECK (subject_kind IN ('account', 'content', 'message', 'listing', 'transaction', 'media'));
ALTER TABLE actions ADD CONSTRAINT actions_target_kind_known CHECK (target_kind IN ('account', 'content', 'message', 'listing', 'transaction', 'media'));
ALTER TABLE actions ADD CONSTRAINT actions_action_type_known CHECK (action_type IN ('remove_content', 'warn', 'restrict', 'suspend', 'ban', 'hold_transaction', 'label'));
ALTER TABLE actions ADD CONSTRAINT actions_status_known CHECK (status IN ('pending_approval', 'rejected', 'pending', 'delivered', 'applied', 'failed', 'expired', 'reversed'));
ALTER TABLE users ADD CONSTRAINT users_role_known CHECK (role IN ('associate', 'analyst', 'lead', 'qa', 'policy', 'admin', 'auditor'));
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_scope_known CHECK (scope IN ('ingest', 'read', 'review', 'admin'));
ALTER TABLE rule_versions ADD CONSTRAINT rule_versions_mode_known CHECK (mode IN ('live', 'shadow', 'disabled'));
ALTER TABLE rule_hits ADD CONSTRAINT rule_hits_mode_known CHECK (mode IN ('live', 'shadow', 'disabled'));
ALTER TABLE rule_hits ADD CONSTRAINT rule_hits_subject_kind_known CHECK (subject_kind IN ('account', 'content', 'message', 'listing', 'transaction', 'media'));
ALTER TABLE labels ADD CONSTRAINT labels_subject_kind_known CHECK (subject_kind IN ('account', 'content', 'message', 'listing', 'transaction', 'media'));
ALTER TABLE rule_actions ADD CONSTRAINT rule_actions_target_kind_known CHECK (target_kind IN ('account', 'content', 'message', 'listing', 'transaction', 'media'));
ALTER TABLE rule_actions ADD CONSTRAINT rule_actions_action_type_known CHECK (action_type IN ('remove_content', 'warn', 'restrict', 'suspend', 'ban', 'hold_transaction', 'label'));
ALTER TABLE rule_actions ADD CONSTRAINT rule_actions_status_known CHECK (status IN ('pending_approval', 'rejected', 'pending', 'delivered', 'applied', 'failed', 'expired', 'reversed'));
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_known CHECK (kind IN ('action.apply', 'action.lift', 'action.reverse', 'notice'));
ALTER TABLE outbox ADD CONSTRAINT outbox_status_known CHECK (status IN ('pending', 'sending', 'delivered', 'confirmed', 'failed', 'dead', 'cancelled'));
ALTER TABLE notice_templates ADD CONSTRAINT notice_templates_action_type_known CHECK (action_type IN ('remove_content', 'warn', 'restrict', 'suspend', 'ban', 'hold_transaction', 'label', 'reversal'));
ALTER TABLE notices ADD CONSTRAINT notices_recipient_kind_known CHECK (recipient_kind IN ('account', 'content', 'message', 'listing', 'transaction', 'media'));
ALTER TABLE notices ADD CONSTRAINT notices_status_known CHECK (status IN ('queued', 'refused', 'no_template'));
ALTER TABLE dsa_statements ADD CONSTRAINT dsa_statements_submission_status_known CHECK (submission_status IN ('unsubmitted', 'attempted', 'accepted', 'rejected'));
