//! [`IntakeStore`]: what platforms send in, idempotent by the platform's id.
//!
//! **Commits together.** One call is one transaction with one audit
//! record: every item of the batch, the cases its reports and signals
//! opened or joined, their transitions. When an item fails in the store
//! (a category the taxonomy does not know, a database error on that
//! item), the batch is written again with a savepoint per item: that item
//! is answered `IntakeOutcome::Refused` (the store could not take it) or
//! `IntakeOutcome::Failed` (a database error) and the others commit. A
//! batch of one answers the item's error itself.
//!
//! **Outcomes.** An id already stored with the same fingerprint is a
//! `Duplicate`, with another fingerprint a `Conflict`; neither changes
//! anything. A subject sent again with new content is `Updated`.
//!
//! **Classifier weight.** `weigh_case_score` sets the priority points a
//! live classifier's score adds to the open case about a subject and
//! category, replacing what an earlier score added (kept in
//! `cases.classifier_priority`), with its audit record.

use async_trait::async_trait;

use warden_domain::intake::{IntakeOutcome, NewEvent, NewReport, NewSignal, NewSubject};
use warden_domain::Timestamp;

use crate::{Actor, CasePolicy, CaseScore, StoreResult};

/// Intake: subjects, events, reports and signals.
#[async_trait]
pub trait IntakeStore: Send + Sync {
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

    /// Sets the priority points `score` adds to the open case about its
    /// subject and category (replacing the points of an earlier score, the
    /// sum capped like every priority), in one transaction with its audit
    /// record; the case, or `None` when no case about them is open.
    async fn weigh_case_score(
        &self,
        actor: &Actor,
        score: &CaseScore,
        now: Timestamp,
    ) -> StoreResult<Option<warden_domain::CaseId>>;
}
