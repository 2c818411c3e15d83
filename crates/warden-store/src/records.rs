//! What the store hands back: plain records of stored facts.

use serde_json::Value;

use warden_domain::access::{Role, Scope};
use warden_domain::action::ActionStatus;
use warden_domain::appeal::CaseKind;
use warden_domain::case::{CaseStatus, Severity};
use warden_domain::decision::Rationale;
use warden_domain::intake::ReportSource;
use warden_domain::{CaseId, SubjectRef, Timestamp};

/// A case as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseRecord {
    /// Warden's id.
    pub id: CaseId,
    /// What the case is about.
    pub subject: SubjectRef,
    /// The taxonomy code of its reports.
    pub category: String,
    /// The queue it sits in.
    pub queue: String,
    /// How severe.
    pub severity: Severity,
    /// Where it stands.
    pub status: CaseStatus,
    /// Sum of its reports' and signals' weights.
    pub priority: i64,
    /// Bumped on every change; writes name the version they expect.
    pub version: i64,
    /// Who holds it.
    pub assignee: Option<String>,
    /// Their user id.
    pub assignee_id: Option<i64>,
    /// When their lease ends.
    pub lease_expires_at: Option<Timestamp>,
    /// Whether it is held past its lease.
    pub held: bool,
    /// Why it is held.
    pub hold_reason: Option<String>,
    /// Language of its first report.
    pub language: Option<String>,
    /// When it was opened.
    pub opened_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
    /// First touch due.
    pub first_touch_due_at: Timestamp,
    /// Resolution due.
    pub resolve_due_at: Timestamp,
    /// First touched.
    pub first_touched_at: Option<Timestamp>,
    /// Resolved (last time).
    pub resolved_at: Option<Timestamp>,
    /// Reports joined.
    pub report_count: i64,
    /// Signals joined.
    pub signal_count: i64,
    /// Opened by reports and signals, or by an appeal.
    pub kind: CaseKind,
}

impl CaseRecord {
    /// Whether `user_id` holds a live lease on this case at `now`.
    pub fn is_held_by(&self, user_id: i64, now: Timestamp) -> bool {
        self.assignee_id == Some(user_id) && self.lease_is_live(now)
    }

    /// Whether anyone holds a live lease at `now`.
    pub fn lease_is_live(&self, now: Timestamp) -> bool {
        self.assignee_id.is_some() && (self.held || self.lease_expires_at.is_some_and(|t| t > now))
    }
}

/// A report as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportRecord {
    /// The platform's id.
    pub id: String,
    /// What is reported.
    pub subject: SubjectRef,
    /// Taxonomy code.
    pub reason: String,
    /// Where it came from.
    pub source: ReportSource,
    /// Who reported.
    pub reporter: Option<SubjectRef>,
    /// The reporter's words.
    pub text: Option<String>,
    /// Language.
    pub language: Option<String>,
    /// When it was made.
    pub created_at: Timestamp,
    /// When Warden received it.
    pub received_at: Timestamp,
    /// The case it joined.
    pub case_id: Option<CaseId>,
}

/// A signal as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct SignalRecord {
    /// Its id.
    pub id: String,
    /// What it is about.
    pub subject: SubjectRef,
    /// Taxonomy code.
    pub category: String,
    /// What produced it.
    pub source: String,
    /// Rule or model name.
    pub name: String,
    /// Confidence.
    pub score: f64,
    /// Whether it opens cases.
    pub opens_case: bool,
    /// What matched.
    pub details: Value,
    /// When.
    pub created_at: Timestamp,
    /// The case it joined.
    pub case_id: Option<CaseId>,
}

/// One change of a case's status.
#[derive(Debug, Clone, PartialEq)]
pub struct TransitionRecord {
    /// Status before; `None` when the case was opened.
    pub from: Option<CaseStatus>,
    /// Status after.
    pub to: CaseStatus,
    /// Who.
    pub actor: String,
    /// When.
    pub at: Timestamp,
    /// Why, if said.
    pub reason: Option<String>,
}

/// A decision as stored. Immutable; corrections supersede it.
#[derive(Debug, Clone, PartialEq)]
pub struct DecisionRecord {
    /// Warden's id.
    pub id: i64,
    /// The case decided.
    pub case_id: CaseId,
    /// The case's subject.
    pub subject: SubjectRef,
    /// Whether a policy was broken.
    pub violation: bool,
    /// Taxonomy code.
    pub category: String,
    /// Policy id or section.
    pub policy: Option<String>,
    /// Why.
    pub rationale: Rationale,
    /// Who decided.
    pub decided_by: String,
    /// When.
    pub decided_at: Timestamp,
    /// The decision this one corrects.
    pub supersedes: Option<i64>,
    /// The decision that corrected this one.
    pub superseded_by: Option<i64>,
    /// The actions it ordered.
    pub actions: Vec<ActionRecord>,
    /// Its enforcement facts (matrix, approvals, statement, reversal);
    /// `None` for decisions made before enforcement existed.
    pub enforcement: Option<crate::DecisionEnforcement>,
}

/// An action as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionRecord {
    /// Warden's id.
    pub id: i64,
    /// The decision that ordered it.
    pub decision_id: i64,
    /// What it acts on.
    pub target: SubjectRef,
    /// Action type: `remove_content`, `suspend`, ...
    pub action_type: String,
    /// For restrictions.
    pub feature: Option<String>,
    /// For labels.
    pub label: Option<String>,
    /// How long, in seconds.
    pub duration_seconds: Option<i64>,
    /// When it ends by itself.
    pub expires_at: Option<Timestamp>,
    /// Where it stands: `pending` until delivered, ...
    pub status: ActionStatus,
    /// When ordered.
    pub created_at: Timestamp,
}

/// A strike on an account.
#[derive(Debug, Clone, PartialEq)]
pub struct StrikeRecord {
    /// Warden's id.
    pub id: i64,
    /// The account's platform id.
    pub account_id: String,
    /// The decision that gave it.
    pub decision_id: i64,
    /// Taxonomy code.
    pub category: String,
    /// How much it counts.
    pub weight: i64,
    /// When given.
    pub created_at: Timestamp,
    /// When it stops counting.
    pub expires_at: Timestamp,
    /// When it was voided by a correction, if it was.
    pub voided_at: Option<Timestamp>,
}

impl StrikeRecord {
    /// Whether it still counts at `now`.
    pub fn is_active(&self, now: Timestamp) -> bool {
        self.voided_at.is_none() && self.expires_at > now
    }
}

/// A structured note on a case.
#[derive(Debug, Clone, PartialEq)]
pub struct NoteRecord {
    /// Warden's id.
    pub id: i64,
    /// The case.
    pub case_id: CaseId,
    /// Who wrote it.
    pub author: String,
    /// The five sections.
    pub body: Rationale,
    /// When.
    pub created_at: Timestamp,
}

/// A subject as the platform last sent it.
#[derive(Debug, Clone, PartialEq)]
pub struct SubjectRecord {
    /// Which subject.
    pub subject: SubjectRef,
    /// Its owner.
    pub owner: Option<SubjectRef>,
    /// Its text.
    pub text: Option<String>,
    /// Media as sent: a JSON array.
    pub media: Value,
    /// Attributes as sent.
    pub attributes: Value,
    /// When the platform created it.
    pub created_at: Option<Timestamp>,
    /// When Warden first heard of it.
    pub first_seen_at: Timestamp,
    /// When Warden last got an update.
    pub updated_at: Timestamp,
}

/// An event as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct EventRecord {
    /// The platform's id.
    pub id: String,
    /// Its type.
    pub event_type: String,
    /// When it happened.
    pub occurred_at: Timestamp,
    /// Who did it.
    pub actor: Option<SubjectRef>,
    /// What it concerned.
    pub subject: Option<SubjectRef>,
    /// IP address.
    pub ip: Option<String>,
    /// Device id.
    pub device_id: Option<String>,
    /// Other data.
    pub data: Value,
}

/// Everything Warden knows about one subject.
#[derive(Debug, Clone, PartialEq)]
pub struct SubjectHistory {
    /// The subject, if the platform sent it.
    pub subject: Option<SubjectRecord>,
    /// Reports about it, newest first.
    pub reports: Vec<ReportRecord>,
    /// Cases about it, newest first.
    pub cases: Vec<CaseRecord>,
    /// Decisions on those cases, newest first.
    pub decisions: Vec<DecisionRecord>,
    /// Actions on it (or on it as an account), newest first.
    pub actions: Vec<ActionRecord>,
    /// Strikes, when it is an account, newest first.
    pub strikes: Vec<StrikeRecord>,
    /// Sum of the weights of strikes active now.
    pub active_strike_weight: i64,
    /// Appeals of decisions about the subject, and its own appeals, newest first.
    pub appeals: Vec<crate::AppealView>,
    /// Events it took part in, newest first.
    pub events: Vec<EventRecord>,
}

/// A case with everything attached to it.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseDetail {
    /// The case.
    pub case: CaseRecord,
    /// Its subject, if the platform sent it.
    pub subject: Option<SubjectRecord>,
    /// Reports, oldest first.
    pub reports: Vec<ReportRecord>,
    /// Signals, oldest first.
    pub signals: Vec<SignalRecord>,
    /// Status changes, oldest first.
    pub transitions: Vec<TransitionRecord>,
    /// Decisions, oldest first.
    pub decisions: Vec<DecisionRecord>,
    /// Notes, oldest first.
    pub notes: Vec<NoteRecord>,
}

/// A Warden user.
#[derive(Debug, Clone, PartialEq)]
pub struct UserRecord {
    /// Warden's id.
    pub id: i64,
    /// Login name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// Disabled users cannot sign in or use tokens.
    pub disabled: bool,
    /// When created.
    pub created_at: Timestamp,
    /// Failed sign-ins in a row.
    pub failed_sign_ins: i64,
    /// Locked until, after too many failures.
    pub locked_until: Option<Timestamp>,
    /// Teams (sorted codes); restricted queues admit by team.
    pub teams: Vec<String>,
}

/// An API token (its secret is never stored).
#[derive(Debug, Clone, PartialEq)]
pub struct TokenRecord {
    /// Warden's id.
    pub id: i64,
    /// Its user.
    pub user_id: i64,
    /// A name to tell tokens apart.
    pub name: String,
    /// Its scope.
    pub scope: Scope,
    /// When created.
    pub created_at: Timestamp,
    /// When revoked.
    pub revoked_at: Option<Timestamp>,
    /// Who minted it: a user's name, or `system` (the command line, the
    /// demo); `None` for tokens minted before this was recorded.
    pub minted_by: Option<String>,
}

/// A console session.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRecord {
    /// Its user.
    pub user_id: i64,
    /// The CSRF token of its forms.
    pub csrf_token: String,
    /// When it ends.
    pub expires_at: Timestamp,
}

/// Numbers about one queue's open cases.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueStats {
    /// The queue.
    pub queue: String,
    /// Open cases.
    pub depth: i64,
    /// Open cases nobody holds.
    pub unassigned: i64,
    /// When the oldest open case was opened.
    pub oldest_opened_at: Option<Timestamp>,
    /// Open cases past their resolution deadline.
    pub resolution_breaches: i64,
    /// Open, untouched cases past their first-touch deadline.
    pub first_touch_breaches: i64,
}

/// Stored intake items, by kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct IntakeCounts {
    /// Subjects.
    pub subjects: i64,
    /// Events.
    pub events: i64,
    /// Reports.
    pub reports: i64,
    /// Signals.
    pub signals: i64,
    /// Cases.
    pub cases: i64,
}
