//! [`StatementStore`]: statements of reasons as written with their
//! decisions, and their submission to the Transparency Database.
//!
//! A statement is written in its decision's (or approval's) transaction
//! by [`crate::DecisionStore`]; this port lists statements and records
//! what the submission worker learnt. Recording a batch of outcomes is one
//! transaction with one audit record. A statement once accepted is never
//! listed as unsubmitted again, so its puid is never submitted twice; an
//! `attempted` one (no verdict yet) is listed first for an
//! `existing-puid` check. Outcomes for puids Warden does not hold change
//! nothing.

use async_trait::async_trait;

use warden_domain::Timestamp;

use crate::{Actor, DsaStatementRecord, DsaSubmission, StoreResult};

/// Statements of reasons and their submission.
#[async_trait]
pub trait StatementStore: Send + Sync {
    /// Statements written in `[since, until)`, by id, after `after_id`.
    async fn dsa_statements(
        &self,
        since: Timestamp,
        until: Timestamp,
        after_id: i64,
        limit: u32,
    ) -> StoreResult<Vec<DsaStatementRecord>>;

    /// Statements not yet accepted nor rejected, by id (attempted ones first
    /// need an `existing-puid` check).
    async fn dsa_unsubmitted(&self, limit: u32) -> StoreResult<Vec<DsaStatementRecord>>;

    /// Records submission outcomes, by puid.
    async fn record_dsa_submissions(
        &self,
        actor: &Actor,
        outcomes: Vec<(String, DsaSubmission)>,
        now: Timestamp,
    ) -> StoreResult<()>;
}
