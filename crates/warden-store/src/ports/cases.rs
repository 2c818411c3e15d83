//! [`CaseStore`]: case work — claiming under a lease, renewing, releasing,
//! holding, assigning, status changes and notes — and reading cases.
//!
//! **Commits together.** Each change is one transaction: the case row
//! (written with `WHERE version = old`, its version bumped), the status
//! transition when the status changed, and the audit record with the
//! state before and after.
//!
//! **Conflict.** A change naming a version the case is no longer at, a
//! case someone else holds (or whose lease ran out), a user at their claim
//! limit, reopening when another case is open for the subject and
//! category: `StoreError::Conflict`, nothing changed. A case that does
//! not exist is `StoreError::NotFound`. `claim_next` answering `None`
//! means the queue has nothing claimable now. Two users never hold a live
//! lease on the same case.

use crate::CasePolicy;
use async_trait::async_trait;
use chrono::Duration;

use warden_domain::case::{CaseStatus, Severity};
use warden_domain::decision::Rationale;
use warden_domain::routing::QueueScope;
use warden_domain::sla::SlaDeadlines;
use warden_domain::{CaseId, SubjectRef, Timestamp};

use crate::{
    Actor, AppealScope, CaseDetail, CaseRecord, NoteRecord, ReportRecord, SignalRecord,
    StoreResult, UserRecord,
};

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
    pub severity: Option<Severity>,
    /// Only cases whose language is this one or a subtag of it (`de` takes `de-AT`).
    pub language: Option<String>,
    /// Only cases in the queues the reader may see; `Every` for Warden itself.
    pub scope: QueueScope,
    /// Only the appeal cases the reader may review (the independence rule).
    pub appeals: AppealScope,
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
    pub deadlines: Option<SlaDeadlines>,
}

/// Case work and case reads.
#[async_trait]
pub trait CaseStore: Send + Sync {
    /// Claims the next case in `queue` for the actor, with a lease of `lease`.
    async fn claim_next(
        &self,
        actor: &Actor,
        queue: &str,
        lease: Duration,
        now: Timestamp,
    ) -> StoreResult<Option<CaseRecord>>;

    /// Claims the next case in `queue` that `appeals` admits: an appeal
    /// case whose original decider is the actor, or whose decider's role
    /// is above theirs, is never handed to them.
    async fn claim_next_within(
        &self,
        actor: &Actor,
        queue: &str,
        appeals: &AppealScope,
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

    /// The queue of each case in `ids` that exists (at most `PAGE_SIZE_MAX` ids are looked at).
    async fn case_queues(&self, ids: &[CaseId]) -> StoreResult<Vec<(CaseId, String)>>;

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

    /// Adds a structured note to a case (notes are not changes: no version
    /// is named and the case's version stays).
    async fn add_note(
        &self,
        actor: &Actor,
        id: CaseId,
        note: Rationale,
        now: Timestamp,
    ) -> StoreResult<NoteRecord>;
}
