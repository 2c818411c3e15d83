//! Decisions, approvals and reversals in SQL: load the facts a planner of
//! `warden_domain::enforcement` needs, and write the plan it returns, both
//! in the caller's transaction.
//!
//! Nothing here decides anything: which actions wait, which deliveries,
//! notices and strikes a decision causes, what a statement of reasons says
//! and who may approve are the planners' (`plan_decision`, `plan_approval`,
//! `plan_reversal`). Loading reads rows into facts; writing inserts and
//! updates rows as the plan lists them, filling in the ids the database
//! hands out.

use serde_json::{json, Value};
use sqlx::{Any, AnyConnection, Transaction};

use warden_domain::action::{ActionStatus, DeliveryStatus};
use warden_domain::case::CaseStatus;
use warden_domain::decision::ActionKind;
use warden_domain::dsa::{self, StatementDraft, StatementFacts};
use warden_domain::enforcement::{
    account_of, account_tags, ActionReversal, ApprovalFacts, ApprovalPlan, CaseFacts,
    DecideCommand, DecisionContext, DecisionFacts, DecisionMode, DecisionPlan, DeliveryFacts,
    EnforcementPolicy, OrderedAction, PlanError, PlannedDelivery, ReversalFacts, ReversalPlan,
    Ruling, SupersededDecision, TaxonomyVersion,
};
use warden_domain::ids::{ActionId, DecisionId, LanguageTag, SubjectRef, UserId, Version};
use warden_domain::intake::ReportSource;
use warden_domain::limits::{
    ACTION_DELIVERIES_READ_MAX, NOTICE_TEMPLATES_MAX, STATEMENT_REPORT_SOURCES_MAX,
};
use warden_domain::notice::{NoticeTemplate, PlannedNotice};
use warden_domain::webhook::{self, ActionFacts, DeliveryKind, NoticeFacts};
use warden_domain::{CaseId, Timestamp};

use super::enforcement::{
    current_version, enforcement_json, reasons_json, version_by_number, version_in_force,
};
use super::rows::{self, get};
use super::{ms, AuditDraft, Backend};
use crate::{
    ActionRecord, Actor, CasePolicy, CaseRecord, DecisionEnforcement, StoreError, StoreResult,
};

fn corrupt(what: &str, reason: impl std::fmt::Display) -> StoreError {
    StoreError::Database(format!("stored {what} is unreadable: {reason}"))
}

/// A planner's refusal as a store error. Invalid commands keep their
/// first field; the other reasons follow in the message.
pub(crate) fn refused(error: PlanError) -> StoreError {
    match error {
        PlanError::Conflict(message) => StoreError::Conflict(message),
        PlanError::Invalid(errors) => {
            let mut all = errors.0.into_iter();
            match all.next() {
                None => StoreError::invalid("", "refused"),
                Some(first) => {
                    let rest: Vec<String> = all.map(|e| e.to_string()).collect();
                    let reason = if rest.is_empty() {
                        first.reason
                    } else {
                        format!("{}; also {}", first.reason, rest.join("; "))
                    };
                    StoreError::invalid(first.field, reason)
                }
            }
        }
    }
}

/// A stored case as the planners read it.
pub(crate) fn case_facts(case: &CaseRecord) -> CaseFacts {
    CaseFacts {
        id: case.id,
        version: Version(case.version),
        subject: case.subject.clone(),
        category: case.category.clone(),
        severity: case.severity,
        status: case.status,
        assignee: case.assignee.clone(),
        assignee_id: case.assignee_id.map(UserId),
        lease_expires_at: case.lease_expires_at,
        held: case.held,
        resolved_at: case.resolved_at,
        // A tag intake accepted that is not BCP 47 reads as no language:
        // notices fall back to English, statements leave it out.
        language: case
            .language
            .as_deref()
            .and_then(|l| LanguageTag::parse(l).ok()),
        opened_at: case.opened_at,
        signal_count: case.signal_count,
    }
}

// ------------------------------------------------------------------ loading

/// The stored subject behind a case: its owner, media types, the date its
/// content was created (or first seen) and its attributes.
struct SubjectRow {
    owner: Option<SubjectRef>,
    media_types: Vec<String>,
    content_date: Option<Timestamp>,
    attributes: Value,
}

async fn subject_row(
    conn: &mut AnyConnection,
    subject: &SubjectRef,
) -> StoreResult<Option<SubjectRow>> {
    let Some(row) = sqlx::query(
        "SELECT media, created_at, first_seen_at, owner_kind, owner_id, attributes FROM subjects WHERE kind = $1 AND platform_id = $2",
    )
    .bind(subject.kind.as_str())
    .bind(subject.id.as_str())
    .fetch_optional(conn)
    .await?
    else {
        return Ok(None);
    };
    let media_types = rows::json(&row, "media")?
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|m| m.get("mime").and_then(Value::as_str))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let content_date = match rows::time_opt(&row, "created_at")? {
        Some(created) => Some(created),
        None => Some(rows::time(&row, "first_seen_at")?),
    };
    Ok(Some(SubjectRow {
        owner: rows::reference_opt(&row, "owner_kind", "owner_id")?,
        media_types,
        content_date,
        attributes: rows::json(&row, "attributes").unwrap_or(Value::Null),
    }))
}

async fn account_attributes(conn: &mut AnyConnection, account: &SubjectRef) -> StoreResult<Value> {
    let text: Option<String> = sqlx::query_scalar(
        "SELECT attributes FROM subjects WHERE kind = 'account' AND platform_id = $1",
    )
    .bind(account.id.as_str())
    .fetch_optional(conn)
    .await?;
    Ok(text
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null))
}

/// Active strike weight of an account at `now`, not counting strikes of the
/// case being decided (a correction must not count the decision it replaces).
async fn active_strike_weight(
    conn: &mut AnyConnection,
    account: &SubjectRef,
    case_id: CaseId,
    now: Timestamp,
) -> StoreResult<i64> {
    Ok(sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(weight), 0) AS BIGINT) FROM strikes WHERE account_id = $1 AND voided_at IS NULL AND expires_at > $2 AND decision_id NOT IN (SELECT id FROM decisions WHERE case_id = $3)",
    )
    .bind(account.id.as_str())
    .bind(ms(now))
    .bind(case_id.0)
    .fetch_one(conn)
    .await?)
}

/// The account behind `subject` with its tags, type and active strikes.
async fn account_facts(
    conn: &mut AnyConnection,
    subject: &SubjectRef,
    subject_row: Option<&SubjectRow>,
    case_id: CaseId,
    now: Timestamp,
) -> StoreResult<Option<warden_domain::enforcement::AccountFacts>> {
    let Some(account) = account_of(subject, subject_row.and_then(|s| s.owner.as_ref())) else {
        return Ok(None);
    };
    let attributes = match subject_row {
        Some(row) if &account == subject => row.attributes.clone(),
        _ => account_attributes(conn, &account).await?,
    };
    Ok(Some(warden_domain::enforcement::AccountFacts {
        tags: account_tags(&attributes),
        account_type: attributes
            .get("account_type")
            .and_then(Value::as_str)
            .map(str::to_string),
        active_strike_weight: active_strike_weight(conn, &account, case_id, now).await?,
        reference: account,
    }))
}

/// The owner of a case's subject and the account a decision acts on, for
/// the matrix's recommendation outside a decision.
pub(crate) async fn recommendation_facts(
    conn: &mut AnyConnection,
    case: &CaseRecord,
    now: Timestamp,
) -> StoreResult<Option<warden_domain::enforcement::AccountFacts>> {
    let subject = subject_row(conn, &case.subject).await?;
    account_facts(conn, &case.subject, subject.as_ref(), case.id, now).await
}

/// Templates of `kinds` for `categories` or any category.
async fn templates(
    conn: &mut AnyConnection,
    kinds: &[&str],
    categories: &[&str],
) -> StoreResult<Vec<NoticeTemplate>> {
    if kinds.is_empty() {
        return Ok(Vec::new());
    }
    let kind_list: Vec<String> = (0..kinds.len()).map(|i| format!("${}", i + 1)).collect();
    let category_list: Vec<String> = (0..categories.len())
        .map(|i| format!("${}", i + 1 + kinds.len()))
        .collect();
    let sql = format!(
        "SELECT id, action_type, category, language, subject, body FROM notice_templates WHERE action_type IN ({}) AND (category = '*'{}) ORDER BY id LIMIT {NOTICE_TEMPLATES_MAX}",
        kind_list.join(", "),
        if category_list.is_empty() {
            String::new()
        } else {
            format!(" OR category IN ({})", category_list.join(", "))
        }
    );
    let mut query = sqlx::query(&sql);
    for kind in kinds {
        query = query.bind(*kind);
    }
    for category in categories {
        query = query.bind(*category);
    }
    query
        .fetch_all(conn)
        .await?
        .iter()
        .map(|row| {
            Ok(NoticeTemplate {
                id: get(row, "id")?,
                action_type: get(row, "action_type")?,
                category: get(row, "category")?,
                language: get(row, "language")?,
                subject: get(row, "subject")?,
                body: get(row, "body")?,
            })
        })
        .collect()
}

async fn report_sources(
    conn: &mut AnyConnection,
    case_id: CaseId,
) -> StoreResult<Vec<ReportSource>> {
    sqlx::query_scalar::<_, String>(&format!(
        "SELECT DISTINCT source FROM reports WHERE case_id = $1 LIMIT {STATEMENT_REPORT_SOURCES_MAX}"
    ))
    .bind(case_id.0)
    .fetch_all(conn)
    .await?
    .iter()
    .map(|s| s.parse().map_err(|e: String| corrupt("report source", e)))
    .collect()
}

/// What a statement of reasons tells of a case.
fn statement_facts(
    case: &CaseRecord,
    subject: Option<&SubjectRow>,
    account_type: Option<String>,
    sources: Vec<ReportSource>,
) -> StatementFacts {
    StatementFacts {
        subject_kind: case.subject.kind,
        media_types: subject.map(|s| s.media_types.clone()).unwrap_or_default(),
        account_type,
        language: case_facts(case).language,
        content_date: subject
            .and_then(|s| s.content_date)
            .unwrap_or(case.opened_at)
            .date_naive(),
        sources,
        signal_count: case.signal_count,
    }
}

/// The stored kind of an action.
fn ordered_kind(action: &ActionRecord) -> StoreResult<ActionKind> {
    ActionKind::from_stored(
        &action.action_type,
        action.feature.as_deref(),
        action.label.as_deref(),
    )
    .map_err(|e| corrupt("action", e))
}

/// The actions of a decision, with their outbox rows and their notices'.
async fn ordered_actions(
    conn: &mut AnyConnection,
    decision: DecisionId,
) -> StoreResult<Vec<OrderedAction>> {
    let records = sqlx::query(&format!(
        "SELECT {} FROM actions WHERE decision_id = $1 ORDER BY id",
        rows::ACTION_COLUMNS
    ))
    .bind(decision.0)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(rows::action)
    .collect::<StoreResult<Vec<_>>>()?;
    let mut actions = Vec::with_capacity(records.len());
    for record in &records {
        let deliveries = sqlx::query(&format!(
            "SELECT id, kind, status, attempts FROM outbox WHERE action_id = $1 OR notice_id IN (SELECT id FROM notices WHERE action_id = $1) ORDER BY id LIMIT {ACTION_DELIVERIES_READ_MAX}"
        ))
        .bind(record.id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|row| {
            Ok(DeliveryFacts {
                id: get(row, "id")?,
                kind: rows::parsed(row, "kind")?,
                status: rows::parsed(row, "status")?,
                attempts: get(row, "attempts")?,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
        actions.push(OrderedAction {
            id: ActionId(record.id),
            kind: ordered_kind(record)?,
            target: record.target.clone(),
            duration_seconds: record.duration_seconds,
            expires_at: record.expires_at,
            status: record.status,
            deliveries,
        });
    }
    Ok(actions)
}

/// A stored decision with its case's language and subject owner, and the
/// policy of its taxonomy version; also whether it was reversed or
/// superseded.
async fn decision_context(
    conn: &mut AnyConnection,
    decision: DecisionId,
) -> StoreResult<(DecisionContext, CaseRecord, bool, Option<DecisionId>)> {
    let row = sqlx::query(
        "SELECT case_id, category, policy, rationale, decided_by_id, taxonomy_version, enforcement, reversed_at, superseded_by FROM decisions WHERE id = $1",
    )
    .bind(decision.0)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| StoreError::NotFound(format!("decision {decision}")))?;
    let case_id = CaseId(get(&row, "case_id")?);
    let case = super::cases::load_case(conn, case_id, "")
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("case {case_id}")))?;
    let version: Option<i64> = get(&row, "taxonomy_version")?;
    let version = match version {
        Some(v) => version_by_number(conn, v).await?,
        None => current_version(conn).await?,
    };
    let policy = match version {
        Some(v) => v.policy,
        None => EnforcementPolicy::default_for(&warden_domain::taxonomy::Taxonomy::default()),
    };
    let reason_code = get::<Option<String>>(&row, "enforcement")?
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|v| {
            v.get("reason_code")
                .and_then(Value::as_str)
                .map(str::to_string)
        });
    let subject = subject_row(conn, &case.subject).await?;
    let context = DecisionContext {
        id: decision,
        case: case_id,
        category: get(&row, "category")?,
        reason_code,
        policy_id: get(&row, "policy")?,
        rationale: rows::rationale_from_json(&rows::json(&row, "rationale")?),
        author: get::<Option<i64>>(&row, "decided_by_id")?.map(UserId),
        language: case_facts(&case).language,
        subject_owner: subject.and_then(|s| s.owner),
        policy,
    };
    let reversed = rows::time_opt(&row, "reversed_at")?.is_some();
    let superseded_by = get::<Option<i64>>(&row, "superseded_by")?.map(DecisionId);
    Ok((context, case, reversed, superseded_by))
}

async fn active_strikes(conn: &mut AnyConnection, decision: DecisionId) -> StoreResult<Vec<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM strikes WHERE decision_id = $1 AND voided_at IS NULL ORDER BY id",
    )
    .bind(decision.0)
    .fetch_all(conn)
    .await?)
}

/// Everything a decision's planner needs, with the case as stored and the
/// audit draft of a taxonomy version seeded on first use. Locks the case.
pub(crate) async fn load_decision_facts(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    command: &DecideCommand,
    actor: &Actor,
    policy: &CasePolicy,
    now: Timestamp,
) -> StoreResult<(DecisionFacts, CaseRecord, Option<AuditDraft>)> {
    let case = super::cases::load_case(tx, command.case, backend.for_update())
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("case {}", command.case)))?;
    let subject = subject_row(tx, &case.subject).await?;
    let account = account_facts(tx, &case.subject, subject.as_ref(), case.id, now).await?;
    let (version, seeded) = version_in_force(tx, policy, now).await?;
    let superseded = if case.status == CaseStatus::Resolved
        && command.mode == DecisionMode::Correction
    {
        let latest: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM decisions WHERE case_id = $1 AND superseded_by IS NULL ORDER BY id DESC LIMIT 1",
        )
        .bind(case.id.0)
        .fetch_optional(&mut **tx)
        .await?;
        match latest.map(DecisionId) {
            None => None,
            Some(id) => Some(SupersededDecision {
                context: decision_context(tx, id).await?.0,
                actions: ordered_actions(tx, id).await?,
                active_strikes: active_strikes(tx, id).await?,
            }),
        }
    } else {
        None
    };
    let mut kinds: Vec<&str> = command
        .decision
        .actions
        .iter()
        .map(|a| a.kind.type_name())
        .collect();
    let mut categories = vec![command.decision.category.as_str()];
    if let Some(old) = &superseded {
        kinds.push(warden_domain::notice::REVERSAL);
        categories.push(&old.context.category);
    }
    kinds.sort_unstable();
    kinds.dedup();
    let templates = templates(tx, &kinds, &categories).await?;
    // Only a statement of reasons reads the sources, and only actions need one.
    let sources = if command.decision.actions.is_empty() {
        Vec::new()
    } else {
        report_sources(tx, case.id).await?
    };
    let statement = statement_facts(
        &case,
        subject.as_ref(),
        account.as_ref().and_then(|a| a.account_type.clone()),
        sources,
    );
    let facts = DecisionFacts {
        case: case_facts(&case),
        subject_owner: subject.and_then(|s| s.owner),
        account,
        author: actor.user_id.map(UserId),
        taxonomy: TaxonomyVersion {
            version: version.version,
            policy: version.policy,
        },
        templates,
        statement,
        superseded,
    };
    Ok((facts, case, seeded))
}

/// Locks and reads one action.
async fn locked_action(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    action: ActionId,
) -> StoreResult<ActionRecord> {
    let row = sqlx::query(&format!(
        "SELECT {} FROM actions WHERE id = $1{}",
        rows::ACTION_COLUMNS,
        backend.for_update()
    ))
    .bind(action.0)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or_else(|| StoreError::NotFound(format!("action {action}")))?;
    rows::action(&row)
}

/// Everything a ruling's planner needs. Locks the action.
pub(crate) async fn load_approval_facts(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    action: ActionId,
    actor: &Actor,
) -> StoreResult<ApprovalFacts> {
    let record = locked_action(tx, backend, action).await?;
    let decision = DecisionId(record.decision_id);
    let (context, case, _, _) = decision_context(tx, decision).await?;
    let actions = ordered_actions(tx, decision).await?;
    let statement_id: Option<String> =
        sqlx::query_scalar("SELECT puid FROM dsa_statements WHERE decision_id = $1")
            .bind(decision.0)
            .fetch_optional(&mut **tx)
            .await?;
    let subject = subject_row(tx, &case.subject).await?;
    let account_type = match account_of(
        &case.subject,
        subject.as_ref().and_then(|s| s.owner.as_ref()),
    ) {
        None => None,
        Some(account) => account_attributes(tx, &account)
            .await?
            .get("account_type")
            .and_then(Value::as_str)
            .map(str::to_string),
    };
    let sources = report_sources(tx, case.id).await?;
    let templates = templates(
        tx,
        &[record.action_type.as_str()],
        &[context.category.as_str()],
    )
    .await?;
    Ok(ApprovalFacts {
        statement: statement_facts(&case, subject.as_ref(), account_type, sources),
        decision: context,
        actions,
        approver: actor.user_id.map(UserId),
        statement_id,
        templates,
    })
}

/// Everything a reversal's planner needs: of the action's decision, or of
/// the decision. Locks the action or the decision.
pub(crate) async fn load_reversal_facts(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    action: Option<ActionId>,
    decision: DecisionId,
) -> StoreResult<ReversalFacts> {
    let decision = match action {
        Some(action) => DecisionId(locked_action(tx, backend, action).await?.decision_id),
        None => {
            sqlx::query(&format!(
                "SELECT id FROM decisions WHERE id = $1{}",
                backend.for_update()
            ))
            .bind(decision.0)
            .fetch_optional(&mut **tx)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("decision {decision}")))?;
            decision
        }
    };
    let (context, _, reversed, superseded_by) = decision_context(tx, decision).await?;
    let templates = templates(
        tx,
        &[warden_domain::notice::REVERSAL],
        &[context.category.as_str()],
    )
    .await?;
    Ok(ReversalFacts {
        actions: ordered_actions(tx, decision).await?,
        active_strikes: active_strikes(tx, decision).await?,
        decision: context,
        reversed,
        superseded_by,
        templates,
    })
}

// ------------------------------------------------------------------ writing

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
    let d = &plan.decision;
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
    let statement_id = match &plan.statement {
        None => None,
        Some(statement) => Some(insert_statement(tx, id, statement, now).await?),
    };
    for notice in &plan.notices {
        let action = ActionId(actions[notice.action].id);
        let (notice_id, status, refusal) = insert_notice(tx, notice, action, id, now).await?;
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
    let enforcement = write_enforcement(tx, plan, id, &actions, statement_id).await?;
    Ok(WrittenDecision {
        id,
        actions,
        strike,
        enforcement,
        drafts,
    })
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
        .bind(rows::rationale_to_json(&d.rationale).to_string())
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
async fn insert_notice<A>(
    tx: &mut Transaction<'static, Any>,
    notice: &PlannedNotice<A>,
    action: ActionId,
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
    .bind(action.0)
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
                action_id: Some(action.0),
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
                    .bind(rows::stored_text(&reason).into_owned())
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
            .bind(rows::stored_text(&reason).into_owned())
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
    .bind(rows::stored_text(reason).into_owned())
    .bind(action.id.0)
    .execute(&mut **tx)
    .await?;
    if let Some(notice) = &undo.notice {
        insert_notice(tx, notice, action.id, context.id, now).await?;
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
    sqlx::query("UPDATE actions SET status = $1, expires_at = $2, approval_by = $3, approval_by_id = $4, approval_at = $5, approval_note = $6, status_at = $5 WHERE id = $7")
        .bind(plan.status.as_str())
        .bind(plan.expires_at.map(ms))
        .bind(&actor.name)
        .bind(actor.user_id)
        .bind(ms(now))
        .bind(rows::stored_text(note).into_owned())
        .bind(plan.action.0)
        .execute(&mut **tx)
        .await?;
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
            insert_notice(tx, notice, action.id, context.id, now).await?;
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
    let mut value: Value =
        serde_json::from_str(&text).map_err(|e| corrupt("decision enforcement", e))?;
    value["statement_id"] = json!(puid);
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
