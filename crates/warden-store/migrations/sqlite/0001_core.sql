-- Warden core schema, SQLite flavour. Times are milliseconds since the
-- epoch (UTC) in BIGINT columns; flags are 0/1; JSON is TEXT.
CREATE TABLE subjects (
    kind TEXT NOT NULL,
    platform_id TEXT NOT NULL,
    owner_kind TEXT,
    owner_id TEXT,
    text TEXT,
    media TEXT NOT NULL,
    attributes TEXT NOT NULL,
    created_at BIGINT,
    first_seen_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    fingerprint TEXT NOT NULL,
    PRIMARY KEY (kind, platform_id)
);
CREATE INDEX subjects_owner ON subjects (owner_kind, owner_id);
CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    platform_id TEXT NOT NULL UNIQUE,
    event_type TEXT NOT NULL,
    occurred_at BIGINT NOT NULL,
    actor_kind TEXT,
    actor_id TEXT,
    subject_kind TEXT,
    subject_id TEXT,
    ip TEXT,
    device_id TEXT,
    data TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    received_at BIGINT NOT NULL
);
CREATE INDEX events_actor ON events (actor_kind, actor_id, occurred_at);
CREATE INDEX events_subject ON events (subject_kind, subject_id, occurred_at);
CREATE TABLE cases (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    subject_kind TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    category TEXT NOT NULL,
    queue TEXT NOT NULL,
    severity BIGINT NOT NULL,
    status TEXT NOT NULL,
    priority BIGINT NOT NULL,
    version BIGINT NOT NULL,
    assignee TEXT,
    assignee_id BIGINT,
    lease_expires_at BIGINT,
    held BIGINT NOT NULL DEFAULT 0,
    hold_reason TEXT,
    language TEXT,
    opened_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    first_touch_due_at BIGINT NOT NULL,
    resolve_due_at BIGINT NOT NULL,
    first_touched_at BIGINT,
    resolved_at BIGINT,
    report_count BIGINT NOT NULL DEFAULT 0,
    signal_count BIGINT NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX cases_one_open ON cases (subject_kind, subject_id, category) WHERE status <> 'resolved';
CREATE INDEX cases_claim ON cases (queue, status, severity DESC, resolve_due_at, priority DESC, opened_at);
CREATE INDEX cases_assignee ON cases (assignee_id) WHERE assignee_id IS NOT NULL;
CREATE INDEX cases_subject ON cases (subject_kind, subject_id);
CREATE TABLE reports (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    platform_id TEXT NOT NULL UNIQUE,
    subject_kind TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    reason TEXT NOT NULL,
    source TEXT NOT NULL,
    reporter_kind TEXT,
    reporter_id TEXT,
    text TEXT,
    language TEXT,
    created_at BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    fingerprint TEXT NOT NULL,
    case_id BIGINT REFERENCES cases (id)
);
CREATE INDEX reports_case ON reports (case_id);
CREATE INDEX reports_subject ON reports (subject_kind, subject_id);
CREATE TABLE signals (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    platform_id TEXT NOT NULL UNIQUE,
    subject_kind TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    category TEXT NOT NULL,
    source TEXT NOT NULL,
    name TEXT NOT NULL,
    score REAL NOT NULL,
    opens_case BIGINT NOT NULL,
    details TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    fingerprint TEXT NOT NULL,
    case_id BIGINT REFERENCES cases (id)
);
CREATE INDEX signals_case ON signals (case_id);
CREATE INDEX signals_subject ON signals (subject_kind, subject_id);
CREATE TABLE case_transitions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id BIGINT NOT NULL REFERENCES cases (id),
    from_status TEXT,
    to_status TEXT NOT NULL,
    actor TEXT NOT NULL,
    at BIGINT NOT NULL,
    reason TEXT
);
CREATE INDEX case_transitions_case ON case_transitions (case_id);
CREATE TABLE decisions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id BIGINT NOT NULL REFERENCES cases (id),
    subject_kind TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    violation BIGINT NOT NULL,
    category TEXT NOT NULL,
    policy TEXT,
    rationale TEXT NOT NULL,
    decided_by TEXT NOT NULL,
    decided_by_id BIGINT,
    decided_at BIGINT NOT NULL,
    supersedes BIGINT,
    superseded_by BIGINT
);
CREATE INDEX decisions_case ON decisions (case_id);
CREATE INDEX decisions_subject ON decisions (subject_kind, subject_id);
CREATE TABLE actions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    decision_id BIGINT NOT NULL REFERENCES decisions (id),
    case_id BIGINT NOT NULL REFERENCES cases (id),
    target_kind TEXT NOT NULL,
    target_id TEXT NOT NULL,
    action_type TEXT NOT NULL,
    feature TEXT,
    label TEXT,
    duration_seconds BIGINT,
    expires_at BIGINT,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX actions_decision ON actions (decision_id);
CREATE INDEX actions_target ON actions (target_kind, target_id);
CREATE TABLE strikes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id TEXT NOT NULL,
    decision_id BIGINT NOT NULL REFERENCES decisions (id),
    category TEXT NOT NULL,
    weight BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    voided_at BIGINT
);
CREATE INDEX strikes_account ON strikes (account_id);
CREATE TABLE notes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id BIGINT NOT NULL REFERENCES cases (id),
    author TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX notes_case ON notes (case_id);
CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    failed_sign_ins BIGINT NOT NULL DEFAULT 0,
    locked_until BIGINT
);
CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id BIGINT NOT NULL REFERENCES users (id),
    name TEXT NOT NULL,
    scope TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE TABLE sessions (
    session_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    csrf_token TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE TABLE audit_log (
    seq BIGINT PRIMARY KEY,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target_kind TEXT NOT NULL,
    target_id TEXT NOT NULL,
    before_state TEXT NOT NULL,
    after_state TEXT NOT NULL,
    previous_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
