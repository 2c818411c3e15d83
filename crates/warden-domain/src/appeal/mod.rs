//! Appeals: DSA Art. 20 internal complaint handling, as pure rules.
//!
//! A user contests a decision (or one of its actions). The appeal opens a
//! case of kind `appeal` in the `appeals` queue (or a specialist team's,
//! by category), someone other than the original decider with at least
//! their role reviews it, and the outcome goes through the enforcement
//! path that decisions use.
//!
//! - [`intake`]: [`NewAppeal`] parsed from the contract's body (every field
//!   at fault), its fingerprint for idempotent intake, the appeal window
//!   ([`AppealWindow`], six months by default), and
//!   [`plan_appeal_intake`]: duplicate, conflict, a new appeal or one that
//!   joins the open appeal of the same decision.
//! - [`independence`]: the role order and [`may_review_appeal`], the one
//!   rule claim, assign, decide and queue listing apply
//!   ([`AppealListingFilter`] is its form for a store's query).
//! - [`routing`]: the `appeals` queue and routes of categories to
//!   specialist teams' queues.
//! - [`plan`]: [`plan_appeal_decision`], which composes the enforcement
//!   planners: overturned reverses the original decision
//!   ([`crate::enforcement::plan_reversal`]), modified replaces it by a
//!   correction on the original case
//!   ([`crate::enforcement::plan_decision`]), upheld changes no action;
//!   every outcome plans the appellants' notices and, where the original
//!   had a statement of reasons, its update.

pub mod independence;
pub mod intake;
pub mod plan;
pub mod routing;

#[cfg(test)]
mod tests;

use std::fmt;
use std::str::FromStr;

pub use independence::{
    appeal_rank, may_review_appeal, AppealListingFilter, AppealParty, Refusal, APPEAL_ROLE_ORDER,
};
pub use intake::{
    plan_appeal_intake, AppealInput, AppealIntakeFacts, AppealIntakePlan, AppealWindow,
    AppealedDecision, AppellantInput, NewAppeal, OpenAppeal, OpenAppealPlan,
};
pub use plan::{
    plan_appeal_decision, AppealDecideCommand, AppealDecideInput, AppealError, AppealFacts,
    AppealItem, AppealPlan, AppealRecord, AppealResolution, AppealVerdict, OriginalDecision,
    Replacement, StatementUpdate,
};
pub use routing::{appeals_queue_definition, AppealRoute, AppealRouting, APPEALS_QUEUE};

/// What an appeal came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AppealOutcome {
    /// The original decision stands.
    Upheld,
    /// The original decision is reversed.
    Overturned,
    /// The original actions are replaced by others.
    Modified,
}

impl AppealOutcome {
    /// Every outcome.
    pub const ALL: [AppealOutcome; 3] = [
        AppealOutcome::Upheld,
        AppealOutcome::Overturned,
        AppealOutcome::Modified,
    ];

    /// The wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            AppealOutcome::Upheld => "upheld",
            AppealOutcome::Overturned => "overturned",
            AppealOutcome::Modified => "modified",
        }
    }

    /// The type of the appellant's notice template.
    pub fn template_kind(self) -> &'static str {
        match self {
            AppealOutcome::Upheld => crate::notice::APPEAL_UPHELD,
            AppealOutcome::Overturned => crate::notice::APPEAL_OVERTURNED,
            AppealOutcome::Modified => crate::notice::APPEAL_MODIFIED,
        }
    }
}

impl FromStr for AppealOutcome {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        AppealOutcome::ALL
            .into_iter()
            .find(|o| o.as_str() == value)
            .ok_or_else(|| {
                format!("unknown outcome {value:?}; expected upheld, overturned or modified")
            })
    }
}

impl fmt::Display for AppealOutcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Warden's id for an appeal (one per contested decision; appellants who
/// join it share it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AppealId(pub i64);

impl fmt::Display for AppealId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// What kind of case a case is: opened by reports and signals, or by an
/// appeal. Every case view says which (`"kind": "report" | "appeal"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CaseKind {
    /// Opened by reports or signals about a subject.
    Report,
    /// Opened by an appeal of a decision.
    Appeal,
}

impl CaseKind {
    /// The wire and storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            CaseKind::Report => "report",
            CaseKind::Appeal => "appeal",
        }
    }
}

impl FromStr for CaseKind {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        match value {
            "report" => Ok(CaseKind::Report),
            "appeal" => Ok(CaseKind::Appeal),
            other => Err(format!(
                "unknown case kind {other:?}; expected report or appeal"
            )),
        }
    }
}

impl fmt::Display for CaseKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
