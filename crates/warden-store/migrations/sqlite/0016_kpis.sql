-- KPIs: indexes for the window queries that load KPI facts, and the
-- wellness exposure records.
--
-- Every KPI fact is placed in a report's window by one time (a decision's
-- `decided_at`, a case's `first_touched_at`, an appeal's `opened_at` or
-- `decided_at`, a QA review's `scored_at`, an action's `created_at`): each
-- gets an index so that a window reads only its rows. Open cases at an
-- instant are the open ones opened by then plus the resolved ones resolved
-- after it. `wellness_exposures` keeps each interval a reviewer had a
-- case's media revealed, with the milliseconds it was visible (the Page
-- Visibility API's visible time, not page time); `wellness_breaks` the
-- breaks suggested after the configured exposure and whether they were
-- taken.
CREATE INDEX decisions_decided ON decisions (decided_at, id);
CREATE INDEX decisions_superseded_by ON decisions (superseded_by);
CREATE INDEX cases_first_touched ON cases (first_touched_at, id) WHERE first_touched_at IS NOT NULL;
CREATE INDEX cases_open_opened ON cases (opened_at) WHERE status <> 'resolved';
CREATE INDEX cases_resolved_at ON cases (resolved_at) WHERE resolved_at IS NOT NULL;
CREATE INDEX case_transitions_to ON case_transitions (case_id, to_status, at);
CREATE INDEX appeals_decided ON appeals (decided_at) WHERE decided_at IS NOT NULL;
CREATE INDEX appeals_decision ON appeals (decision_id);
CREATE INDEX qa_assignments_scored ON qa_assignments (scored_at, decision_id) WHERE scored_at IS NOT NULL;
CREATE INDEX actions_created ON actions (created_at, id);
CREATE TABLE wellness_exposures (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    reviewer TEXT NOT NULL,
    case_id BIGINT NOT NULL REFERENCES cases (id),
    revealed_at BIGINT NOT NULL,
    visible_ms BIGINT NOT NULL CHECK (visible_ms >= 0),
    recorded_at BIGINT NOT NULL
);
CREATE INDEX wellness_exposures_revealed ON wellness_exposures (revealed_at, id);
CREATE INDEX wellness_exposures_reviewer ON wellness_exposures (reviewer, revealed_at);
CREATE TABLE wellness_breaks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    reviewer TEXT NOT NULL,
    suggested_at BIGINT NOT NULL,
    taken_at BIGINT
);
CREATE INDEX wellness_breaks_suggested ON wellness_breaks (suggested_at, id);
CREATE INDEX wellness_breaks_reviewer ON wellness_breaks (reviewer, suggested_at);
