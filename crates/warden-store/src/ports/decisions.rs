//! [`DecisionStore`]: deciding cases, correcting decisions, the matrix's
//! recommendation, ruling on actions that wait for approval, reversing.
//!
//! Each change loads its facts, asks a pure planner of
//! `warden_domain::enforcement` (`plan_decision`, `plan_approval`,
//! `plan_reversal`) and writes the plan it returns; the store holds none
//! of the enforcement policy.
//!
//! **Commits together.** A decision, its actions, their outbox rows (apply
//! now; for a temporary action, the lift at its end), strikes, notices,
//! its statement of reasons, the case's change and transition, and the
//! audit records. An action waiting for approval has no outbox row;
//! approving it writes its deliveries, notice and statement in the
//! ruling's transaction. A reversal's rejections, cancellations, undo
//! deliveries, notices and voided strikes commit together.
//!
//! **Conflict and Invalid.** A plan the planner refuses — a stale
//! version, a case held by someone else, one's own action to approve, an
//! action no longer waiting — is `StoreError::Conflict`; a command whose
//! fields the planner refuses (a departure without a reason) is
//! `StoreError::Invalid` naming the first field. Either way nothing
//! changed. A case, action or decision that does not exist is
//! `StoreError::NotFound`.

use async_trait::async_trait;

use warden_domain::decision::DecisionInput;
use warden_domain::enforcement::{DecideCommand, DecisionMode, Ruling};
use warden_domain::{CaseId, Timestamp};

use crate::{ActionDetail, Actor, CasePolicy, DecisionRecord, RecommendationRecord, StoreResult};

/// Decisions, approvals and reversals.
#[async_trait]
pub trait DecisionStore: Send + Sync {
    /// Decides a case without the enforcement extras (see
    /// [`DecisionStore::decide_with`]). A [`DecisionMode::First`]
    /// decision needs the actor's live lease; a
    /// [`DecisionMode::Correction`] of a resolved case supersedes its last
    /// decision.
    #[allow(clippy::too_many_arguments)]
    async fn decide(
        &self,
        actor: &Actor,
        id: CaseId,
        expected_version: i64,
        input: DecisionInput,
        policy: &CasePolicy,
        mode: DecisionMode,
        now: Timestamp,
    ) -> StoreResult<DecisionRecord>;

    /// Decides a case: a first decision or a correction, with the extras
    /// of the enforcement contract. Loads the facts, plans the decision with
    /// [`warden_domain::enforcement::plan_decision`] and writes the plan —
    /// the decision, its actions, outbox rows, strikes, notices, statement
    /// of reasons, the case's change and the audit record — in one
    /// transaction. A refused plan is a conflict or an invalid field and
    /// changes nothing.
    async fn decide_with(
        &self,
        actor: &Actor,
        command: DecideCommand,
        policy: &CasePolicy,
        now: Timestamp,
    ) -> StoreResult<DecisionRecord>;

    /// What the matrix recommends for a case now (for `category`, or the case's).
    async fn recommendation(
        &self,
        case_id: CaseId,
        category: Option<&str>,
        policy: &CasePolicy,
        now: Timestamp,
    ) -> StoreResult<RecommendationRecord>;

    /// The case and queue of each decision in `ids` that exists (at most
    /// `PAGE_SIZE_MAX` ids are looked at), as `(decision, case, queue)`.
    async fn decision_cases(&self, ids: &[i64]) -> StoreResult<Vec<(i64, CaseId, String)>>;

    /// Actions waiting for approval, oldest first.
    async fn pending_approvals(&self, limit: u32) -> StoreResult<Vec<ActionDetail>>;

    /// One action with its story.
    async fn action_detail(&self, action_id: i64) -> StoreResult<Option<ActionDetail>>;

    /// Approves (delivering it) or rejects an action that waits, as
    /// [`warden_domain::enforcement::plan_approval`] plans it, in one
    /// transaction. The decision's author may not rule on their own action
    /// (a conflict).
    async fn rule_on_action(
        &self,
        actor: &Actor,
        action_id: i64,
        ruling: Ruling,
        note: &str,
        now: Timestamp,
    ) -> StoreResult<ActionDetail>;

    /// Reverses one action: undoes it at the platform.
    async fn reverse_action(
        &self,
        actor: &Actor,
        action_id: i64,
        reason: &str,
        now: Timestamp,
    ) -> StoreResult<ActionDetail>;

    /// Reverses a decision: all its actions, and its strikes are removed.
    async fn reverse_decision(
        &self,
        actor: &Actor,
        decision_id: i64,
        reason: &str,
        now: Timestamp,
    ) -> StoreResult<DecisionRecord>;
}
