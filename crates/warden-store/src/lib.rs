//! Warden's storage layer.
//!
//! One [`Store`] trait, one implementation ([`SqlStore`]) that speaks to
//! SQLite (the embedded default: a file under the data directory, WAL mode)
//! or PostgreSQL (for production and several servers sharing one database).
//! The trait exposes no SQL types. Each backend owns its migrations, which run
//! at start.
//!
//! Invariants every implementation keeps:
//! - a call that returns `Ok` has committed to durable storage;
//! - every change writes its audit record in the same transaction, chained to
//!   the previous record by hash;
//! - a case change names the version it expects and fails with
//!   [`StoreError::Conflict`] when the case has moved on, changing nothing;
//! - two users never hold a live lease on the same case.
#![deny(missing_docs)]

mod detection_records;
mod enforcement;
mod models;
mod records;
mod sql;

use async_trait::async_trait;
use chrono::Duration;
use serde_json::Value;

use warden_domain::audit::StoredAuditRecord;
use warden_domain::case::CaseStatus;
use warden_domain::decision::{DecisionInput, Rationale};
pub use warden_domain::enforcement::{DecisionMode, Ruling};
use warden_domain::intake::{IntakeOutcome, NewEvent, NewReport, NewSignal, NewSubject};
use warden_domain::routing::{QueueScope, Router};
use warden_domain::taxonomy::Taxonomy;
use warden_domain::{access::Role, access::Scope, CaseId, SubjectRef, Timestamp};

pub use detection_records::*;
pub use enforcement::*;
pub use models::*;
pub use records::*;
pub use sql::{Backend, SqlStore, SqliteOptions};

/// Errors from the store, split by what the caller should do about them.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The thing asked for does not exist.
    #[error("{0} not found")]
    NotFound(String),
    /// The request conflicts with the current state (stale version, case held
    /// by someone else, id reused with other content). Nothing was changed.
    #[error("{0}")]
    Conflict(String),
    /// The request is well-formed but not acceptable in this state.
    #[error("{field}: {reason}")]
    Invalid {
        /// The field at fault.
        field: String,
        /// Why.
        reason: String,
    },
    /// The database failed; the cause is logged, not shown to clients.
    #[error("database error: {0}")]
    Database(String),
}

impl StoreError {
    pub(crate) fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        StoreError::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(error: sqlx::Error) -> Self {
        if let sqlx::Error::Database(database) = &error {
            // PostgreSQL refuses text it cannot hold (NUL, SQLSTATE 22021):
            // the input's fault, not the server's. The edge rule and the
            // free-text escape keep NUL away; this is the backstop.
            if database.code().as_deref() == Some("22021") {
                return StoreError::invalid("", "contains a character that cannot be stored (NUL)");
            }
        }
        StoreError::Database(error.to_string())
    }
}

/// A result from the store.
pub type StoreResult<T> = Result<T, StoreError>;

/// Who is acting, as the audit log records it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The user's id; `None` for Warden itself (`system`).
    pub user_id: Option<i64>,
    /// The user's name, or `system`.
    pub name: String,
    /// The API token the user acts through, if any: every audit record of
    /// the change names it (`via_token` in the record's after-state), so
    /// that who minted a token and who used it can both be answered.
    pub token_id: Option<i64>,
}

impl Actor {
    /// Warden itself, for work no person started (demo loading, expiry).
    pub fn system() -> Self {
        Self {
            user_id: None,
            name: "system".into(),
            token_id: None,
        }
    }

    /// A user.
    pub fn user(user_id: i64, name: &str) -> Self {
        Self {
            user_id: Some(user_id),
            name: name.to_string(),
            token_id: None,
        }
    }

    /// The same actor, acting through API token `token_id`.
    pub fn via_token(mut self, token_id: Option<i64>) -> Self {
        self.token_id = token_id;
        self
    }

    /// Who minted a token this actor creates: the user's name, or `system`
    /// for Warden itself and the command line (an operator at the machine).
    pub fn minter(&self) -> &str {
        if self.user_id.is_some() {
            &self.name
        } else {
            "system"
        }
    }
}

/// The policy in force for placing and deciding cases.
#[derive(Debug, Clone)]
pub struct CasePolicy {
    /// Categories and their default severities.
    pub taxonomy: Taxonomy,
    /// Queues and routing.
    pub router: Router,
}

impl Default for CasePolicy {
    fn default() -> Self {
        Self {
            taxonomy: Taxonomy::default(),
            router: Router::new(Vec::new()).expect("an empty router gets a catch-all queue"),
        }
    }
}

/// Which cases to list.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    /// Only this queue.
    pub queue: Option<String>,
    /// Only these statuses; empty means all.
    pub statuses: Vec<CaseStatus>,
    /// Only cases held by this user id.
    pub assignee_id: Option<i64>,
    /// Only cases about this subject.
    pub subject: Option<SubjectRef>,
    /// Only cases of this taxonomy category.
    pub category: Option<String>,
    /// Only cases of this severity.
    pub severity: Option<warden_domain::case::Severity>,
    /// Only cases whose language is this one or a subtag of it (`de` takes `de-AT`).
    pub language: Option<String>,
    /// Only cases in the queues the reader may see; `Every` for Warden itself.
    pub scope: QueueScope,
    /// Page size, capped at `PAGE_SIZE_MAX`.
    pub limit: u32,
    /// Rows to skip.
    pub offset: u32,
}

/// A change of a case's status other than by claiming or deciding.
#[derive(Debug, Clone)]
pub struct StatusChange {
    /// The new status: escalated, waiting_for_information, in_review, reopened.
    pub to: CaseStatus,
    /// Why, as the analyst wrote it.
    pub reason: String,
    /// Move the case to this queue (escalations move to a specialist queue).
    pub queue: Option<String>,
    /// New SLA deadlines (a reopened case starts a new clock).
    pub deadlines: Option<warden_domain::sla::SlaDeadlines>,
}

/// Warden's storage.
#[async_trait]
pub trait Store: EnforcementStore + ModelStore + Send + Sync + 'static {
    /// Which backend this is.
    fn backend(&self) -> Backend;

    /// Checks that the database answers.
    async fn ping(&self) -> StoreResult<()>;

    /// Creates or updates subjects, in one transaction.
    async fn ingest_subjects(
        &self,
        actor: &Actor,
        items: Vec<NewSubject>,
        now: Timestamp,
    ) -> StoreResult<Vec<IntakeOutcome>>;

    /// Stores events, in one transaction.
    async fn ingest_events(
        &self,
        actor: &Actor,
        items: Vec<NewEvent>,
        now: Timestamp,
    ) -> StoreResult<Vec<IntakeOutcome>>;

    /// Stores reports and opens or joins their cases, in one transaction.
    async fn ingest_reports(
        &self,
        actor: &Actor,
        items: Vec<NewReport>,
        policy: &CasePolicy,
        now: Timestamp,
    ) -> StoreResult<Vec<IntakeOutcome>>;

    /// Stores signals and opens or joins cases for those that open cases.
    async fn ingest_signals(
        &self,
        actor: &Actor,
        items: Vec<NewSignal>,
        policy: &CasePolicy,
        now: Timestamp,
    ) -> StoreResult<Vec<IntakeOutcome>>;

    /// Claims the next case in `queue` for the actor, with a lease of `lease`.
    async fn claim_next(
        &self,
        actor: &Actor,
        queue: &str,
        lease: Duration,
        now: Timestamp,
    ) -> StoreResult<Option<CaseRecord>>;

    /// One case, as it is now (no audit record: callers record reads).
    async fn case(&self, id: CaseId) -> StoreResult<Option<CaseRecord>>;

    /// One case with its reports, signals, transitions, decisions, actions and notes.
    async fn case_detail(&self, id: CaseId) -> StoreResult<Option<CaseDetail>>;

    /// The first reports and signals (up to `per_case_max` each) of each case in `ids`.
    async fn case_items(
        &self,
        ids: &[CaseId],
        per_case_max: u32,
    ) -> StoreResult<(Vec<ReportRecord>, Vec<SignalRecord>)>;

    /// Cases matching a filter, in queue order.
    async fn list_cases(&self, filter: &CaseFilter) -> StoreResult<Vec<CaseRecord>>;

    /// Extends the actor's lease on a case they hold.
    async fn renew_lease(
        &self,
        actor: &Actor,
        id: CaseId,
        expected_version: Option<i64>,
        lease: Duration,
        now: Timestamp,
    ) -> StoreResult<CaseRecord>;

    /// Gives a case back to its queue. `as_lead` lets a lead release a case
    /// someone else holds.
    async fn release(
        &self,
        actor: &Actor,
        id: CaseId,
        expected_version: Option<i64>,
        as_lead: bool,
        now: Timestamp,
    ) -> StoreResult<CaseRecord>;

    /// Keeps a case the actor holds past its lease, with a reason.
    async fn hold(
        &self,
        actor: &Actor,
        id: CaseId,
        expected_version: Option<i64>,
        reason: &str,
        now: Timestamp,
    ) -> StoreResult<CaseRecord>;

    /// Hands a case to another user (a lead's move), with a fresh lease.
    async fn assign(
        &self,
        actor: &Actor,
        id: CaseId,
        expected_version: Option<i64>,
        assignee: &UserRecord,
        lease: Duration,
        now: Timestamp,
    ) -> StoreResult<CaseRecord>;

    /// Escalates, parks, resumes or reopens a case.
    async fn change_status(
        &self,
        actor: &Actor,
        id: CaseId,
        expected_version: Option<i64>,
        change: StatusChange,
        now: Timestamp,
    ) -> StoreResult<CaseRecord>;

    /// Reopens a resolved case, with a reason. Its new SLA deadlines come
    /// from the queue `policy` gives the case, at its severity, both read
    /// in the reopening's transaction.
    async fn reopen(
        &self,
        actor: &Actor,
        id: CaseId,
        expected_version: Option<i64>,
        reason: &str,
        policy: &CasePolicy,
        now: Timestamp,
    ) -> StoreResult<CaseRecord>;

    /// Decides a case without the enforcement extras (see
    /// [`EnforcementStore::decide_with`]). A [`DecisionMode::First`]
    /// decision needs the actor's live lease; a
    /// [`DecisionMode::Correction`] of a resolved case supersedes its last
    /// decision.
    #[allow(clippy::too_many_arguments)]
    async fn decide(
        &self,
        actor: &Actor,
        id: CaseId,
        expected_version: i64,
        input: DecisionInput,
        policy: &CasePolicy,
        mode: DecisionMode,
        now: Timestamp,
    ) -> StoreResult<DecisionRecord>;

    /// Adds a structured note to a case.
    async fn add_note(
        &self,
        actor: &Actor,
        id: CaseId,
        note: Rationale,
        now: Timestamp,
    ) -> StoreResult<NoteRecord>;

    /// A subject with its reports, cases, decisions, actions, strikes and recent events.
    async fn subject_history(
        &self,
        subject: &SubjectRef,
        limit: u32,
        now: Timestamp,
    ) -> StoreResult<SubjectHistory>;

    /// Records a read (of a case, a subject, PII) in the audit log.
    async fn record_read(
        &self,
        actor: &Actor,
        action: &str,
        target_kind: &str,
        target_id: &str,
        details: Value,
        now: Timestamp,
    ) -> StoreResult<()>;

    /// Creates a user.
    async fn create_user(
        &self,
        actor: &Actor,
        name: &str,
        role: Role,
        password_hash: &str,
        now: Timestamp,
    ) -> StoreResult<UserRecord>;

    /// Creates a user in `teams` (checked codes), in one transaction.
    async fn create_user_with_teams(
        &self,
        actor: &Actor,
        name: &str,
        role: Role,
        password_hash: &str,
        teams: &[String],
        now: Timestamp,
    ) -> StoreResult<UserRecord>;

    /// Sets a user's teams (checked codes), replacing the ones they had.
    async fn set_user_teams(
        &self,
        actor: &Actor,
        name: &str,
        teams: &[String],
        now: Timestamp,
    ) -> StoreResult<UserRecord>;

    /// Records in the audit log a sign-in refused without counting towards
    /// the lockout (unknown user, disabled, locked), with the real reason.
    async fn record_sign_in_refused(
        &self,
        name: &str,
        user_id: Option<i64>,
        reason: &str,
        now: Timestamp,
    ) -> StoreResult<()>;

    /// A user by name.
    async fn user_by_name(&self, name: &str) -> StoreResult<Option<UserRecord>>;

    /// A user by id.
    async fn user_by_id(&self, id: i64) -> StoreResult<Option<UserRecord>>;

    /// Every user, by name.
    async fn list_users(&self) -> StoreResult<Vec<UserRecord>>;

    /// Disables or enables a user; disabling ends their sessions and leases.
    async fn set_user_disabled(
        &self,
        actor: &Actor,
        name: &str,
        disabled: bool,
        now: Timestamp,
    ) -> StoreResult<UserRecord>;

    /// Sets a user's password hash, clears any lockout, and ends their sessions.
    async fn set_password(
        &self,
        actor: &Actor,
        name: &str,
        password_hash: &str,
        now: Timestamp,
    ) -> StoreResult<UserRecord>;

    /// Records a sign-in attempt; after `failures_max` failures in a row the
    /// account is locked for `lockout`.
    async fn record_sign_in(
        &self,
        user_id: i64,
        success: bool,
        failures_max: u32,
        lockout: Duration,
        now: Timestamp,
    ) -> StoreResult<UserRecord>;

    /// Stores a new API token (its hash only); the actor is recorded as
    /// the one who minted it (`system` when no user is acting).
    #[allow(clippy::too_many_arguments)]
    async fn create_token(
        &self,
        actor: &Actor,
        user_id: i64,
        name: &str,
        scope: Scope,
        token_hash: &str,
        now: Timestamp,
    ) -> StoreResult<TokenRecord>;

    /// The live token with this hash, and its user.
    async fn token_by_hash(
        &self,
        token_hash: &str,
    ) -> StoreResult<Option<(TokenRecord, UserRecord)>>;

    /// Revokes a token.
    async fn revoke_token(
        &self,
        actor: &Actor,
        token_id: i64,
        now: Timestamp,
    ) -> StoreResult<TokenRecord>;

    /// Every token of a user, or of everyone.
    async fn list_tokens(&self, user_id: Option<i64>) -> StoreResult<Vec<TokenRecord>>;

    /// Starts a console session.
    async fn create_session(
        &self,
        user_id: i64,
        session_hash: &str,
        csrf_token: &str,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> StoreResult<()>;

    /// The live session with this hash, and its user.
    async fn session(
        &self,
        session_hash: &str,
        now: Timestamp,
    ) -> StoreResult<Option<(SessionRecord, UserRecord)>>;

    /// Ends a session.
    async fn delete_session(&self, session_hash: &str) -> StoreResult<()>;

    /// Audit records after `after_seq`, in order.
    async fn audit_page(&self, after_seq: i64, limit: u32) -> StoreResult<Vec<StoredAuditRecord>>;

    /// Depth, oldest age and SLA breaches of every queue in `scope` with open cases.
    async fn queue_stats(&self, scope: &QueueScope, now: Timestamp)
        -> StoreResult<Vec<QueueStats>>;

    /// The queue of each case in `ids` that exists (at most `PAGE_SIZE_MAX` ids are looked at).
    async fn case_queues(&self, ids: &[CaseId]) -> StoreResult<Vec<(CaseId, String)>>;

    /// The case and queue of each decision in `ids` that exists (at most
    /// `PAGE_SIZE_MAX` ids are looked at), as `(decision, case, queue)`.
    async fn decision_cases(&self, ids: &[i64]) -> StoreResult<Vec<(i64, CaseId, String)>>;

    /// How many intake items of each kind are stored (for readiness and metrics).
    async fn intake_counts(&self) -> StoreResult<IntakeCounts>;

    // ---- detection

    /// The version number of a rule's definition: the stored one when the
    /// hash is known, else the next one, recorded and audited.
    async fn record_rule_version(
        &self,
        actor: &Actor,
        rule_id: &str,
        source_hash: &str,
        source: &str,
        mode: &str,
        now: Timestamp,
    ) -> StoreResult<i64>;

    /// The detection worker's position in the event log.
    async fn detection_cursor(&self) -> StoreResult<i64>;

    /// Up to `limit` events after `after_seq`, in order, with their context;
    /// only events that occurred at or after `since` when given.
    async fn detection_events(
        &self,
        after_seq: i64,
        since: Option<Timestamp>,
        limit: u32,
        now: Timestamp,
    ) -> StoreResult<Vec<DetectionEvent>>;

    /// Stores hits and applies live outcomes (cases, labels, automated
    /// actions), then moves the cursor from `expected_cursor` to
    /// `new_cursor`, in one transaction. Returns false, changing nothing,
    /// when another worker moved the cursor first.
    async fn apply_detection(
        &self,
        results: Vec<EventHits>,
        expected_cursor: i64,
        new_cursor: i64,
        policy: &CasePolicy,
        now: Timestamp,
    ) -> StoreResult<bool>;

    /// Hits per rule since `since`, live and shadow.
    async fn rule_stats(&self, since: Timestamp) -> StoreResult<Vec<RuleStats>>;

    /// The latest decision about each subject decided since `since`.
    async fn subject_verdicts(&self, since: Timestamp) -> StoreResult<Vec<SubjectVerdict>>;
}
