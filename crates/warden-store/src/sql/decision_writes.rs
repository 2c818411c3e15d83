//! Writing the plans of `warden_domain::enforcement`'s planners — a
//! decision's, a ruling's, a reversal's — in the caller's transaction:
//! rows inserted and updated as the plan lists them, with the ids the
//! database hands out filled in through the plan's pure functions
//! (`PlannedNotice::render`, `StatementDraft::build`, the webhook bodies).
//! Nothing here decides anything.

use serde_json::{json, Value};
use sqlx::{Any, Transaction};

use warden_domain::action::{ActionStatus, DeliveryStatus};
use warden_domain::decision::ActionKind;
use warden_domain::dsa::{self, StatementDraft};
use warden_domain::enforcement::{
    ActionReversal, ApprovalFacts, ApprovalPlan, DecisionContext, DecisionPlan, OrderedAction,
    PlannedDelivery, ReversalPlan, Ruling, SupersededDecision,
};
use warden_domain::ids::{ActionId, DecisionId, SubjectRef};
use warden_domain::notice::PlannedNotice;
use warden_domain::webhook::{self, ActionFacts, DeliveryKind, NoticeFacts};
use warden_domain::{CaseId, Timestamp};

use super::free_text::stored_text;
use super::wrappers::{
    enforcement_json, enforcement_with_statement, rationale_to_json, reasons_json,
};
use super::{ms, AuditDraft};
use crate::{ActionRecord, Actor, DecisionEnforcement, StoreError, StoreResult};

/// What writing a decision's plan produced.
pub(crate) struct WrittenDecision {
    pub(crate) id: DecisionId,
    pub(crate) actions: Vec<ActionRecord>,
    pub(crate) strike: Option<i64>,
    pub(crate) enforcement: DecisionEnforcement,
    pub(crate) drafts: Vec<AuditDraft>,
}

/// The parts of an action a webhook body carries.
struct ActionParts<'a> {
    id: ActionId,
    kind: &'a ActionKind,
    target: &'a SubjectRef,
    duration_seconds: Option<i64>,
    expires_at: Option<Timestamp>,
}

/// What every delivery of one decision carries.
struct DeliveryContext<'a> {
    decision: DecisionId,
    case: CaseId,
    category: &'a str,
    reason_code: Option<&'a str>,
}

fn feature_and_label(kind: &ActionKind) -> (Option<&str>, Option<&str>) {
    match kind {
        ActionKind::Restrict { feature } => (Some(feature.as_str()), None),
        ActionKind::Label { label } => (None, Some(label.as_str())),
        _ => (None, None),
    }
}

/// Writes a decision's plan (the case row is the caller's).
pub(crate) async fn write_decision_plan(
    tx: &mut Transaction<'static, Any>,
    plan: &DecisionPlan,
    superseded: Option<&SupersededDecision>,
    actor: &Actor,
    now: Timestamp,
) -> StoreResult<WrittenDecision> {
    let id = insert_decision(tx, plan, actor).await?;
    let mut drafts = Vec::new();
    if let Some(correction) = &plan.correction {
        sqlx::query("UPDATE decisions SET superseded_by = $1 WHERE id = $2")
            .bind(id.0)
            .bind(correction.superseded.0)
            .execute(&mut **tx)
            .await?;
        void_strikes(tx, &correction.strikes_voided, now).await?;
    }
    let actions = insert_actions(tx, plan, id, now).await?;
    let strike = match &plan.strike {
        None => None,
        Some(strike) => Some(insert_strike(tx, strike, id, now).await?),
    };
    if let (Some(correction), Some(old)) = (&plan.correction, superseded) {
        drafts.extend(
            write_reversal_plan(
                tx,
                &correction.reversal,
                &old.context,
                &old.actions,
                actor,
                Some(id),
                now,
            )
            .await?,
        );
    }
    enqueue_decision_deliveries(tx, plan, id, &actions, now).await?;
    let statement_id = match &plan.statement {
        None => None,
        Some(statement) => Some(insert_statement(tx, id, statement, now).await?),
    };
    drafts.extend(write_decision_notices(tx, plan, id, &actions, now).await?);
    let enforcement = write_enforcement(tx, plan, id, &actions, statement_id).await?;
    Ok(WrittenDecision {
        id,
        actions,
        strike,
        enforcement,
        drafts,
    })
}

/// Queues the deliveries a decision's plan lists for its actions.
async fn enqueue_decision_deliveries(
    tx: &mut Transaction<'static, Any>,
    plan: &DecisionPlan,
    id: DecisionId,
    actions: &[ActionRecord],
    now: Timestamp,
) -> StoreResult<()> {
    let d = &plan.decision;
    let context = DeliveryContext {
        decision: id,
        case: d.case,
        category: &d.category,
        reason_code: plan.enforcement.reason_code.as_deref(),
    };
    for delivery in &plan.deliveries {
        let (action, planned) = (&actions[delivery.action], &plan.actions[delivery.action]);
        let parts = ActionParts {
            id: ActionId(action.id),
            kind: &planned.spec.kind,
            target: &action.target,
            duration_seconds: action.duration_seconds,
            expires_at: action.expires_at,
        };
        enqueue_action(tx, delivery, &parts, &context, now).await?;
    }
    Ok(())
}

/// Writes a decision's notices; returns the audit drafts of those not sent.
async fn write_decision_notices(
    tx: &mut Transaction<'static, Any>,
    plan: &DecisionPlan,
    id: DecisionId,
    actions: &[ActionRecord],
    now: Timestamp,
) -> StoreResult<Vec<AuditDraft>> {
    let mut drafts = Vec::new();
    for notice in &plan.notices {
        let action = ActionId(actions[notice.action].id);
        let (notice_id, status, refusal) = insert_notice(tx, notice, Some(action), id, now).await?;
        if status != "queued" {
            drafts.push(AuditDraft::new(
                &Actor::system(),
                &format!("notice.{status}"),
                "notice",
                notice_id,
                Value::Null,
                json!({"decision_id": id.0, "action_id": action.0, "unfilled": refusal}),
            ));
        }
    }
    Ok(drafts)
}

async fn insert_decision(
    tx: &mut Transaction<'static, Any>,
    plan: &DecisionPlan,
    actor: &Actor,
) -> StoreResult<DecisionId> {
    let d = &plan.decision;
    Ok(DecisionId(
        sqlx::query_scalar(
            "INSERT INTO decisions (case_id, subject_kind, subject_id, violation, category, policy, rationale, decided_by, decided_by_id, decided_at, supersedes) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .bind(d.case.0)
        .bind(d.subject.kind.as_str())
        .bind(d.subject.id.as_str())
        .bind(i64::from(d.violation))
        .bind(&d.category)
        .bind(d.policy.clone())
        .bind(rationale_to_json(&d.rationale).to_string())
        .bind(&actor.name)
        .bind(d.author.map(|u| u.0))
        .bind(ms(d.decided_at))
        .bind(d.supersedes.map(|s| s.0))
        .fetch_one(&mut **tx)
        .await?,
    ))
}

async fn insert_strike(
    tx: &mut Transaction<'static, Any>,
    strike: &warden_domain::enforcement::PlannedStrike,
    decision: DecisionId,
    now: Timestamp,
) -> StoreResult<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO strikes (account_id, decision_id, category, weight, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(strike.account.id.as_str())
    .bind(decision.0)
    .bind(&strike.category)
    .bind(strike.weight)
    .bind(ms(now))
    .bind(ms(strike.expires_at))
    .fetch_one(&mut **tx)
    .await?)
}

/// The decision's enforcement record, with its actions' ids and its
/// statement, written on the decision.
async fn write_enforcement(
    tx: &mut Transaction<'static, Any>,
    plan: &DecisionPlan,
    decision: DecisionId,
    actions: &[ActionRecord],
    statement_id: Option<String>,
) -> StoreResult<DecisionEnforcement> {
    let e = &plan.enforcement;
    let enforcement = DecisionEnforcement {
        taxonomy_version: e.taxonomy_version,
        severity: e.severity,
        reason_code: e.reason_code.clone(),
        prior_strike_weight: e.prior_strike_weight,
        account: e.account.clone(),
        recommendation: e.recommendation.clone(),
        departure: e.departure,
        override_reason: e.override_reason.clone(),
        approvals: plan
            .approvals()
            .map(|(index, reasons)| (actions[index].id, reasons.to_vec()))
            .collect(),
        statement_id,
        reversal: None,
    };
    sqlx::query("UPDATE decisions SET taxonomy_version = $1, enforcement = $2 WHERE id = $3")
        .bind(e.taxonomy_version)
        .bind(enforcement_json(&enforcement).to_string())
        .bind(decision.0)
        .execute(&mut **tx)
        .await?;
    Ok(enforcement)
}

async fn insert_actions(
    tx: &mut Transaction<'static, Any>,
    plan: &DecisionPlan,
    decision: DecisionId,
    now: Timestamp,
) -> StoreResult<Vec<ActionRecord>> {
    let mut actions = Vec::with_capacity(plan.actions.len());
    for planned in &plan.actions {
        let (feature, label) = feature_and_label(&planned.spec.kind);
        let waits = !planned.approval_reasons.is_empty();
        let action_id: i64 = sqlx::query_scalar(
            "INSERT INTO actions (decision_id, case_id, target_kind, target_id, action_type, feature, label, duration_seconds, expires_at, status, created_at, approval_reasons, status_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
        )
        .bind(decision.0)
        .bind(plan.decision.case.0)
        .bind(planned.target.kind.as_str())
        .bind(planned.target.id.as_str())
        .bind(planned.spec.kind.type_name())
        .bind(feature)
        .bind(label)
        .bind(planned.duration_seconds)
        .bind(planned.expires_at.map(ms))
        .bind(planned.status.as_str())
        .bind(ms(now))
        .bind(waits.then(|| reasons_json(&planned.approval_reasons).to_string()))
        .bind(waits.then(|| ms(now)))
        .fetch_one(&mut **tx)
        .await?;
        actions.push(ActionRecord {
            id: action_id,
            decision_id: decision.0,
            target: planned.target.clone(),
            action_type: planned.spec.kind.type_name().to_string(),
            feature: feature.map(str::to_string),
            label: label.map(str::to_string),
            duration_seconds: planned.duration_seconds,
            expires_at: planned.expires_at,
            status: planned.status,
            created_at: now,
        });
    }
    Ok(actions)
}

async fn void_strikes(
    tx: &mut Transaction<'static, Any>,
    strikes: &[i64],
    now: Timestamp,
) -> StoreResult<()> {
    for strike in strikes {
        sqlx::query("UPDATE strikes SET voided_at = $1 WHERE id = $2 AND voided_at IS NULL")
            .bind(ms(now))
            .bind(*strike)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Writes a decision's statement of reasons; returns its puid.
async fn insert_statement(
    tx: &mut Transaction<'static, Any>,
    decision: DecisionId,
    statement: &StatementDraft,
    now: Timestamp,
) -> StoreResult<String> {
    let puid = dsa::puid(decision);
    sqlx::query(
        "INSERT INTO dsa_statements (decision_id, puid, statement, created_at, submission_status, submission_attempts) VALUES ($1, $2, $3, $4, 'unsubmitted', 0)",
    )
    .bind(decision.0)
    .bind(&puid)
    .bind(statement.build(decision).to_string())
    .bind(ms(now))
    .execute(&mut **tx)
    .await?;
    Ok(puid)
}

/// Writes a notice and, when it is queued, its delivery. Returns its id,
/// its status and the variables it left unfilled.
pub(crate) async fn insert_notice<A>(
    tx: &mut Transaction<'static, Any>,
    notice: &PlannedNotice<A>,
    action: Option<ActionId>,
    decision: DecisionId,
    now: Timestamp,
) -> StoreResult<(i64, &'static str, Vec<String>)> {
    let rendered = notice.render(decision);
    let refusal = match &notice.outcome {
        warden_domain::notice::NoticeOutcome::Refused(missing) => missing.clone(),
        _ => Vec::new(),
    };
    let status = notice.outcome.as_str();
    let notice_id: i64 = sqlx::query_scalar(
        "INSERT INTO notices (decision_id, action_id, template_id, recipient_kind, recipient_id, language, subject, body, status, refusal, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
    )
    .bind(decision.0)
    .bind(action.map(|a| a.0))
    .bind(notice.template.as_ref().map(|t| t.id))
    .bind(notice.recipient.kind.as_str())
    .bind(notice.recipient.id.as_str())
    .bind(&notice.language)
    .bind(rendered.as_ref().map(|r| r.subject.clone()))
    .bind(rendered.as_ref().map(|r| r.body.clone()))
    .bind(status)
    .bind((!refusal.is_empty()).then(|| json!(refusal).to_string()))
    .bind(ms(now))
    .fetch_one(&mut **tx)
    .await?;
    if let Some(rendered) = &rendered {
        let key = webhook::idempotency_key(DeliveryKind::Notice, notice_id, 0);
        let body = webhook::notice_body(
            &key,
            &NoticeFacts {
                id: notice_id,
                decision_id: decision.0,
                action_id: action.map(|a| a.0),
                recipient: &notice.recipient,
                language: &notice.language,
                subject: &rendered.subject,
                body: &rendered.body,
            },
        );
        enqueue(
            tx,
            DeliveryKind::Notice,
            None,
            Some(notice_id),
            "notice",
            &key,
            &body,
            now,
            now,
        )
        .await?;
    }
    Ok((notice_id, status, refusal))
}

/// Writes a reversal's plan: rejections, cancellations, undo deliveries,
/// action statuses and notices; for a whole decision, its strikes and its
/// reversal. Returns the audit drafts.
pub(crate) async fn write_reversal_plan(
    tx: &mut Transaction<'static, Any>,
    plan: &ReversalPlan,
    context: &DecisionContext,
    actions: &[OrderedAction],
    actor: &Actor,
    superseding: Option<DecisionId>,
    now: Timestamp,
) -> StoreResult<Vec<AuditDraft>> {
    let reason = plan.reason.text(superseding);
    let mut drafts = Vec::new();
    for reversal in &plan.actions {
        match reversal {
            ActionReversal::Reject { action, before } => {
                sqlx::query("UPDATE actions SET status = $1, approval_by = $2, approval_by_id = $3, approval_at = $4, approval_note = $5, status_at = $4 WHERE id = $6")
                    .bind(ActionStatus::Rejected.as_str())
                    .bind(&actor.name)
                    .bind(actor.user_id)
                    .bind(ms(now))
                    .bind(stored_text(&reason).into_owned())
                    .bind(action.0)
                    .execute(&mut **tx)
                    .await?;
                drafts.push(AuditDraft::new(
                    actor,
                    "action.reject",
                    "action",
                    action.0,
                    json!({"status": before.as_str()}),
                    json!({"status": ActionStatus::Rejected.as_str(), "note": reason}),
                ));
            }
            ActionReversal::Undo(undo) => {
                drafts.push(write_undo(tx, undo, context, actions, actor, &reason, now).await?);
            }
        }
    }
    if plan.marks_decision {
        void_strikes(tx, &plan.strikes_voided, now).await?;
        sqlx::query("UPDATE decisions SET reversed_at = $1, reversed_by = $2, reversal_reason = $3 WHERE id = $4")
            .bind(ms(now))
            .bind(&actor.name)
            .bind(stored_text(&reason).into_owned())
            .bind(plan.decision.0)
            .execute(&mut **tx)
            .await?;
        drafts.push(AuditDraft::new(
            actor,
            "decision.reverse",
            "decision",
            plan.decision.0,
            Value::Null,
            json!({"case_id": context.case.0, "reason": reason, "strikes_removed": plan.strikes_voided.len()}),
        ));
    }
    Ok(drafts)
}

/// Undoes one action: cancellations, the `reverse` delivery, its status,
/// the reversal notice. Returns the audit draft.
async fn write_undo(
    tx: &mut Transaction<'static, Any>,
    undo: &warden_domain::enforcement::ActionUndo,
    context: &DecisionContext,
    actions: &[OrderedAction],
    actor: &Actor,
    reason: &str,
    now: Timestamp,
) -> StoreResult<AuditDraft> {
    let action = actions
        .iter()
        .find(|a| a.id == undo.action)
        .ok_or_else(|| StoreError::Database(format!("action {} vanished", undo.action)))?;
    for outbox_id in &undo.cancelled {
        sqlx::query("UPDATE outbox SET status = $1, updated_at = $2 WHERE id = $3")
            .bind(DeliveryStatus::Cancelled.as_str())
            .bind(ms(now))
            .bind(*outbox_id)
            .execute(&mut **tx)
            .await?;
    }
    if let Some(delivery) = &undo.undo {
        let parts = ActionParts {
            id: action.id,
            kind: &action.kind,
            target: &action.target,
            duration_seconds: action.duration_seconds,
            expires_at: action.expires_at,
        };
        let delivery_context = DeliveryContext {
            decision: context.id,
            case: context.case,
            category: &context.category,
            reason_code: context.reason_code.as_deref(),
        };
        enqueue_action(tx, delivery, &parts, &delivery_context, now).await?;
    }
    sqlx::query(
        "UPDATE actions SET status = $1, reversed_at = $2, reversed_by = $3, reversal_reason = $4, status_at = $2 WHERE id = $5",
    )
    .bind(ActionStatus::Reversed.as_str())
    .bind(ms(now))
    .bind(&actor.name)
    .bind(stored_text(reason).into_owned())
    .bind(action.id.0)
    .execute(&mut **tx)
    .await?;
    if let Some(notice) = &undo.notice {
        insert_notice(tx, notice, Some(action.id), context.id, now).await?;
    }
    Ok(AuditDraft::new(
        actor,
        "action.reverse",
        "action",
        action.id.0,
        json!({"status": undo.before.as_str()}),
        json!({"status": ActionStatus::Reversed.as_str(), "reason": reason, "undo_sent": undo.undo.is_some(), "unsent_notices_cancelled": undo.unsent_notices_cancelled}),
    ))
}

/// Records a ruling on the action: its new status, who ruled, when, why.
async fn record_ruling(
    tx: &mut Transaction<'static, Any>,
    plan: &ApprovalPlan,
    actor: &Actor,
    note: &str,
    now: Timestamp,
) -> StoreResult<()> {
    sqlx::query("UPDATE actions SET status = $1, expires_at = $2, approval_by = $3, approval_by_id = $4, approval_at = $5, approval_note = $6, status_at = $5 WHERE id = $7")
        .bind(plan.status.as_str())
        .bind(plan.expires_at.map(ms))
        .bind(&actor.name)
        .bind(actor.user_id)
        .bind(ms(now))
        .bind(stored_text(note).into_owned())
        .bind(plan.action.0)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Writes a ruling's plan. Returns the audit drafts.
pub(crate) async fn write_approval_plan(
    tx: &mut Transaction<'static, Any>,
    plan: &ApprovalPlan,
    facts: &ApprovalFacts,
    actor: &Actor,
    note: &str,
    now: Timestamp,
) -> StoreResult<Vec<AuditDraft>> {
    let context = &facts.decision;
    let action = facts
        .actions
        .iter()
        .find(|a| a.id == plan.action)
        .ok_or_else(|| StoreError::Database(format!("action {} vanished", plan.action)))?;
    record_ruling(tx, plan, actor, note, now).await?;
    let parts = ActionParts {
        id: action.id,
        kind: &action.kind,
        target: &action.target,
        duration_seconds: action.duration_seconds,
        expires_at: plan.expires_at,
    };
    let delivery_context = DeliveryContext {
        decision: context.id,
        case: context.case,
        category: &context.category,
        reason_code: context.reason_code.as_deref(),
    };
    for delivery in &plan.deliveries {
        enqueue_action(tx, delivery, &parts, &delivery_context, now).await?;
    }
    if let Some(statement) = &plan.statement {
        let puid = insert_statement(tx, context.id, statement, now).await?;
        note_statement(tx, context.id, &puid).await?;
    }
    let mut drafts = vec![AuditDraft::new(
        actor,
        match plan.ruling {
            Ruling::Approve => "action.approve",
            Ruling::Reject => "action.reject",
        },
        "action",
        plan.action.0,
        json!({"status": plan.before.as_str()}),
        json!({"status": plan.status.as_str(), "note": note, "expires_at": plan.expires_at.map(|t| t.to_rfc3339()), "statement_id": plan.statement_id}),
    )];
    if let Some(notice) = &plan.notice {
        let (notice_id, status, refusal) =
            insert_notice(tx, notice, Some(action.id), context.id, now).await?;
        if status != "queued" {
            drafts.push(AuditDraft::new(
                &Actor::system(),
                &format!("notice.{status}"),
                "notice",
                notice_id,
                Value::Null,
                json!({"action_id": action.id.0, "unfilled": refusal}),
            ));
        }
    }
    Ok(drafts)
}

/// Notes a statement written after its decision on the decision's
/// enforcement record.
async fn note_statement(
    tx: &mut Transaction<'static, Any>,
    decision: DecisionId,
    puid: &str,
) -> StoreResult<()> {
    let text: Option<String> =
        sqlx::query_scalar("SELECT enforcement FROM decisions WHERE id = $1")
            .bind(decision.0)
            .fetch_one(&mut **tx)
            .await?;
    let Some(text) = text else {
        return Ok(());
    };
    let value = enforcement_with_statement(&text, puid)?;
    sqlx::query("UPDATE decisions SET enforcement = $1 WHERE id = $2")
        .bind(value.to_string())
        .bind(decision.0)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Queues one action delivery.
async fn enqueue_action<A>(
    tx: &mut Transaction<'static, Any>,
    delivery: &PlannedDelivery<A>,
    action: &ActionParts<'_>,
    context: &DeliveryContext<'_>,
    now: Timestamp,
) -> StoreResult<i64> {
    let statement = delivery
        .names_statement
        .then(|| dsa::puid(context.decision));
    let (feature, label) = feature_and_label(action.kind);
    let facts = ActionFacts {
        id: action.id.0,
        decision_id: context.decision.0,
        case_id: context.case.0,
        action_type: action.kind.type_name(),
        target: action.target,
        feature,
        label,
        duration_seconds: action.duration_seconds,
        expires_at: action.expires_at,
        category: context.category,
        reason_code: context.reason_code,
        statement_id: statement.as_deref(),
    };
    let key = webhook::idempotency_key(delivery.kind, action.id.0, 0);
    let body = webhook::action_body(delivery.kind, &key, &facts);
    enqueue(
        tx,
        delivery.kind,
        Some(action.id.0),
        None,
        action.kind.type_name(),
        &key,
        &body,
        delivery.due,
        now,
    )
    .await
}

/// Writes one outbox row.
#[allow(clippy::too_many_arguments)]
async fn enqueue(
    tx: &mut Transaction<'static, Any>,
    kind: DeliveryKind,
    action_id: Option<i64>,
    notice_id: Option<i64>,
    endpoint_key: &str,
    key: &str,
    body: &Value,
    due: Timestamp,
    now: Timestamp,
) -> StoreResult<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO outbox (kind, action_id, notice_id, endpoint_key, idempotency_key, body, status, attempts, replays, next_attempt_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, 0, $8, $9, $9) RETURNING id",
    )
    .bind(kind.as_str())
    .bind(action_id)
    .bind(notice_id)
    .bind(endpoint_key)
    .bind(key)
    .bind(body.to_string())
    .bind(DeliveryStatus::Pending.as_str())
    .bind(ms(due))
    .bind(ms(now))
    .fetch_one(&mut **tx)
    .await?)
}
