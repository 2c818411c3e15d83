//! [`IncidentStore`]: incidents (cases grouped during a surge), their
//! members and timelines, and bulk actions over their open cases with
//! their progress.
//!
//! Every planner is the domain's (`warden_domain::incident`): the store
//! loads facts, asks `plan_membership`, `plan_bulk_action`,
//! `plan_bulk_approval` or `plan_bulk_step`, and writes what they return.
//!
//! **Commits together.** Opening an incident: the incident, its first
//! timeline entry and the audit record. Cases joining: their membership
//! rows, the timeline entry and the audit record. A bulk plan (dry run or
//! submission): the bulk action's row with its counts, the timeline entry
//! and the audit record. An approval: the bulk action's status and
//! approver, the timeline entry, the audit record. **One batch of a run**:
//! for each case of the batch, its decision with everything a decision
//! writes (actions, outbox rows, strikes, notices, statement of reasons,
//! the case's change, the approvals the bulk's one approval covers) and
//! its `bulk_action_items` row — the step's idempotency key (bulk, case)
//! — or the item saying why it was skipped; then the bulk's counts and,
//! on the last batch, its completion and timeline entry; with the audit
//! records. A crash loses at most the batch in hand, and a resumed run
//! passes over every case that has an item: each case is decided once.
//!
//! **Errors.** An unknown incident or bulk action is
//! `StoreError::NotFound`; a refused membership or an over-large bulk is
//! `StoreError::Invalid` naming the field; a submission without its dry
//! run, or a ruling on a bulk that no longer waits, is
//! `StoreError::Conflict`; an approval by the bulk's author or by someone
//! who may not approve is `StoreError::Forbidden`. Nothing changes on any
//! error.

use async_trait::async_trait;
use serde_json::Value;

use warden_domain::access::Principal;
use warden_domain::incident::{
    BulkCommand, BulkId, IncidentCaseFacts, IncidentId, Membership, NewIncident,
};
use warden_domain::routing::QueueScope;
use warden_domain::Timestamp;

use crate::{
    Actor, BulkActionRecord, BulkAuthor, BulkBatch, BulkPlanned, BulkRun, BulkSkipRecord,
    CaseFilter, CasePolicy, CaseRecord, IncidentRecord, MembershipOutcome, StoreResult,
    TimelineRecord,
};

/// Incidents and bulk actions.
#[async_trait]
pub trait IncidentStore: Send + Sync {
    /// Opens an incident owned by the actor.
    async fn create_incident(
        &self,
        actor: &Actor,
        incident: &NewIncident,
        now: Timestamp,
    ) -> StoreResult<IncidentRecord>;

    /// Incidents, newest first.
    async fn list_incidents(&self, limit: u32, offset: u32) -> StoreResult<Vec<IncidentRecord>>;

    /// One incident.
    async fn incident(&self, id: IncidentId) -> StoreResult<Option<IncidentRecord>>;

    /// Its timeline, oldest first, at most `limit` entries.
    async fn incident_timeline(
        &self,
        id: IncidentId,
        limit: u32,
    ) -> StoreResult<Vec<TimelineRecord>>;

    /// Its cases in `scope`, by id, a page.
    async fn incident_cases(
        &self,
        id: IncidentId,
        scope: &QueueScope,
        limit: u32,
        offset: u32,
    ) -> StoreResult<Vec<CaseRecord>>;

    /// What the impact counts need of each of its cases in `scope`.
    async fn incident_case_facts(
        &self,
        id: IncidentId,
        scope: &QueueScope,
    ) -> StoreResult<Vec<IncidentCaseFacts>>;

    /// Adds cases by ids (those in `filter.scope`) or by the query
    /// `filter` (its page size is ignored: up to the incident limit plus
    /// one are looked at), as `plan_membership` plans it.
    async fn add_incident_cases(
        &self,
        actor: &Actor,
        id: IncidentId,
        membership: &Membership,
        filter: &CaseFilter,
        now: Timestamp,
    ) -> StoreResult<MembershipOutcome>;

    /// Plans a bulk action over the incident's cases. A dry run is stored
    /// as `dry_run`; a submission turns the latest dry run with the same
    /// fingerprint into `awaiting_approval` (without one: a conflict).
    /// `stored` is the command as it is kept, to plan it again later.
    async fn plan_bulk(
        &self,
        author: &BulkAuthor,
        command: &BulkCommand,
        stored: &Value,
        policy: &CasePolicy,
        now: Timestamp,
    ) -> StoreResult<BulkPlanned>;

    /// The one lead approval of a bulk action (never by its author).
    async fn approve_bulk(
        &self,
        actor: &Actor,
        approver: &Principal,
        bulk: BulkId,
        now: Timestamp,
    ) -> StoreResult<BulkActionRecord>;

    /// One bulk action.
    async fn bulk_action(&self, bulk: BulkId) -> StoreResult<Option<BulkActionRecord>>;

    /// The bulk actions of an incident, newest first.
    async fn incident_bulk_actions(&self, id: IncidentId) -> StoreResult<Vec<BulkActionRecord>>;

    /// Cases a bulk action's run left out so far, by case, at most `limit`.
    async fn bulk_skips(&self, bulk: BulkId, limit: u32) -> StoreResult<Vec<BulkSkipRecord>>;

    /// Bulk actions approved and not completed (a run to start or resume).
    async fn applying_bulk_actions(&self) -> StoreResult<Vec<BulkActionRecord>>;

    /// Applies the next batch of a run's steps in one transaction.
    async fn run_bulk_batch(
        &self,
        run: &BulkRun,
        policy: &CasePolicy,
        now: Timestamp,
    ) -> StoreResult<BulkBatch>;
}
