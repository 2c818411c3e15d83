//! Enforcement: the versioned policy and the pure planners of what a
//! decision, an approval or a reversal causes.
//!
//! - [`policy`]: one version of the taxonomy document (categories, reason
//!   codes and their DSA mapping, strike rules, the enforcement matrix,
//!   protected tags), its JSON form and the built-in defaults.
//! - [`assess`]: the matrix's recommendation, departures from it, and the
//!   decision rights (which actions wait for a lead).
//! - [`facts`]: what the store loads for a planner.
//! - [`plan`]: `plan_decision(&DecisionFacts, &DecideCommand, now)` — every
//!   row a decision writes: the decision, its actions with their status,
//!   outbox rows, strikes added and voided, notices, the statement of
//!   reasons, the case's transition and the audit details.
//! - [`approval`] and [`reversal`]: the same for a lead's ruling on an
//!   action that waits, and for undoing an action or a whole decision.
//!
//! Planners are pure (`facts → plan`): the store loads the facts and
//! writes the plan in one transaction, and holds no policy of its own.

pub mod approval;
pub mod assess;
pub mod facts;
pub mod plan;
pub mod policy;
pub mod reversal;

pub use approval::{plan_approval, ApprovalCommand, ApprovalFacts, ApprovalPlan, Ruling};
pub use assess::{account_tags, assess, ApprovalReason, Assessment, Departure, Situation};
pub use facts::*;
pub use plan::{
    decision_severity, plan_decision, recommend, CaseTransition, Correction, DecideCommand,
    DecisionExtras, DecisionFacts, DecisionMode, DecisionPlan, PlannedAction, PlannedDecision,
    PlannedEnforcement, PlannedStrike, Recommendation, SupersededDecision,
};
pub use policy::{
    action_from_json, action_json, DsaGround, DsaMapping, EnforcementPolicy, MatrixRow,
    PolicyCategory, ReasonCode, Rung,
};
pub use reversal::{
    plan_reversal, ActionReversal, ActionUndo, ReversalCommand, ReversalFacts, ReversalPlan,
    ReversalReason, ReversalTarget,
};

#[cfg(test)]
mod tests;
