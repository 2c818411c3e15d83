//! [`AppealStore`]: appeals of decisions (DSA Art. 20) — intake, the
//! appeal of a case, its decision through the enforcement path, listing.
//!
//! **Commits together.** An incoming appeal: its item, and either a new
//! appeal case (kind `appeal`, with its transition) and the appeal row, or
//! the open appeal's case version bump; with the audit record. An appeal's
//! decision: the appeal's outcome, the appeal case resolved, the reversal
//! of the original decision (overturned) or the replacement decision on
//! the original case (modified) with everything a decision writes, the
//! appellants' notices, the statement of reasons' update and the audit
//! records — one transaction, planned by
//! `warden_domain::appeal::plan_appeal_decision`.
//!
//! **Conflict, Invalid and NotFound.** Intake answers a duplicate and a
//! conflicting repeat as outcomes, not errors; a refused appeal (unknown
//! decision, past the window) is `StoreError::Invalid` naming the field.
//! A decision the independence rule refuses is `StoreError::Forbidden`; a
//! stale version, a case not held by the reviewer or an appeal decided
//! already is `StoreError::Conflict`; a case that is no appeal is
//! `StoreError::NotFound`. Nothing changes on any error.

use async_trait::async_trait;

use warden_domain::appeal::{AppealDecideCommand, AppealParty, NewAppeal};
use warden_domain::{CaseId, Timestamp};

use crate::{
    Actor, AppealFilter, AppealIntakeOutcome, AppealRules, AppealView, CasePolicy, StoreResult,
};

/// Appeals.
#[async_trait]
pub trait AppealStore: Send + Sync {
    /// Takes in an appeal, as `warden_domain::appeal::plan_appeal_intake`
    /// plans it, in one transaction.
    async fn submit_appeal(
        &self,
        actor: &Actor,
        appeal: &NewAppeal,
        rules: &AppealRules,
        policy: &CasePolicy,
        now: Timestamp,
    ) -> StoreResult<AppealIntakeOutcome>;

    /// The appeal whose case is `case`, if it is an appeal case.
    async fn appeal_of_case(&self, case: CaseId) -> StoreResult<Option<AppealView>>;

    /// Decides the appeal of case `command.case` by `reviewer` (the actor,
    /// with their role), in one transaction.
    async fn decide_appeal(
        &self,
        actor: &Actor,
        reviewer: AppealParty,
        command: &AppealDecideCommand,
        policy: &CasePolicy,
        now: Timestamp,
    ) -> StoreResult<AppealView>;

    /// Appeals, newest first.
    async fn list_appeals(&self, filter: &AppealFilter) -> StoreResult<Vec<AppealView>>;
}
