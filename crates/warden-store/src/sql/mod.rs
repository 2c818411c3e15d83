//! The SQL implementation of [`Store`], for SQLite and PostgreSQL.
//!
//! Both backends run the same statements through sqlx's `Any` driver; where
//! the dialects differ (row locks, the audit chain lock, column types) the
//! [`Backend`] says which text to use. Times are stored as milliseconds since
//! the epoch, flags as 0/1 and JSON as text, so that both backends hold the
//! same facts in the same shape.
//!
//! SQLite allows one writer at a time. Rather than let transactions race for
//! the write lock and fail with "database is locked", all writes go through a
//! pool of exactly one connection, so they queue in order; reads use a pool
//! of their own. PostgreSQL uses one pool, row locks (`FOR UPDATE SKIP
//! LOCKED` when claiming) and a transaction-scoped advisory lock that orders
//! appends to the audit chain.

mod accounts;
mod audit;
mod cases;
mod decisions;
mod detection;
mod enforcement;
mod intake;
mod models;
mod outbox;
mod rows;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration as StdDuration;

use async_trait::async_trait;
use chrono::Duration;
use serde_json::Value;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

use warden_domain::access::{Role, Scope};
use warden_domain::audit::StoredAuditRecord;
use warden_domain::decision::{DecisionInput, Rationale};
use warden_domain::intake::{IntakeOutcome, NewEvent, NewReport, NewSignal, NewSubject};
use warden_domain::routing::QueueScope;
use warden_domain::{CaseId, SubjectRef, Timestamp};

use crate::{
    Actor, CaseDetail, CaseFilter, CasePolicy, CaseRecord, DecisionRecord, IntakeCounts,
    NoteRecord, QueueStats, ReportRecord, SessionRecord, SignalRecord, StatusChange, Store,
    StoreError, StoreResult, SubjectHistory, TokenRecord, UserRecord,
};

pub(crate) use audit::AuditDraft;

/// Which database a store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// The embedded default: a file, no server.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

impl Backend {
    /// The name used in logs and metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }

    /// The row-lock clause of a `SELECT` that is about to update what it reads.
    pub(crate) fn for_update(self) -> &'static str {
        match self {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE",
        }
    }
}

/// Tuning for the SQLite backend.
#[derive(Debug, Clone)]
pub struct SqliteOptions {
    /// Read connections.
    pub readers: u32,
    /// How long a statement waits for a lock before failing.
    pub busy_timeout: StdDuration,
}

impl Default for SqliteOptions {
    fn default() -> Self {
        Self {
            readers: 4,
            busy_timeout: StdDuration::from_secs(10),
        }
    }
}

/// Migrations, per backend, in order. Each runs once, in a transaction.
const SQLITE_MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../migrations/sqlite/0001_core.sql")),
    (
        2,
        include_str!("../../migrations/sqlite/0002_claim_index.sql"),
    ),
    (
        3,
        include_str!("../../migrations/sqlite/0003_detection.sql"),
    ),
    (
        4,
        include_str!("../../migrations/sqlite/0004_enforcement.sql"),
    ),
    (5, include_str!("../../migrations/sqlite/0005_teams.sql")),
    (
        6,
        include_str!("../../migrations/sqlite/0006_classifier_models.sql"),
    ),
    (
        7,
        include_str!("../../migrations/sqlite/0007_audit_checkpoints.sql"),
    ),
];
const POSTGRES_MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../migrations/postgres/0001_core.sql")),
    (
        2,
        include_str!("../../migrations/postgres/0002_claim_index.sql"),
    ),
    (
        3,
        include_str!("../../migrations/postgres/0003_detection.sql"),
    ),
    (
        4,
        include_str!("../../migrations/postgres/0004_enforcement.sql"),
    ),
    (5, include_str!("../../migrations/postgres/0005_teams.sql")),
    (
        6,
        include_str!("../../migrations/postgres/0006_classifier_models.sql"),
    ),
    (
        7,
        include_str!("../../migrations/postgres/0007_audit_checkpoints.sql"),
    ),
];

/// Advisory lock key that serialises migrations across servers starting together.
const MIGRATION_LOCK_KEY: i64 = 0x5741_5244_454e_0001;

/// A [`Store`] over SQLite or PostgreSQL.
#[derive(Clone)]
pub struct SqlStore {
    backend: Backend,
    writer: AnyPool,
    reader: AnyPool,
}

impl std::fmt::Debug for SqlStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlStore")
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

impl SqlStore {
    /// Opens (creating if needed) the SQLite database at `path` and migrates it.
    pub async fn open_sqlite(path: &Path, options: SqliteOptions) -> StoreResult<Self> {
        sqlx::any::install_default_drivers();
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let connect = AnyConnectOptions::from_str(&url)?;
        let busy_ms = options.busy_timeout.as_millis() as i64;
        let pragmas = move || {
            format!(
                "PRAGMA busy_timeout = {busy_ms}; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;"
            )
        };
        let writer_pragmas = pragmas();
        let writer = AnyPoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .acquire_timeout(StdDuration::from_secs(60))
            .after_connect(move |conn, _| {
                let sql = writer_pragmas.clone();
                Box::pin(async move {
                    conn.execute(sql.as_str()).await?;
                    Ok(())
                })
            })
            .connect_with(connect.clone())
            .await?;
        sqlx::query("PRAGMA journal_mode = WAL")
            .execute(&writer)
            .await?;
        let store_for_migration = Self {
            backend: Backend::Sqlite,
            writer: writer.clone(),
            reader: writer.clone(),
        };
        store_for_migration.migrate().await?;
        let reader_pragmas = pragmas();
        let reader = AnyPoolOptions::new()
            .max_connections(options.readers.max(1))
            .acquire_timeout(StdDuration::from_secs(30))
            .after_connect(move |conn, _| {
                let sql = reader_pragmas.clone();
                Box::pin(async move {
                    conn.execute(sql.as_str()).await?;
                    Ok(())
                })
            })
            .connect_with(connect)
            .await?;
        Ok(Self {
            backend: Backend::Sqlite,
            writer,
            reader,
        })
    }

    /// Connects to PostgreSQL at `url` with up to `connections` connections and migrates.
    pub async fn connect_postgres(url: &str, connections: u32) -> StoreResult<Self> {
        sqlx::any::install_default_drivers();
        let pool = AnyPoolOptions::new()
            .max_connections(connections.max(2))
            .acquire_timeout(StdDuration::from_secs(30))
            .connect(url)
            .await?;
        let store = Self {
            backend: Backend::Postgres,
            writer: pool.clone(),
            reader: pool,
        };
        store.migrate().await?;
        Ok(store)
    }

    /// Opens the store a URL names: `postgres://...` or `sqlite://PATH`.
    pub async fn open_url(url: &str, connections: u32) -> StoreResult<Self> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Self::connect_postgres(url, connections).await
        } else if let Some(path) = url.strip_prefix("sqlite://") {
            let path = path.split('?').next().unwrap_or(path);
            Self::open_sqlite(Path::new(path), SqliteOptions::default()).await
        } else {
            Err(StoreError::invalid(
                "database_url",
                "must start with postgres://, postgresql:// or sqlite://",
            ))
        }
    }

    /// Applies the migrations this database lacks.
    async fn migrate(&self) -> StoreResult<()> {
        let migrations = match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS,
            Backend::Postgres => POSTGRES_MIGRATIONS,
        };
        let mut tx = self.writer.begin().await?;
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(MIGRATION_LOCK_KEY)
                .execute(&mut *tx)
                .await?;
        }
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS warden_migrations (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)",
        )
        .execute(&mut *tx)
        .await?;
        let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM warden_migrations")
            .fetch_all(&mut *tx)
            .await?;
        for (version, sql) in migrations {
            if applied.contains(version) {
                continue;
            }
            for statement in split_statements(sql) {
                sqlx::query(&statement)
                    .execute(&mut *tx)
                    .await
                    .map_err(|error| {
                        StoreError::Database(format!("migration {version} failed: {error}"))
                    })?;
            }
            sqlx::query("INSERT INTO warden_migrations (version, applied_at) VALUES ($1, $2)")
                .bind(*version)
                .bind(chrono::Utc::now().timestamp_millis())
                .execute(&mut *tx)
                .await?;
            tracing::info!(
                backend = self.backend.as_str(),
                version,
                "applied migration"
            );
        }
        tx.commit().await?;
        Ok(())
    }

    /// Closes the pools, waiting for running statements.
    pub async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }
}

/// Splits a migration into statements at semicolons that end a line, and
/// drops comment-only pieces. Migrations hold no semicolons inside literals.
fn split_statements(sql: &str) -> Vec<String> {
    sql.split(";\n")
        .map(|piece| {
            piece
                .lines()
                .filter(|line| !line.trim_start().starts_with("--"))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .map(|piece| piece.trim().trim_end_matches(';').to_string())
        .filter(|piece| !piece.is_empty())
        .collect()
}

/// Milliseconds since the epoch, as stored.
pub(crate) fn ms(time: Timestamp) -> i64 {
    time.timestamp_millis()
}

#[async_trait]
impl Store for SqlStore {
    fn backend(&self) -> Backend {
        self.backend
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.reader).await?;
        Ok(())
    }

    async fn ingest_subjects(
        &self,
        actor: &Actor,
        items: Vec<NewSubject>,
        now: Timestamp,
    ) -> StoreResult<Vec<IntakeOutcome>> {
        self.ingest_subjects_impl(actor, items, now).await
    }

    async fn ingest_events(
        &self,
        actor: &Actor,
        items: Vec<NewEvent>,
        now: Timestamp,
    ) -> StoreResult<Vec<IntakeOutcome>> {
        self.ingest_events_impl(actor, items, now).await
    }

    async fn ingest_reports(
        &self,
        actor: &Actor,
        items: Vec<NewReport>,
        policy: &CasePolicy,
        now: Timestamp,
    ) -> StoreResult<Vec<IntakeOutcome>> {
        self.ingest_reports_impl(actor, items, policy, now).await
    }

    async fn ingest_signals(
        &self,
        actor: &Actor,
        items: Vec<NewSignal>,
        policy: &CasePolicy,
        now: Timestamp,
    ) -> StoreResult<Vec<IntakeOutcome>> {
        self.ingest_signals_impl(actor, items, policy, now).await
    }

    async fn claim_next(
        &self,
        actor: &Actor,
        queue: &str,
        lease: Duration,
        now: Timestamp,
    ) -> StoreResult<Option<CaseRecord>> {
        self.claim_next_impl(actor, queue, lease, now).await
    }

    async fn case(&self, id: CaseId) -> StoreResult<Option<CaseRecord>> {
        let mut conn = self.reader.acquire().await?;
        cases::load_case(&mut conn, id, "").await
    }

    async fn case_detail(&self, id: CaseId) -> StoreResult<Option<CaseDetail>> {
        self.case_detail_impl(id).await
    }

    async fn case_items(
        &self,
        ids: &[CaseId],
        per_case_max: u32,
    ) -> StoreResult<(Vec<ReportRecord>, Vec<SignalRecord>)> {
        self.case_items_impl(ids, per_case_max).await
    }

    async fn list_cases(&self, filter: &CaseFilter) -> StoreResult<Vec<CaseRecord>> {
        let named = [&filter.queue, &filter.category, &filter.language];
        if named.iter().any(|v| v.as_deref().is_some_and(holds_nul)) {
            // Nothing stored under such a name (the edge rule refuses NUL in
            // names), and PostgreSQL cannot compare with it.
            return Ok(Vec::new());
        }
        self.list_cases_impl(filter).await
    }

    async fn renew_lease(
        &self,
        actor: &Actor,
        id: CaseId,
        expected_version: Option<i64>,
        lease: Duration,
        now: Timestamp,
    ) -> StoreResult<CaseRecord> {
        self.renew_lease_impl(actor, id, expected_version, lease, now)
            .await
    }

    async fn release(
        &self,
        actor: &Actor,
        id: CaseId,
        expected_version: Option<i64>,
        as_lead: bool,
        now: Timestamp,
    ) -> StoreResult<CaseRecord> {
        self.release_impl(actor, id, expected_version, as_lead, now)
            .await
    }

    async fn hold(
        &self,
        actor: &Actor,
        id: CaseId,
        expected_version: Option<i64>,
        reason: &str,
        now: Timestamp,
    ) -> StoreResult<CaseRecord> {
        self.hold_impl(actor, id, expected_version, reason, now)
            .await
    }

    async fn assign(
        &self,
        actor: &Actor,
        id: CaseId,
        expected_version: Option<i64>,
        assignee: &UserRecord,
        lease: Duration,
        now: Timestamp,
    ) -> StoreResult<CaseRecord> {
        self.assign_impl(actor, id, expected_version, assignee, lease, now)
            .await
    }

    async fn change_status(
        &self,
        actor: &Actor,
        id: CaseId,
        expected_version: Option<i64>,
        change: StatusChange,
        now: Timestamp,
    ) -> StoreResult<CaseRecord> {
        self.change_status_impl(actor, id, expected_version, change, now)
            .await
    }

    async fn reopen(
        &self,
        actor: &Actor,
        id: CaseId,
        expected_version: Option<i64>,
        reason: &str,
        policy: &CasePolicy,
        now: Timestamp,
    ) -> StoreResult<CaseRecord> {
        self.reopen_impl(actor, id, expected_version, reason, policy, now)
            .await
    }

    async fn decide(
        &self,
        actor: &Actor,
        id: CaseId,
        expected_version: i64,
        input: DecisionInput,
        policy: &CasePolicy,
        mode: warden_domain::enforcement::DecisionMode,
        now: Timestamp,
    ) -> StoreResult<DecisionRecord> {
        let command = warden_domain::enforcement::DecideCommand::new(
            id,
            warden_domain::ids::Version(expected_version),
            input,
            mode,
        );
        self.decide_impl(actor, &command, policy, now).await
    }

    async fn add_note(
        &self,
        actor: &Actor,
        id: CaseId,
        note: Rationale,
        now: Timestamp,
    ) -> StoreResult<NoteRecord> {
        self.add_note_impl(actor, id, note, now).await
    }

    async fn subject_history(
        &self,
        subject: &SubjectRef,
        limit: u32,
        now: Timestamp,
    ) -> StoreResult<SubjectHistory> {
        self.subject_history_impl(subject, limit, now).await
    }

    async fn record_read(
        &self,
        actor: &Actor,
        action: &str,
        target_kind: &str,
        target_id: &str,
        details: Value,
        now: Timestamp,
    ) -> StoreResult<()> {
        let mut tx = self.writer.begin().await?;
        self.append_audit(
            &mut tx,
            vec![AuditDraft::new(
                actor,
                action,
                target_kind,
                target_id,
                Value::Null,
                details,
            )],
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn create_user(
        &self,
        actor: &Actor,
        name: &str,
        role: Role,
        password_hash: &str,
        now: Timestamp,
    ) -> StoreResult<UserRecord> {
        self.create_user_impl(actor, name, role, password_hash, &[], now)
            .await
    }

    async fn create_user_with_teams(
        &self,
        actor: &Actor,
        name: &str,
        role: Role,
        password_hash: &str,
        teams: &[String],
        now: Timestamp,
    ) -> StoreResult<UserRecord> {
        self.create_user_impl(actor, name, role, password_hash, teams, now)
            .await
    }

    async fn set_user_teams(
        &self,
        actor: &Actor,
        name: &str,
        teams: &[String],
        now: Timestamp,
    ) -> StoreResult<UserRecord> {
        self.set_user_teams_impl(actor, name, teams, now).await
    }

    async fn record_sign_in_refused(
        &self,
        name: &str,
        user_id: Option<i64>,
        reason: &str,
        now: Timestamp,
    ) -> StoreResult<()> {
        self.record_sign_in_refused_impl(name, user_id, reason, now)
            .await
    }

    async fn user_by_name(&self, name: &str) -> StoreResult<Option<UserRecord>> {
        if holds_nul(name) {
            // No user is named so; asking PostgreSQL would fail, not answer.
            return Ok(None);
        }
        self.user_by_name_impl(name).await
    }

    async fn user_by_id(&self, id: i64) -> StoreResult<Option<UserRecord>> {
        self.user_by_id_impl(id).await
    }

    async fn list_users(&self) -> StoreResult<Vec<UserRecord>> {
        self.list_users_impl().await
    }

    async fn set_user_disabled(
        &self,
        actor: &Actor,
        name: &str,
        disabled: bool,
        now: Timestamp,
    ) -> StoreResult<UserRecord> {
        if holds_nul(name) {
            return Err(StoreError::NotFound(format!("user {name:?}")));
        }
        self.set_user_disabled_impl(actor, name, disabled, now)
            .await
    }

    async fn set_password(
        &self,
        actor: &Actor,
        name: &str,
        password_hash: &str,
        now: Timestamp,
    ) -> StoreResult<UserRecord> {
        if holds_nul(name) {
            return Err(StoreError::NotFound(format!("user {name:?}")));
        }
        self.set_password_impl(actor, name, password_hash, now)
            .await
    }

    async fn record_sign_in(
        &self,
        user_id: i64,
        success: bool,
        failures_max: u32,
        lockout: Duration,
        now: Timestamp,
    ) -> StoreResult<UserRecord> {
        self.record_sign_in_impl(user_id, success, failures_max, lockout, now)
            .await
    }

    async fn create_token(
        &self,
        actor: &Actor,
        user_id: i64,
        name: &str,
        scope: Scope,
        token_hash: &str,
        now: Timestamp,
    ) -> StoreResult<TokenRecord> {
        self.create_token_impl(actor, user_id, name, scope, token_hash, now)
            .await
    }

    async fn token_by_hash(
        &self,
        token_hash: &str,
    ) -> StoreResult<Option<(TokenRecord, UserRecord)>> {
        self.token_by_hash_impl(token_hash).await
    }

    async fn revoke_token(
        &self,
        actor: &Actor,
        token_id: i64,
        now: Timestamp,
    ) -> StoreResult<TokenRecord> {
        self.revoke_token_impl(actor, token_id, now).await
    }

    async fn list_tokens(&self, user_id: Option<i64>) -> StoreResult<Vec<TokenRecord>> {
        self.list_tokens_impl(user_id).await
    }

    async fn create_session(
        &self,
        user_id: i64,
        session_hash: &str,
        csrf_token: &str,
        expires_at: Timestamp,
        now: Timestamp,
    ) -> StoreResult<()> {
        self.create_session_impl(user_id, session_hash, csrf_token, expires_at, now)
            .await
    }

    async fn session(
        &self,
        session_hash: &str,
        now: Timestamp,
    ) -> StoreResult<Option<(SessionRecord, UserRecord)>> {
        self.session_impl(session_hash, now).await
    }

    async fn delete_session(&self, session_hash: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM sessions WHERE session_hash = $1")
            .bind(session_hash)
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    async fn audit_page(&self, after_seq: i64, limit: u32) -> StoreResult<Vec<StoredAuditRecord>> {
        self.audit_page_impl(after_seq, limit).await
    }

    async fn queue_stats(
        &self,
        scope: &QueueScope,
        now: Timestamp,
    ) -> StoreResult<Vec<QueueStats>> {
        self.queue_stats_impl(scope, now).await
    }

    async fn case_queues(&self, ids: &[CaseId]) -> StoreResult<Vec<(CaseId, String)>> {
        self.case_queues_impl(ids).await
    }

    async fn decision_cases(&self, ids: &[i64]) -> StoreResult<Vec<(i64, CaseId, String)>> {
        self.decision_cases_impl(ids).await
    }

    async fn intake_counts(&self) -> StoreResult<IntakeCounts> {
        self.intake_counts_impl().await
    }

    async fn record_rule_version(
        &self,
        actor: &Actor,
        rule_id: &str,
        source_hash: &str,
        source: &str,
        mode: &str,
        now: Timestamp,
    ) -> StoreResult<i64> {
        self.record_rule_version_impl(actor, rule_id, source_hash, source, mode, now)
            .await
    }

    async fn detection_cursor(&self) -> StoreResult<i64> {
        self.detection_cursor_impl().await
    }

    async fn detection_events(
        &self,
        after_seq: i64,
        since: Option<Timestamp>,
        limit: u32,
        now: Timestamp,
    ) -> StoreResult<Vec<crate::DetectionEvent>> {
        self.detection_events_impl(after_seq, since, limit, now)
            .await
    }

    async fn apply_detection(
        &self,
        results: Vec<crate::EventHits>,
        expected_cursor: i64,
        new_cursor: i64,
        policy: &CasePolicy,
        now: Timestamp,
    ) -> StoreResult<bool> {
        self.apply_detection_impl(results, expected_cursor, new_cursor, policy, now)
            .await
    }

    async fn rule_stats(&self, since: Timestamp) -> StoreResult<Vec<crate::RuleStats>> {
        self.rule_stats_impl(since).await
    }

    async fn subject_verdicts(&self, since: Timestamp) -> StoreResult<Vec<crate::SubjectVerdict>> {
        self.subject_verdicts_impl(since).await
    }
}

/// Whether a name from a request holds NUL: no stored name does, and
/// PostgreSQL cannot take one in a query.
fn holds_nul(name: &str) -> bool {
    name.contains('\0')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_migration_file_is_registered() {
        for (backend, list) in [
            ("sqlite", SQLITE_MIGRATIONS),
            ("postgres", POSTGRES_MIGRATIONS),
        ] {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("migrations")
                .join(backend);
            let files = std::fs::read_dir(&dir)
                .unwrap()
                .filter(|e| {
                    e.as_ref()
                        .unwrap()
                        .path()
                        .extension()
                        .is_some_and(|x| x == "sql")
                })
                .count();
            assert_eq!(
                files,
                list.len(),
                "{backend}: a migration file is not registered"
            );
            for (index, (version, _)) in list.iter().enumerate() {
                assert_eq!(*version, index as i64 + 1);
            }
        }
    }

    #[test]
    fn migrations_split_into_statements() {
        let statements = split_statements(SQLITE_MIGRATIONS[0].1);
        assert!(statements.len() > 20);
        assert!(statements.iter().all(|s| !s.starts_with("--")));
        assert_eq!(
            statements.len(),
            split_statements(POSTGRES_MIGRATIONS[0].1).len()
        );
    }
}
