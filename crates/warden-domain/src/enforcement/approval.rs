//! The approval planner: a lead's ruling on an action that waits.
//!
//! Four eyes: whoever made the decision can never approve or reject its
//! actions. Approving puts the action in force from now (its clock starts
//! at the approval) with its deliveries and notice; rejecting drops it.
//! Either way, once nothing of the decision waits and something
//! restricting is in force, its statement of reasons is written.

use crate::action::ActionStatus;
use crate::dsa::{self, StatedDecision, StatementDraft, StatementFacts};
use crate::ids::{ActionId, DecisionId, UserId};
use crate::notice::{plan_notice, NoticeDraft, NoticeTemplate, PlannedNotice};
use crate::webhook::DeliveryKind;
use crate::Timestamp;

use super::facts::{DecisionContext, OrderedAction, PlanError, PlannedDelivery};
use super::plan::{ends_at, restrictions_due};

/// A lead's ruling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ruling {
    /// Put the action in force.
    Approve,
    /// Drop it.
    Reject,
}

/// A ruling on one action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalCommand {
    /// The action.
    pub action: ActionId,
    /// Approve or reject.
    pub ruling: Ruling,
    /// Why, as the lead wrote it (checked at the edge).
    pub note: String,
}

/// What the store loads for a ruling, in its transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct ApprovalFacts {
    /// The action's decision.
    pub decision: DecisionContext,
    /// Every action of the decision (the one ruled on is locked).
    pub actions: Vec<OrderedAction>,
    /// Who rules.
    pub approver: Option<UserId>,
    /// The decision's statement of reasons, if written already.
    pub statement_id: Option<String>,
    /// What a statement tells of the case.
    pub statement: StatementFacts,
    /// The notice templates of the action's type.
    pub templates: Vec<NoticeTemplate>,
}

/// Every row a ruling writes.
#[derive(Debug, Clone, PartialEq)]
pub struct ApprovalPlan {
    /// The action.
    pub action: ActionId,
    /// Its decision.
    pub decision: DecisionId,
    /// The ruling.
    pub ruling: Ruling,
    /// Its status before (pending_approval).
    pub before: ActionStatus,
    /// Its status after: pending (in force) or rejected.
    pub status: ActionStatus,
    /// When it ends, counted from the approval.
    pub expires_at: Option<Timestamp>,
    /// Its deliveries (apply now, lift at its end).
    pub deliveries: Vec<PlannedDelivery<ActionId>>,
    /// The decision's statement of reasons, when it falls due now.
    pub statement: Option<StatementDraft>,
    /// The statement's puid afterwards (written before or now), if any.
    pub statement_id: Option<String>,
    /// The notice of an approved action.
    pub notice: Option<PlannedNotice<ActionId>>,
}

/// Plans a ruling. Refuses (conflicts) an action that does not wait and
/// a ruling by the decision's author.
pub fn plan_approval(
    facts: &ApprovalFacts,
    command: &ApprovalCommand,
    now: Timestamp,
) -> Result<ApprovalPlan, PlanError> {
    let id = command.action;
    let context = &facts.decision;
    let action = waiting_action(facts, id)?;
    let (status, expires_at) = match command.ruling {
        Ruling::Approve => (ActionStatus::Pending, ends_at(action.duration_seconds, now)),
        Ruling::Reject => (ActionStatus::Rejected, action.expires_at),
    };
    debug_assert!(action.status.can_become(status));
    let statement = match &facts.statement_id {
        Some(_) => None,
        None => plan_statement(facts, action.id, status, expires_at, now)?,
    };
    let statement_id = facts
        .statement_id
        .clone()
        .or_else(|| statement.as_ref().map(|_| dsa::puid(context.id)));
    let approved = command.ruling == Ruling::Approve;
    let deliveries = if approved {
        apply_deliveries(action, expires_at, now)
    } else {
        Vec::new()
    };
    let notice = approved
        .then(|| {
            plan_notice(
                id,
                &NoticeDraft {
                    kind: action.kind.type_name(),
                    action: &action.kind,
                    target: &action.target,
                    subject_owner: context.subject_owner.as_ref(),
                    duration_seconds: action.duration_seconds,
                    expires_at,
                    category: &context.category,
                    reason_code: context.reason_code.as_deref(),
                    policy_id: context.policy_id.as_deref(),
                    policy: &context.policy,
                    language: context.language.as_ref(),
                    statement: statement_id.is_some(),
                    now,
                },
                &facts.templates,
            )
        })
        .flatten();
    Ok(ApprovalPlan {
        action: id,
        decision: context.id,
        ruling: command.ruling,
        before: action.status,
        status,
        expires_at,
        deliveries,
        statement,
        statement_id,
        notice,
    })
}

/// The action being ruled on: it must belong to the decision, wait for
/// approval, and not have been ordered by the approver.
fn waiting_action(facts: &ApprovalFacts, id: ActionId) -> Result<&OrderedAction, PlanError> {
    let context = &facts.decision;
    let action = facts.actions.iter().find(|a| a.id == id).ok_or_else(|| {
        PlanError::Conflict(format!(
            "action {id} is not an action of decision {}",
            context.id
        ))
    })?;
    if action.status != ActionStatus::PendingApproval {
        return Err(PlanError::Conflict(format!(
            "action {id} is {}, not waiting for approval",
            action.status
        )));
    }
    if context.author.is_some() && context.author == facts.approver {
        return Err(PlanError::Conflict(format!(
            "you ordered action {id}; another lead must approve or reject it"
        )));
    }
    Ok(action)
}

/// An approved action's apply delivery now and, when it ends, its lift.
fn apply_deliveries(
    action: &OrderedAction,
    expires_at: Option<Timestamp>,
    now: Timestamp,
) -> Vec<PlannedDelivery<ActionId>> {
    let id = action.id;
    let names_statement = dsa::restricts(&action.kind);
    let mut deliveries = vec![PlannedDelivery {
        action: id,
        kind: DeliveryKind::Apply,
        due: now,
        names_statement,
    }];
    if let Some(end) = expires_at {
        deliveries.push(PlannedDelivery {
            action: id,
            kind: DeliveryKind::Lift,
            due: end,
            names_statement,
        });
    }
    deliveries
}

/// The statement of reasons once the ruled action has its new status.
fn plan_statement(
    facts: &ApprovalFacts,
    ruled: ActionId,
    status: ActionStatus,
    expires_at: Option<Timestamp>,
    now: Timestamp,
) -> Result<Option<StatementDraft>, PlanError> {
    let after = facts.actions.iter().map(|a| {
        if a.id == ruled {
            (&a.kind, status, expires_at)
        } else {
            (&a.kind, a.status, a.expires_at)
        }
    });
    let Some(restrictions) = restrictions_due(after) else {
        return Ok(None);
    };
    let context = &facts.decision;
    StatementDraft::assemble(
        StatedDecision {
            category: &context.category,
            policy_id: context.policy_id.as_deref(),
            rationale: &context.rationale,
            automated: context.author.is_none(),
        },
        restrictions,
        &context.policy,
        &facts.statement,
        now.date_naive(),
    )
    .map(Some)
    .map_err(PlanError::Invalid)
}
