//! Records of QA sampling, reviews, rework and calibration
//! ([`crate::QualityStore`]). The states themselves are the domain's
//! (`warden_domain::quality`): the store keeps them and checks them on the
//! way out with their `restore`.

use warden_domain::case::Severity;
use warden_domain::quality::calibration::{CalibrationSession, SessionStatus};
use warden_domain::quality::review::{QaAssignment, QaVerdict};
use warden_domain::quality::sampling::SamplingPlanInput;
use warden_domain::routing::QueueScope;
use warden_domain::{CaseId, Timestamp};

/// A stored sampling plan: its input as checked when saved.
#[derive(Debug, Clone, PartialEq)]
pub struct QaPlanRecord {
    /// The plan as given (its `name` is the key).
    pub input: SamplingPlanInput,
    /// Who saved it last.
    pub created_by: String,
    /// When it was first saved.
    pub created_at: Timestamp,
    /// When it was saved last.
    pub updated_at: Timestamp,
}

/// A decision the sampling pass reads: what the sampler looks at, and its
/// case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionToSample {
    /// The decision.
    pub decision_id: i64,
    /// Its case.
    pub case_id: CaseId,
    /// The case's queue.
    pub queue: String,
    /// The decision's category.
    pub category: String,
    /// The case's severity.
    pub severity: Severity,
    /// The decider's user name.
    pub decider: String,
    /// When the decider's account was created.
    pub decider_started_at: Timestamp,
    /// When the decision was made.
    pub decided_at: Timestamp,
}

/// Decisions made in a period in one stratum (queue, category, severity,
/// decider): what a plan's expected weekly load is estimated from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StratumCount {
    /// The case's queue.
    pub queue: String,
    /// The decision's category.
    pub category: String,
    /// The case's severity.
    pub severity: Severity,
    /// The decider's user name.
    pub decider: String,
    /// When the decider's account was created (their tenure starts).
    pub decider_started_at: Timestamp,
    /// Decisions in the period.
    pub decisions: u64,
}

/// A plan that chose a decision, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SamplePlanTag {
    /// The plan's name.
    pub plan: String,
    /// Why, in words.
    pub reason: String,
    /// Whether it was chosen by rate (counts toward the weekly cap).
    pub by_rate: bool,
}

/// A sampled decision to put in the QA queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewQaSample {
    /// The decision as the pass read it.
    pub decision: DecisionToSample,
    /// Every plan that chose it; at least one.
    pub plans: Vec<SamplePlanTag>,
}

/// A QA assignment as stored, checked, with what lists and gates need.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredQaAssignment {
    /// The assignment (the domain's state).
    pub assignment: QaAssignment,
    /// Its version: every change names it.
    pub version: i64,
    /// The queue of the case when sampled.
    pub queue: String,
    /// The decision's category when sampled.
    pub category: String,
    /// When the decision was made.
    pub decided_at: Timestamp,
    /// Why it was sampled, per plan (never shown before the verdict).
    pub plans: Vec<SamplePlanTag>,
    /// The rework it caused, if any.
    pub rework: Option<ReworkRecord>,
}

/// A decision sent back to its decider.
#[derive(Debug, Clone, PartialEq)]
pub struct ReworkRecord {
    /// The decision.
    pub decision_id: i64,
    /// Its case.
    pub case_id: CaseId,
    /// The decider.
    pub decider: String,
    /// The QA reviewer's feedback.
    pub feedback: String,
    /// QA's verdict, shown beside the feedback.
    pub suggestion: QaVerdict,
    /// Whether the case was to reopen for the correction.
    pub reopen_case: bool,
    /// When it was sent back.
    pub sent_back_at: Timestamp,
}

/// A change to a QA assignment: its new state, the version it expects,
/// what happened (for the audit log), the rework it sends back and the
/// reopening of the case for the correction, all in one transaction.
#[derive(Debug, Clone)]
pub struct QaChange<'a> {
    /// The assignment after the change.
    pub assignment: &'a QaAssignment,
    /// The version read before the change.
    pub expected_version: i64,
    /// The event's name (`claim`, `submit_verdict`, ...).
    pub event: &'static str,
    /// The rework to record with it.
    pub rework: Option<ReworkRecord>,
    /// The reopening of the assignment's case the rework calls for.
    pub reopen: Option<CaseReopen<'a>>,
}

/// A resolved case reopened for a correction, with the policy its new SLA
/// deadlines come from (read in the change's transaction, like
/// [`crate::CaseStore::reopen`]).
#[derive(Debug, Clone)]
pub struct CaseReopen<'a> {
    /// Why, in the case's history.
    pub reason: String,
    /// The policy in force (its router gives the queue's SLA).
    pub policy: &'a crate::CasePolicy,
}

/// Which reviewed assignments to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QaReviewFilter {
    /// Reviews by this QA reviewer.
    pub reviewer: Option<String>,
    /// Of this decider's decisions.
    pub decider: Option<String>,
    /// Scored at or after.
    pub since: Option<Timestamp>,
    /// Only scored reviews waiting for the decider's acknowledgement.
    pub awaiting_acknowledgement: bool,
    /// The caller's queues.
    pub scope: QueueScope,
    /// At most this many (capped at the page size).
    pub limit: u32,
}

/// A calibration session as stored, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredCalibrationSession {
    /// Its id.
    pub id: i64,
    /// Its version: every change names it.
    pub version: i64,
    /// The session (the domain's state, its report computed when closed).
    pub session: CalibrationSession,
}

/// A session in a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalibrationSessionSummary {
    /// Its id.
    pub id: i64,
    /// Its title.
    pub title: String,
    /// Its status.
    pub status: SessionStatus,
    /// Who created it.
    pub created_by: String,
    /// When.
    pub created_at: Timestamp,
}

/// A resolution note that applies to a category.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolutionNoteRecord {
    /// The session that settled it.
    pub session_id: i64,
    /// The session's title.
    pub title: String,
    /// The note.
    pub note: String,
    /// Who wrote it.
    pub resolved_by: String,
    /// When.
    pub resolved_at: Timestamp,
}
