//! What the store loads for the enforcement planners, and what the plans
//! share: stored cases, accounts, actions with their deliveries, the
//! context of a stored decision, planned deliveries and notices, and the
//! planners' error.
//!
//! Facts are plain data read in the planner's transaction; a planner never
//! asks for more. Plans name the rows to write; ids the database hands out
//! (a new decision's, its actions') are filled in by the writer, through
//! the pure `render`/`build` functions the plan offers.

use std::fmt;

use crate::action::{ActionStatus, DeliveryStatus};
use crate::case::{CaseStatus, Severity};
use crate::decision::{ActionKind, Rationale};
use crate::ids::{
    ActionId, CaseId, DecisionId, LanguageTag, SubjectKind, SubjectRef, UserId, Version,
};
use crate::webhook::DeliveryKind;
use crate::{FieldErrors, Timestamp};

use super::policy::EnforcementPolicy;

/// Why a planner refused a command. Nothing is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanError {
    /// The command does not fit the current state (a stale version, a case
    /// held by someone else, an action that no longer waits, one's own
    /// action to approve).
    Conflict(String),
    /// The command is not acceptable: every field at fault, with why.
    Invalid(FieldErrors),
}

impl PlanError {
    /// An invalid command with one field at fault.
    pub fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        PlanError::Invalid(crate::FieldError::new(field, reason).into())
    }
}

impl fmt::Display for PlanError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlanError::Conflict(message) => f.write_str(message),
            PlanError::Invalid(errors) => write!(f, "{errors}"),
        }
    }
}

impl std::error::Error for PlanError {}

impl From<FieldErrors> for PlanError {
    fn from(errors: FieldErrors) -> Self {
        PlanError::Invalid(errors)
    }
}

/// A stored case, as the decision planner reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseFacts {
    /// Warden's id.
    pub id: CaseId,
    /// Its version now.
    pub version: Version,
    /// What it is about.
    pub subject: SubjectRef,
    /// Its category.
    pub category: String,
    /// Its severity (signals may have raised it above the category's).
    pub severity: Severity,
    /// Its status.
    pub status: CaseStatus,
    /// The name of whoever holds it.
    pub assignee: Option<String>,
    /// Their user id.
    pub assignee_id: Option<UserId>,
    /// When their lease ends.
    pub lease_expires_at: Option<Timestamp>,
    /// Held past the lease, with a reason.
    pub held: bool,
    /// When it was first resolved.
    pub resolved_at: Option<Timestamp>,
    /// The content's language, when the platform gave a readable tag.
    pub language: Option<LanguageTag>,
    /// When it was opened.
    pub opened_at: Timestamp,
    /// Signals that joined it.
    pub signal_count: i64,
}

impl CaseFacts {
    /// Whether anyone holds a live lease at `now`.
    pub fn lease_is_live(&self, now: Timestamp) -> bool {
        self.assignee_id.is_some() && (self.held || self.lease_expires_at.is_some_and(|t| t > now))
    }

    /// Whether `user` holds a live lease at `now`.
    pub fn is_held_by(&self, user: Option<UserId>, now: Timestamp) -> bool {
        user.is_some() && self.assignee_id == user && self.lease_is_live(now)
    }
}

/// The account a decision about `subject` acts on: the subject itself when
/// it is an account, else its owner.
pub fn account_of(subject: &SubjectRef, owner: Option<&SubjectRef>) -> Option<SubjectRef> {
    if subject.kind == SubjectKind::Account {
        Some(subject.clone())
    } else {
        owner.cloned()
    }
}

/// The account behind a case, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountFacts {
    /// The account.
    pub reference: SubjectRef,
    /// Its tags (see [`super::account_tags`]).
    pub tags: Vec<String>,
    /// `business`, `private` or `personal`, from its attributes, if known.
    pub account_type: Option<String>,
    /// The weight of its active strikes now, not counting strikes of the
    /// case being decided (a correction does not count what it replaces).
    pub active_strike_weight: i64,
}

/// One taxonomy version.
#[derive(Debug, Clone, PartialEq)]
pub struct TaxonomyVersion {
    /// Its number.
    pub version: i64,
    /// Its policy.
    pub policy: EnforcementPolicy,
}

/// One outbox row of an action (or of one of its notices), as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryFacts {
    /// The outbox id.
    pub id: i64,
    /// What it tells.
    pub kind: DeliveryKind,
    /// Where it stands.
    pub status: DeliveryStatus,
    /// Attempts made.
    pub attempts: i64,
}

/// An action a stored decision ordered, with its deliveries.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderedAction {
    /// Warden's id.
    pub id: ActionId,
    /// What it does.
    pub kind: ActionKind,
    /// What it acts on.
    pub target: SubjectRef,
    /// How long, in seconds.
    pub duration_seconds: Option<i64>,
    /// When it ends by itself.
    pub expires_at: Option<Timestamp>,
    /// Where it stands.
    pub status: ActionStatus,
    /// Its outbox rows and its notices' rows, oldest first.
    pub deliveries: Vec<DeliveryFacts>,
}

/// A stored decision, as approvals, reversals and corrections need it.
#[derive(Debug, Clone, PartialEq)]
pub struct DecisionContext {
    /// Warden's id.
    pub id: DecisionId,
    /// The case it decided.
    pub case: CaseId,
    /// Its category.
    pub category: String,
    /// The reason code it named.
    pub reason_code: Option<String>,
    /// The policy id or section it named.
    pub policy_id: Option<String>,
    /// Its rationale.
    pub rationale: Rationale,
    /// Who made it; `None` when Warden decided by itself.
    pub author: Option<UserId>,
    /// The case's language.
    pub language: Option<LanguageTag>,
    /// The owner of the case's subject, who hears of actions on it.
    pub subject_owner: Option<SubjectRef>,
    /// The policy of the taxonomy version it was made under.
    pub policy: EnforcementPolicy,
}

/// A delivery a plan queues for an action (`A` names the action: its index
/// in a new decision's plan, or its id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedDelivery<A> {
    /// The action.
    pub action: A,
    /// Apply, lift or reverse.
    pub kind: DeliveryKind,
    /// When it is due.
    pub due: Timestamp,
    /// Whether the body names the decision's statement of reasons.
    pub names_statement: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::PlatformId;
    use chrono::{Duration, TimeZone, Utc};

    fn case(assignee: Option<i64>, lease: Option<i64>, held: bool) -> CaseFacts {
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        CaseFacts {
            id: CaseId(1),
            version: Version(1),
            subject: SubjectRef::new(SubjectKind::Content, PlatformId::parse("p").unwrap()),
            category: "spam".into(),
            severity: Severity::Low,
            status: CaseStatus::InReview,
            assignee: assignee.map(|_| "anna".into()),
            assignee_id: assignee.map(UserId),
            lease_expires_at: lease.map(|m| t0 + Duration::minutes(m)),
            held,
            resolved_at: None,
            language: None,
            opened_at: t0,
            signal_count: 0,
        }
    }

    #[test]
    fn leases() {
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        assert!(case(Some(1), Some(10), false).is_held_by(Some(UserId(1)), t0));
        assert!(!case(Some(1), Some(10), false).is_held_by(Some(UserId(2)), t0));
        assert!(!case(Some(1), Some(10), false).is_held_by(None, t0));
        assert!(!case(Some(1), Some(10), false).lease_is_live(t0 + Duration::minutes(10)));
        assert!(case(Some(1), Some(10), true).lease_is_live(t0 + Duration::days(3)));
        assert!(!case(None, None, false).lease_is_live(t0));
    }
}
