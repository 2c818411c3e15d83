//! [`ReportStore`]: read models over many tables — queue numbers, a
//! subject's history, intake counts, transparency facts, rule and verdict
//! statistics, notices sent.
//!
//! Nothing here writes. Each read that spans several statements runs in
//! one read transaction, so its parts agree with each other. Every list
//! is bounded (by `limit`, capped, or by a page size read in steps).

use async_trait::async_trait;

use warden_domain::routing::QueueScope;
use warden_domain::{SubjectRef, Timestamp};

use crate::{
    IntakeCounts, NoticeRecord, QueueStats, RuleStats, StoreResult, SubjectHistory, SubjectVerdict,
    TransparencyFacts,
};

/// Read models.
#[async_trait]
pub trait ReportStore: Send + Sync {
    /// A subject with its reports, cases, decisions, actions, strikes and recent events.
    async fn subject_history(
        &self,
        subject: &SubjectRef,
        limit: u32,
        now: Timestamp,
    ) -> StoreResult<SubjectHistory>;

    /// Depth, oldest age and SLA breaches of every queue in `scope` with open cases.
    async fn queue_stats(&self, scope: &QueueScope, now: Timestamp)
        -> StoreResult<Vec<QueueStats>>;

    /// How many intake items of each kind are stored (for readiness and metrics).
    async fn intake_counts(&self) -> StoreResult<IntakeCounts>;

    /// Hits per rule since `since`, live and shadow.
    async fn rule_stats(&self, since: Timestamp) -> StoreResult<Vec<RuleStats>>;

    /// The latest decision about each subject decided since `since`.
    async fn subject_verdicts(&self, since: Timestamp) -> StoreResult<Vec<SubjectVerdict>>;

    /// Notices, newest first, of one decision or of all.
    async fn notices(&self, decision_id: Option<i64>, limit: u32)
        -> StoreResult<Vec<NoticeRecord>>;

    /// Facts for a transparency report of `[from, to)`.
    async fn transparency_facts(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> StoreResult<TransparencyFacts>;
}
