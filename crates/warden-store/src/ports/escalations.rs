//! [`EscalationStore`]: escalations of cases to specialist teams, their
//! packages, Sev-1 pages and acknowledgements.
//!
//! **Commits together.** An escalation: the case moved to the team's
//! queue (status `escalated`, lease released, severity raised to the
//! level's, version bumped, its transition), the escalation row with the
//! package as sent, its pages as outbox rows (`escalation.page`, due at
//! the times `warden_domain::escalation::page_schedule` gives) and the
//! audit records — one transaction, planned by
//! `warden_domain::escalation::plan_escalation` over the case and its
//! evidence read (and verified) in that transaction. An acknowledgement:
//! the escalation's acknowledgement, its pages not yet sent cancelled and
//! the audit record — planned by `plan_acknowledgement`.
//!
//! **Conflict, Invalid, Forbidden and NotFound.** A stale version, a case
//! that cannot be escalated, one held by someone else, and a second
//! acknowledgement are `StoreError::Conflict`; a package missing parts is
//! `StoreError::Invalid` naming `package.<part>` (and the others in its
//! reason); an acknowledgement by someone outside the team is
//! `StoreError::Forbidden`; a case without escalation is
//! `StoreError::NotFound`. Nothing changes on any error.

use async_trait::async_trait;

use warden_domain::access::Principal;
use warden_domain::escalation::PackageFacts;
use warden_domain::{CaseId, Timestamp};

use crate::{Actor, CaseRecord, EscalationRecord, EscalationRequest, StoreResult};

/// Escalations.
#[async_trait]
pub trait EscalationStore: Send + Sync {
    /// Escalates `request.command.case`: `package` holds everything but
    /// the case's evidence, which is read (and verified) here, in the
    /// transaction. Returns the case and the escalation.
    async fn escalate_to_team(
        &self,
        actor: &Actor,
        request: &EscalationRequest<'_>,
        package: PackageFacts,
        now: Timestamp,
    ) -> StoreResult<(CaseRecord, EscalationRecord)>;

    /// A team member acknowledges the latest escalation of `case`.
    async fn acknowledge_escalation(
        &self,
        actor: &Actor,
        member: &Principal,
        case: CaseId,
        now: Timestamp,
    ) -> StoreResult<EscalationRecord>;

    /// The latest escalation of `case`, if any.
    async fn latest_escalation(&self, case: CaseId) -> StoreResult<Option<EscalationRecord>>;

    /// Unacknowledged escalations, oldest first, at most `limit`.
    async fn unacknowledged_escalations(&self, limit: u32) -> StoreResult<Vec<EscalationRecord>>;
}
