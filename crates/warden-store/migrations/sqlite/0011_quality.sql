-- QA sampling, blind reviews and rework; calibration sessions.
--
-- `qa_plans` keeps each sampling plan as its checked input (JSON);
-- `qa_sampling_cursor` is how far the sampling pass has read decisions.
-- A sampled decision is one `qa_assignments` row (its QA state, lease,
-- blind verdict, rubric and closing), tagged in `qa_assignment_plans` with
-- each plan that chose it (`by_rate` counts toward the plan's weekly cap).
-- `qa_rework` is a decision sent back to its decider.
CREATE TABLE qa_plans (
    name TEXT PRIMARY KEY,
    definition TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE TABLE qa_sampling_cursor (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    last_decision_id BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE TABLE qa_assignments (
    decision_id BIGINT PRIMARY KEY REFERENCES decisions (id),
    case_id BIGINT NOT NULL REFERENCES cases (id),
    queue TEXT NOT NULL,
    category TEXT NOT NULL,
    decider TEXT NOT NULL,
    decided_at BIGINT NOT NULL,
    sampled_at BIGINT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('sampled', 'claimed', 'verdict_submitted', 'scored', 'closed')),
    version BIGINT NOT NULL,
    lease_assignee TEXT,
    lease_expires_at BIGINT,
    reviewer TEXT,
    verdict TEXT,
    verdict_at BIGINT,
    rubric TEXT,
    scored_at BIGINT,
    closed_at BIGINT
);
CREATE INDEX qa_assignments_queue ON qa_assignments (status, sampled_at, decision_id);
CREATE INDEX qa_assignments_reviewer ON qa_assignments (reviewer, scored_at);
CREATE INDEX qa_assignments_decider ON qa_assignments (decider, status);
CREATE TABLE qa_assignment_plans (
    decision_id BIGINT NOT NULL REFERENCES qa_assignments (decision_id),
    plan TEXT NOT NULL,
    reason TEXT NOT NULL,
    by_rate BIGINT NOT NULL CHECK (by_rate IN (0, 1)),
    sampled_at BIGINT NOT NULL,
    PRIMARY KEY (decision_id, plan)
);
CREATE INDEX qa_assignment_plans_window ON qa_assignment_plans (plan, by_rate, sampled_at);
CREATE TABLE qa_rework (
    decision_id BIGINT PRIMARY KEY REFERENCES qa_assignments (decision_id),
    case_id BIGINT NOT NULL REFERENCES cases (id),
    decider TEXT NOT NULL,
    feedback TEXT NOT NULL,
    suggestion TEXT NOT NULL,
    reopen_case BIGINT NOT NULL CHECK (reopen_case IN (0, 1)),
    sent_back_at BIGINT NOT NULL
);
CREATE INDEX qa_rework_decider ON qa_rework (decider, sent_back_at);

-- Calibration sessions: cases and raters in the order given, one final
-- rating per (case, rater), and the resolution note linked to taxonomy
-- categories (the guidance the session settled).
CREATE TABLE calibration_sessions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('draft', 'open', 'closed', 'resolved')),
    version BIGINT NOT NULL,
    opened_at BIGINT,
    closed_at BIGINT,
    resolution_note TEXT,
    resolved_by TEXT,
    resolved_at BIGINT
);
CREATE TABLE calibration_cases (
    session_id BIGINT NOT NULL REFERENCES calibration_sessions (id),
    position BIGINT NOT NULL,
    case_id BIGINT NOT NULL,
    PRIMARY KEY (session_id, case_id)
);
CREATE TABLE calibration_raters (
    session_id BIGINT NOT NULL REFERENCES calibration_sessions (id),
    position BIGINT NOT NULL,
    rater TEXT NOT NULL,
    PRIMARY KEY (session_id, rater)
);
CREATE TABLE calibration_ratings (
    session_id BIGINT NOT NULL REFERENCES calibration_sessions (id),
    case_id BIGINT NOT NULL,
    rater TEXT NOT NULL,
    label TEXT NOT NULL,
    rated_at BIGINT NOT NULL,
    PRIMARY KEY (session_id, case_id, rater)
);
CREATE TABLE calibration_note_categories (
    session_id BIGINT NOT NULL REFERENCES calibration_sessions (id),
    position BIGINT NOT NULL,
    category TEXT NOT NULL,
    PRIMARY KEY (session_id, category)
);
CREATE INDEX calibration_note_categories_category ON calibration_note_categories (category, session_id);
