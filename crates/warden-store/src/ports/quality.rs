//! [`QualityStore`]: QA sampling plans, sampled decisions and their blind
//! reviews, rework, and calibration sessions with their ratings and
//! resolution notes.
//!
//! The store keeps states the domain (`warden_domain::quality`) computes:
//! the app loads an assignment or a session, asks the domain for the
//! change and writes the new state back naming the version it read.
//!
//! **Commits together.** A change to an assignment, with the rework it
//! sends back and its audit record. A sampling pass's new assignments,
//! their plan tags and the cursor's move, with one audit record. A
//! session's change (status, new ratings, resolution and its categories)
//! with its audit record.
//!
//! **Conflict, NotFound.** A change naming a version that is no longer the
//! stored one is `Conflict` (someone else changed it first) and changes
//! nothing; so is a sampling pass whose cursor moved since it read. A
//! change to an assignment or session that does not exist is `NotFound`.

use async_trait::async_trait;

use warden_domain::quality::calibration::CalibrationSessionRecord;
use warden_domain::routing::QueueScope;
use warden_domain::{CaseId, Timestamp};

use crate::{
    Actor, CalibrationSessionSummary, DecisionToSample, NewQaSample, QaChange, QaPlanRecord,
    QaReviewFilter, ResolutionNoteRecord, StoreResult, StoredCalibrationSession,
    StoredQaAssignment, StratumCount,
};
use warden_domain::quality::sampling::SamplingPlanInput;

/// QA and calibration.
#[async_trait]
pub trait QualityStore: Send + Sync {
    /// Saves a sampling plan (its name is the key: saving again replaces
    /// it), audited.
    async fn save_qa_plan(
        &self,
        actor: &Actor,
        plan: &SamplingPlanInput,
        now: Timestamp,
    ) -> StoreResult<QaPlanRecord>;

    /// Every stored plan, by name (at most `QA_PLANS_MAX`).
    async fn qa_plans(&self) -> StoreResult<Vec<QaPlanRecord>>;

    /// The id of the last decision the sampling pass has read (0: none).
    async fn qa_sampling_cursor(&self) -> StoreResult<i64>;

    /// Decisions after `after` by id, made by a person, at most `limit`
    /// (capped at the page size), oldest first.
    async fn decisions_to_sample(
        &self,
        after: i64,
        limit: u32,
    ) -> StoreResult<Vec<DecisionToSample>>;

    /// Decisions made by a person in [since, until), oldest first, at most
    /// `limit` (a window pass's decisions).
    async fn decisions_made_between(
        &self,
        since: Timestamp,
        until: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<DecisionToSample>>;

    /// Decisions made by a person in [since, until), counted per stratum
    /// (queue, category, severity, decider), the busiest strata first, at
    /// most `limit` of them (capped at `QA_VOLUME_STRATA_MAX`): the volume
    /// a plan's expected weekly load is estimated from. Reads the
    /// `decisions (decided_at)` index, never the whole table.
    async fn decision_volume(
        &self,
        since: Timestamp,
        until: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<StratumCount>>;

    /// Puts sampled decisions in the QA queue without moving the cursor (a
    /// window pass's top-ups); a decision already there is left alone.
    /// Answers how many were new.
    async fn add_qa_samples(
        &self,
        actor: &Actor,
        samples: Vec<NewQaSample>,
        now: Timestamp,
    ) -> StoreResult<u32>;

    /// How many decisions `plan` has sampled by rate since `since`.
    async fn qa_rate_sampled_since(&self, plan: &str, since: Timestamp) -> StoreResult<u32>;

    /// Puts sampled decisions in the QA queue (a decision already there is
    /// left alone) and moves the cursor from `from` to `to`; `Conflict`
    /// when the cursor is no longer `from`. Answers how many were new.
    async fn record_qa_samples(
        &self,
        actor: &Actor,
        samples: Vec<NewQaSample>,
        cursor: (i64, i64),
        now: Timestamp,
    ) -> StoreResult<u32>;

    /// One assignment, by its decision.
    async fn qa_assignment(&self, decision_id: i64) -> StoreResult<Option<StoredQaAssignment>>;

    /// The next assignment `reviewer` may claim in `scope`: waiting, or
    /// claimed under a lease that ran out by `now`; never their own
    /// decision; oldest sampled first.
    async fn next_qa_assignment(
        &self,
        scope: &QueueScope,
        reviewer: &str,
        now: Timestamp,
    ) -> StoreResult<Option<StoredQaAssignment>>;

    /// Writes a change to an assignment (and its rework), audited; answers
    /// the new version.
    async fn save_qa_assignment(
        &self,
        actor: &Actor,
        change: QaChange<'_>,
        now: Timestamp,
    ) -> StoreResult<i64>;

    /// The assignments of a case's decisions still waiting for a verdict
    /// (sampled or claimed).
    async fn qa_pending_for_case(&self, case: CaseId) -> StoreResult<Vec<StoredQaAssignment>>;

    /// Reviewed assignments (verdict in), newest verdict first.
    async fn qa_reviews(&self, filter: &QaReviewFilter) -> StoreResult<Vec<StoredQaAssignment>>;

    /// How many assignments wait for a reviewer in `scope` at `now`.
    async fn qa_queue_depth(&self, scope: &QueueScope, now: Timestamp) -> StoreResult<u64>;

    /// Creates a calibration session, audited; answers its id.
    async fn create_calibration_session(
        &self,
        actor: &Actor,
        session: &CalibrationSessionRecord,
        now: Timestamp,
    ) -> StoreResult<i64>;

    /// One session, checked, its report computed when closed.
    async fn calibration_session(&self, id: i64) -> StoreResult<Option<StoredCalibrationSession>>;

    /// Writes a session's new state (status, times, new ratings,
    /// resolution) naming the version read; `event` names it in the audit
    /// log. Answers the new version.
    async fn save_calibration_session(
        &self,
        actor: &Actor,
        stored: (i64, i64),
        session: &CalibrationSessionRecord,
        event: &str,
        now: Timestamp,
    ) -> StoreResult<i64>;

    /// Sessions, newest first, at most `limit` (capped at the page size).
    async fn calibration_sessions(&self, limit: u32)
        -> StoreResult<Vec<CalibrationSessionSummary>>;

    /// Resolution notes that apply to `category`, newest first.
    async fn resolution_notes(
        &self,
        category: &str,
        limit: u32,
    ) -> StoreResult<Vec<ResolutionNoteRecord>>;
}
