//! The reversal planner: undoing one action, or a whole decision, and what
//! a correction does to the decision it supersedes.
//!
//! What was never sent is cancelled; what may have reached the platform
//! (its apply was attempted) gets a `reverse` delivery; the user hears of
//! the reversal when they may have heard of the action. An action that
//! still waits for approval is rejected, not reversed. Reversing a decision
//! also voids its strikes.

use crate::action::{ActionStatus, DeliveryStatus};
use crate::ids::{ActionId, DecisionId};
use crate::notice::{plan_notice, NoticeDraft, NoticeTemplate, PlannedNotice, REVERSAL};
use crate::webhook::DeliveryKind;
use crate::Timestamp;

use super::facts::{DecisionContext, OrderedAction, PlanError, PlannedDelivery};

/// What to reverse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReversalTarget {
    /// One action of the decision.
    Action(ActionId),
    /// The whole decision: its actions, and its strikes are voided.
    Decision,
}

/// A lead's reversal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReversalCommand {
    /// What to reverse.
    pub target: ReversalTarget,
    /// Why, as the lead wrote it (checked at the edge).
    pub reason: String,
}

/// What the store loads for a reversal, in its transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct ReversalFacts {
    /// The decision, locked.
    pub decision: DecisionContext,
    /// Its actions, with their deliveries.
    pub actions: Vec<OrderedAction>,
    /// Its strikes not yet voided, by id.
    pub active_strikes: Vec<i64>,
    /// Whether it was reversed already.
    pub reversed: bool,
    /// The correction that superseded it, if any.
    pub superseded_by: Option<DecisionId>,
    /// The `reversal` notice templates of its category.
    pub templates: Vec<NoticeTemplate>,
}

/// Why actions are reversed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReversalReason {
    /// A lead's reason.
    Given(String),
    /// A correction superseded the decision.
    Superseded,
}

impl ReversalReason {
    /// The reason as recorded; `superseding` is the correction's id.
    pub fn text(&self, superseding: Option<DecisionId>) -> String {
        match (self, superseding) {
            (ReversalReason::Given(reason), _) => reason.clone(),
            (ReversalReason::Superseded, Some(id)) => format!("superseded by decision {id}"),
            (ReversalReason::Superseded, None) => "superseded by a correction".into(),
        }
    }
}

/// Undoing one action that is in force.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionUndo {
    /// The action.
    pub action: ActionId,
    /// Its status before.
    pub before: ActionStatus,
    /// Outbox rows to cancel: its unsent apply, its pending lifts, its
    /// unsent notices.
    pub cancelled: Vec<i64>,
    /// How many of those are notices.
    pub unsent_notices_cancelled: usize,
    /// The `reverse` delivery, when the action may have reached the platform.
    pub undo: Option<PlannedDelivery<ActionId>>,
    /// The reversal notice, when the user may have heard of the action.
    pub notice: Option<PlannedNotice<ActionId>>,
}

/// What a reversal does to one action.
#[derive(Debug, Clone, PartialEq)]
pub enum ActionReversal {
    /// It waited for approval: it is rejected.
    Reject {
        /// The action.
        action: ActionId,
        /// Its status before.
        before: ActionStatus,
    },
    /// It was in force: it is reversed.
    Undo(Box<ActionUndo>),
}

/// Every row a reversal writes.
#[derive(Debug, Clone, PartialEq)]
pub struct ReversalPlan {
    /// The decision whose actions are reversed.
    pub decision: DecisionId,
    /// Why.
    pub reason: ReversalReason,
    /// Per action.
    pub actions: Vec<ActionReversal>,
    /// Strikes to void.
    pub strikes_voided: Vec<i64>,
    /// Whether the decision itself is marked reversed (a lead's reversal of
    /// the whole decision; a correction supersedes instead).
    pub marks_decision: bool,
}

/// Plans a lead's reversal. Refuses (conflicts) an action that is not in
/// force, a decision already reversed, or one a correction superseded.
pub fn plan_reversal(
    facts: &ReversalFacts,
    command: &ReversalCommand,
    now: Timestamp,
) -> Result<ReversalPlan, PlanError> {
    let decision = facts.decision.id;
    let reason = ReversalReason::Given(command.reason.clone());
    match command.target {
        ReversalTarget::Action(id) => {
            let action = facts.actions.iter().find(|a| a.id == id).ok_or_else(|| {
                PlanError::Conflict(format!(
                    "action {id} is not an action of decision {decision}"
                ))
            })?;
            if !action.status.is_in_force() {
                return Err(PlanError::Conflict(match action.status {
                    ActionStatus::PendingApproval => {
                        format!("action {id} waits for approval; reject it instead")
                    }
                    status => format!("action {id} is {status}: there is nothing to reverse"),
                }));
            }
            Ok(ReversalPlan {
                decision,
                reason,
                actions: reverse_actions(
                    &facts.decision,
                    std::slice::from_ref(action),
                    &facts.templates,
                    now,
                ),
                strikes_voided: Vec::new(),
                marks_decision: false,
            })
        }
        ReversalTarget::Decision => {
            if facts.reversed {
                return Err(PlanError::Conflict(format!(
                    "decision {decision} is already reversed"
                )));
            }
            if facts.superseded_by.is_some() {
                return Err(PlanError::Conflict(format!(
                    "decision {decision} was superseded by a correction; reverse that one"
                )));
            }
            Ok(ReversalPlan {
                decision,
                reason,
                actions: reverse_actions(&facts.decision, &facts.actions, &facts.templates, now),
                strikes_voided: facts.active_strikes.clone(),
                marks_decision: true,
            })
        }
    }
}

/// Reverses what `actions` put in force and rejects what still waits;
/// other actions (rejected, reversed) are left alone.
pub(crate) fn reverse_actions(
    context: &DecisionContext,
    actions: &[OrderedAction],
    templates: &[NoticeTemplate],
    now: Timestamp,
) -> Vec<ActionReversal> {
    actions
        .iter()
        .filter_map(|action| match action.status {
            ActionStatus::PendingApproval => Some(ActionReversal::Reject {
                action: action.id,
                before: action.status,
            }),
            status if status.can_become(ActionStatus::Reversed) => Some(ActionReversal::Undo(
                Box::new(undo(context, action, templates, now)),
            )),
            _ => None,
        })
        .collect()
}

fn undo(
    context: &DecisionContext,
    action: &OrderedAction,
    templates: &[NoticeTemplate],
    now: Timestamp,
) -> ActionUndo {
    let unsent =
        |status: DeliveryStatus, attempts: i64| status == DeliveryStatus::Pending && attempts == 0;
    let apply = action
        .deliveries
        .iter()
        .filter(|d| d.kind == DeliveryKind::Apply)
        .min_by_key(|d| d.id);
    // An apply never attempted cannot have reached the platform.
    let reached = !apply.is_some_and(|d| unsent(d.status, d.attempts));
    let mut cancelled: Vec<i64> = apply
        .filter(|_| !reached)
        .map(|d| d.id)
        .into_iter()
        .collect();
    cancelled.extend(
        action
            .deliveries
            .iter()
            .filter(|d| d.kind == DeliveryKind::Lift && d.status == DeliveryStatus::Pending)
            .map(|d| d.id),
    );
    let notices = || {
        action
            .deliveries
            .iter()
            .filter(|d| d.kind == DeliveryKind::Notice)
    };
    let unsent_notices: Vec<i64> = notices()
        .filter(|d| unsent(d.status, d.attempts))
        .map(|d| d.id)
        .collect();
    let notices_sent = notices()
        .filter(|d| d.status != DeliveryStatus::Cancelled && !unsent_notices.contains(&d.id))
        .count();
    let unsent_notices_cancelled = unsent_notices.len();
    cancelled.extend(unsent_notices);
    debug_assert!(action
        .deliveries
        .iter()
        .filter(|d| cancelled.contains(&d.id))
        .all(|d| d.status.can_become(DeliveryStatus::Cancelled)));
    let notice = (reached || notices_sent > 0)
        .then(|| reversal_notice(context, action, templates, now))
        .flatten();
    ActionUndo {
        action: action.id,
        before: action.status,
        cancelled,
        unsent_notices_cancelled,
        undo: reached.then_some(PlannedDelivery {
            action: action.id,
            kind: DeliveryKind::Reverse,
            due: now,
            names_statement: false,
        }),
        notice,
    }
}
/// The notice telling the subject owner an action was reversed.
fn reversal_notice(
    context: &DecisionContext,
    action: &OrderedAction,
    templates: &[NoticeTemplate],
    now: Timestamp,
) -> Option<PlannedNotice<ActionId>> {
    plan_notice(
        action.id,
        &NoticeDraft {
            kind: REVERSAL,
            action: &action.kind,
            target: &action.target,
            subject_owner: context.subject_owner.as_ref(),
            duration_seconds: action.duration_seconds,
            expires_at: action.expires_at,
            category: &context.category,
            reason_code: context.reason_code.as_deref(),
            policy_id: context.policy_id.as_deref(),
            policy: &context.policy,
            language: context.language.as_ref(),
            statement: false,
            now,
        },
        templates,
    )
}
