//! The SQL implementation of every port ([`crate::Store`]), for SQLite and
//! PostgreSQL: one file per port (`intake.rs` is `impl IntakeStore for
//! SqlStore`, ...), rows decoded in `wrappers.rs`, free text escaped in
//! `free_text.rs`, migrations in `migrate.rs`. Decisions load their facts
//! in `decision_facts.rs` and write their plans in `decision_writes.rs`.
//!
//! Both backends run the same statements through sqlx's `Any` driver; where
//! the dialects differ (row locks, the audit chain, column types) the
//! [`Backend`] says which text to use. Times are stored as milliseconds since
//! the epoch, flags as 0/1 and JSON as text, so that both backends hold the
//! same facts in the same shape.
//!
//! SQLite allows one writer at a time. Rather than let transactions race for
//! the write lock and fail with "database is locked", all writes go through a
//! pool of exactly one connection, so they queue in order; reads use a pool
//! of their own. PostgreSQL uses one pool and row locks (`FOR UPDATE SKIP
//! LOCKED` when claiming); its writers append audit records unsealed and a
//! sealer chains them (`audit_sealing.rs`).

mod accounts;
mod appeals;
mod audit;
mod audit_sealing;
mod cases;
mod claims;
mod decision_facts;
mod decision_writes;
mod decisions;
mod detection;
mod escalations;
mod evidence;
mod free_text;
mod health;
mod incident_bulk;
mod incidents;
mod intake;
mod kpis;
mod migrate;
mod models;
mod outbox;
mod quality;
mod reports;
mod statements;
mod taxonomy;
mod wrappers;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration as StdDuration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

use warden_domain::Timestamp;

use crate::{DatabaseUrl, StoreError, StoreResult};

pub(crate) use audit::AuditDraft;
pub(crate) use wrappers::CorruptValue;

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

    /// The row-lock clause of a `SELECT` that leases what it reads: rows
    /// another transaction holds are passed over.
    pub(crate) fn skip_locked(self) -> &'static str {
        match self {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
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
    /// Errors and logs name the URL with its password replaced by `***`.
    pub async fn connect_postgres(url: &str, connections: u32) -> StoreResult<Self> {
        sqlx::any::install_default_drivers();
        let shown = DatabaseUrl::new(url);
        let pool = AnyPoolOptions::new()
            .max_connections(connections.max(2))
            .acquire_timeout(StdDuration::from_secs(30))
            .connect(url)
            .await
            .map_err(|error| {
                StoreError::Database(format!(
                    "cannot connect to {shown}: {}",
                    redact_in(&error.to_string(), url, &shown)
                ))
            })?;
        let store = Self {
            backend: Backend::Postgres,
            writer: pool.clone(),
            reader: pool,
        };
        store.migrate().await?;
        tracing::info!(database = %shown, "opened the PostgreSQL store");
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
                format!(
                    "{} must start with postgres://, postgresql:// or sqlite://",
                    DatabaseUrl::new(url)
                ),
            ))
        }
    }

    /// Seals the audit records committed so far (PostgreSQL), then closes
    /// the pools, waiting for running statements.
    /// Closing a closed store does nothing.
    pub async fn close(&self) {
        if self.writer.is_closed() {
            return;
        }
        if let Err(error) = self.seal_committed_audit().await {
            tracing::warn!(%error, "cannot seal the audit log before closing the store");
        }
        self.reader.close().await;
        self.writer.close().await;
    }
}

/// Milliseconds since the epoch, as stored.
pub(crate) fn ms(time: Timestamp) -> i64 {
    time.timestamp_millis()
}

/// `message` with any copy of `url` in it shown redacted (a driver's
/// error may quote what it was given).
fn redact_in(message: &str, url: &str, shown: &DatabaseUrl) -> String {
    if url.is_empty() {
        message.to_string()
    } else {
        message.replace(url, &shown.redacted())
    }
}

/// Whether a name from a request holds NUL: no stored name does, and
/// PostgreSQL cannot take one in a query.
pub(crate) fn holds_nul(name: &str) -> bool {
    name.contains('\0')
}
