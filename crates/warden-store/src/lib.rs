//! Warden's storage layer.
//!
//! The store is split by capability into small ports (see [`ports`]):
//! [`IntakeStore`], [`CaseStore`], [`DecisionStore`], [`OutboxStore`],
//! [`AccountStore`], [`AuditLog`], [`DetectionStore`], [`TaxonomyStore`],
//! [`StatementStore`], [`ReportStore`], [`ModelStore`], [`QualityStore`] and
//! [`HealthCheck`], each with its transaction contract in its doc.
//! [`Store`] is all of them together, for one `Arc<dyn Store>`; callers
//! write `use warden_store::prelude::*;` to have every port's methods.
//!
//! One implementation, [`SqlStore`], speaks to SQLite (the embedded
//! default: a file under the data directory, WAL mode) or PostgreSQL (for
//! production and several servers sharing one database), one file per
//! port under `sql/`; rows decode into records in one place,
//! `sql/wrappers.rs`, and a stored status or kind Warden does not know is
//! [`StoreError::Corrupt`], never a default. The ports expose no SQL
//! types. Each backend owns its migrations, which run at start.
//!
//! `warden-store` knows nothing about the enforcement matrix, notices or
//! DSA: it loads facts, asks the domain's pure planners, and writes plans.
#![deny(missing_docs)]

mod appeal_records;
mod database_url;
mod decision_records;
mod detection_records;
mod escalation_records;
mod incident_records;
pub mod limits;
mod model_records;
mod notice_records;
mod outbox_records;
pub mod ports;
mod quality_records;
mod records;
mod sql;
mod statement_records;
mod taxonomy_records;

use warden_domain::routing::Router;
use warden_domain::taxonomy::Taxonomy;

pub use appeal_records::*;
pub use database_url::DatabaseUrl;
pub use decision_records::*;
pub use detection_records::*;
pub use escalation_records::*;
pub use incident_records::*;
pub use model_records::*;
pub use notice_records::*;
pub use outbox_records::*;
pub use ports::{
    AccountStore, AppealStore, AuditLog, CaseFilter, CaseStore, DecisionStore, DetectionStore,
    HealthCheck, IncidentStore, IntakeStore, ModelStore, OutboxStore, QualityStore, ReportStore,
    StatementStore, StatusChange, TaxonomyStore,
};
pub use ports::{EscalationStore, EvidenceStore};
pub use ports::{ExposureSinceBreak, KpiFactsStore, KpiFactsWindow, NewExposure};
pub use quality_records::*;
pub use records::*;
pub use sql::{Backend, SqlStore, SqliteOptions};
pub use statement_records::*;
pub use taxonomy_records::*;
pub use warden_domain::enforcement::{DecisionMode, Ruling};

/// Every port in one `use`: `use warden_store::prelude::*;` brings the
/// methods of every port into scope (on a concrete [`SqlStore`] as on an
/// `Arc<dyn Store>`).
pub mod prelude {
    pub use crate::ports::KpiFactsStore;
    pub use crate::ports::{
        AccountStore, AppealStore, AuditLog, CaseStore, DecisionStore, DetectionStore, HealthCheck,
        IncidentStore, IntakeStore, ModelStore, OutboxStore, QualityStore, ReportStore,
        StatementStore, TaxonomyStore,
    };
    pub use crate::ports::{EscalationStore, EvidenceStore};
    pub use crate::Store;
}

/// All of Warden's storage: every port, for one `Arc<dyn Store>`. It has
/// no methods of its own; anything that implements every port is a
/// `Store`.
pub trait Store:
    HealthCheck
    + IntakeStore
    + AppealStore
    + IncidentStore
    + CaseStore
    + DecisionStore
    + OutboxStore
    + AccountStore
    + AuditLog
    + DetectionStore
    + TaxonomyStore
    + StatementStore
    + ReportStore
    + ModelStore
    + QualityStore
    + KpiFactsStore
    + EscalationStore
    + EvidenceStore
    + Send
    + Sync
    + 'static
{
}

impl<T> Store for T where
    T: HealthCheck
        + IntakeStore
        + AppealStore
        + IncidentStore
        + CaseStore
        + DecisionStore
        + OutboxStore
        + AccountStore
        + AuditLog
        + DetectionStore
        + TaxonomyStore
        + StatementStore
        + ReportStore
        + ModelStore
        + QualityStore
        + KpiFactsStore
        + EscalationStore
        + EvidenceStore
        + Send
        + Sync
        + 'static
{
}

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
    /// The actor may not do this to this thing (an appeal's original
    /// decider reviewing it). Nothing was changed.
    #[error("{0}")]
    Forbidden(String),
    /// The request is well-formed but not acceptable in this state.
    #[error("{field}: {reason}")]
    Invalid {
        /// The field at fault.
        field: String,
        /// Why.
        reason: String,
    },
    /// A stored status or kind Warden does not know (the database was
    /// written by something else, or by a newer Warden): the read fails
    /// rather than guess a default.
    #[error("stored value {value:?} in {table}.{column} is not one Warden knows")]
    Corrupt {
        /// The table read.
        table: String,
        /// The column.
        column: String,
        /// The value found.
        value: String,
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
        match error {
            // A row wrapper met a stored value it does not know.
            sqlx::Error::Decode(source) => match source.downcast::<sql::CorruptValue>() {
                Ok(corrupt) => corrupt.into_store_error(),
                Err(other) => StoreError::Database(format!("a stored row is unreadable: {other}")),
            },
            // PostgreSQL refuses text it cannot hold (NUL, SQLSTATE 22021):
            // the input's fault, not the server's. The edge rule and the
            // free-text escape keep NUL away; this is the backstop.
            sqlx::Error::Database(database) if database.code().as_deref() == Some("22021") => {
                StoreError::invalid("", "contains a character that cannot be stored (NUL)")
            }
            other => StoreError::Database(other.to_string()),
        }
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
            // cannot fail: an empty router gets the catch-all queue.
            router: Router::new(Vec::new()).expect("an empty router gets a catch-all queue"),
        }
    }
}
