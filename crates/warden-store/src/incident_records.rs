//! What the incident store reads and writes: incidents, their timelines,
//! bulk actions and their progress.

use serde_json::Value;

use warden_domain::escalation::EscalationSeverity;
use warden_domain::ids::UserId;
use warden_domain::incident::{
    BulkCommand, BulkId, Incident, IncidentId, IncidentStatus, MembershipPlan, SkipReason,
};
use warden_domain::routing::QueueScope;
use warden_domain::{CaseId, Timestamp};

use crate::Actor;

/// An incident as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentRecord {
    /// Warden's id.
    pub id: IncidentId,
    /// Its title.
    pub title: String,
    /// Its severity.
    pub severity: EscalationSeverity,
    /// Its description.
    pub description: String,
    /// Its owner's user id.
    pub owner_id: i64,
    /// Its owner's name.
    pub owner: String,
    /// Where it stands.
    pub status: IncidentStatus,
    /// Entries on its timeline.
    pub timeline_entries: usize,
    /// When it opened.
    pub opened_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}

impl IncidentRecord {
    /// The incident as the domain's planners read it.
    pub fn domain(&self) -> Incident {
        Incident {
            id: self.id,
            title: self.title.clone(),
            severity: self.severity,
            description: self.description.clone(),
            owner: UserId(self.owner_id),
            status: self.status,
            opened_at: self.opened_at,
            timeline_entries: self.timeline_entries,
        }
    }
}

/// One entry of an incident's timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelineRecord {
    /// When.
    pub at: Timestamp,
    /// Who (a user's name, or `system`).
    pub actor: String,
    /// What, as a code: opened, cases_joined, status_changed,
    /// owner_changed, bulk_planned, bulk_approved, bulk_completed.
    pub event: String,
    /// What, in a phrase.
    pub text: String,
}

/// Cases that joined an incident.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MembershipOutcome {
    /// What was planned and written.
    pub plan: MembershipPlan,
    /// Cases in the incident now.
    pub members: usize,
}

/// Where a bulk action's status stands, as stored.
pub use warden_domain::incident::BulkStatus;

/// A bulk action as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct BulkActionRecord {
    /// Warden's id.
    pub id: BulkId,
    /// Its incident.
    pub incident: IncidentId,
    /// Who asked for it.
    pub author_id: i64,
    /// Their name.
    pub author: String,
    /// Where it stands.
    pub status: BulkStatus,
    /// The command as submitted (the body's fields, checked), to plan
    /// again when it runs.
    pub command: Value,
    /// The fingerprint of what it does.
    pub fingerprint: String,
    /// Cases planned to decide (at the last planning).
    pub planned: i64,
    /// Cases decided so far.
    pub applied: i64,
    /// Cases left out so far.
    pub skipped: i64,
    /// Who approved it.
    pub approver: Option<String>,
    /// Their user id.
    pub approver_id: Option<i64>,
    /// When.
    pub approved_at: Option<Timestamp>,
    /// When it was asked for.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
    /// When its last step was applied.
    pub completed_at: Option<Timestamp>,
}

/// A case a bulk action left out, with why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkSkipRecord {
    /// The case.
    pub case_id: CaseId,
    /// The reason's code ([`SkipReason::code`]).
    pub code: String,
    /// The reason in words.
    pub reason: String,
}

impl BulkSkipRecord {
    /// A planner's skip as stored.
    pub fn of(case_id: CaseId, reason: &SkipReason) -> Self {
        Self {
            case_id,
            code: reason.code().to_string(),
            reason: reason.to_string(),
        }
    }
}

/// A bulk action planned: its record and the cases it leaves out.
#[derive(Debug, Clone, PartialEq)]
pub struct BulkPlanned {
    /// The bulk action as stored now.
    pub record: BulkActionRecord,
    /// Cases left out, in case order.
    pub skipped: Vec<BulkSkipRecord>,
}

/// Who a bulk action's steps are written by, and what it may see.
#[derive(Debug, Clone)]
pub struct BulkAuthor {
    /// The author, as the decisions record them.
    pub actor: Actor,
    /// The queues the author is admitted to: cases elsewhere are skipped.
    pub scope: QueueScope,
}

/// One run of a bulk action's steps.
#[derive(Debug, Clone)]
pub struct BulkRun {
    /// The command, parsed from the stored one.
    pub command: BulkCommand,
    /// Who asked for it.
    pub author: BulkAuthor,
    /// The lead who approved it: the actions waiting for a lead are
    /// approved in their name.
    pub approver: Actor,
    /// Steps per transaction.
    pub batch: usize,
}

/// What one batch of a run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BulkBatch {
    /// Cases decided in this batch.
    pub applied: usize,
    /// Cases left out in this batch.
    pub skipped: usize,
    /// Whether the bulk action is completed now.
    pub completed: bool,
}
