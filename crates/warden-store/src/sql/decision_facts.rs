//! Loading the facts a planner of `warden_domain::enforcement` needs —
//! for a decision, a ruling on an action, a reversal — in the caller's
//! transaction. Nothing here decides anything: rows become facts, and the
//! planners (`plan_decision`, `plan_approval`, `plan_reversal`) decide.

use serde_json::Value;
use sqlx::{Any, AnyConnection, Transaction};

use warden_domain::case::CaseStatus;
use warden_domain::decision::ActionKind;
use warden_domain::dsa::StatementFacts;
use warden_domain::enforcement::{
    account_of, account_tags, ApprovalFacts, CaseFacts, DecideCommand, DecisionContext,
    DecisionFacts, DecisionMode, EnforcementPolicy, OrderedAction, PlanError, ReversalFacts,
    SupersededDecision, TaxonomyVersion,
};
use warden_domain::ids::{ActionId, DecisionId, LanguageTag, SubjectRef, UserId, Version};
use warden_domain::intake::ReportSource;
use warden_domain::limits::{
    ACTION_DELIVERIES_READ_MAX, NOTICE_TEMPLATES_MAX, STATEMENT_REPORT_SOURCES_MAX,
};
use warden_domain::notice::NoticeTemplate;
use warden_domain::{CaseId, Timestamp};

use super::taxonomy::{current_version, version_by_number, version_in_force};
use super::wrappers::{
    records, DbAction, DbAttributes, DbDecisionContext, DbDeliveryFacts, DbNoticeTemplate,
    DbReportSource, DbSubjectFacts, ACTION_COLUMNS, DECISION_CONTEXT_COLUMNS,
    SUBJECT_FACTS_COLUMNS,
};
use super::{ms, AuditDraft, Backend};
use crate::{ActionRecord, Actor, CasePolicy, CaseRecord, StoreError, StoreResult};

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

async fn subject_row(
    conn: &mut AnyConnection,
    subject: &SubjectRef,
) -> StoreResult<Option<DbSubjectFacts>> {
    Ok(sqlx::query_as::<_, DbSubjectFacts>(&format!(
        "SELECT {SUBJECT_FACTS_COLUMNS} FROM subjects WHERE kind = $1 AND platform_id = $2"
    ))
    .bind(subject.kind.as_str())
    .bind(subject.id.as_str())
    .fetch_optional(conn)
    .await?)
}

/// An account's attributes; `null` for an account the platform never sent.
async fn account_attributes(conn: &mut AnyConnection, account: &SubjectRef) -> StoreResult<Value> {
    Ok(sqlx::query_as::<_, DbAttributes>(
        "SELECT attributes FROM subjects WHERE kind = 'account' AND platform_id = $1",
    )
    .bind(account.id.as_str())
    .fetch_optional(conn)
    .await?
    .map_or(Value::Null, |DbAttributes(attributes)| attributes))
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
    subject_row: Option<&DbSubjectFacts>,
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
pub(crate) async fn templates(
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
    let mut query = sqlx::query_as::<_, DbNoticeTemplate>(&sql);
    for kind in kinds {
        query = query.bind(*kind);
    }
    for category in categories {
        query = query.bind(*category);
    }
    Ok(records(query.fetch_all(conn).await?))
}

async fn report_sources(
    conn: &mut AnyConnection,
    case_id: CaseId,
) -> StoreResult<Vec<ReportSource>> {
    let sources = sqlx::query_as::<_, DbReportSource>(&format!(
        "SELECT DISTINCT source FROM reports WHERE case_id = $1 LIMIT {STATEMENT_REPORT_SOURCES_MAX}"
    ))
    .bind(case_id.0)
    .fetch_all(conn)
    .await?;
    Ok(records(sources))
}

/// What a statement of reasons tells of a case.
fn statement_facts(
    case: &CaseRecord,
    subject: Option<&DbSubjectFacts>,
    account_type: Option<String>,
    sources: Vec<ReportSource>,
) -> StatementFacts {
    StatementFacts {
        subject_kind: case.subject.kind,
        media_types: subject.map(|s| s.media_types.clone()).unwrap_or_default(),
        account_type,
        language: case_facts(case).language,
        content_date: subject
            .map_or(case.opened_at, |s| s.content_date)
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
    .map_err(|_| StoreError::Corrupt {
        table: "actions".into(),
        column: "action_type".into(),
        value: action.action_type.clone(),
    })
}

/// The actions of a decision, with their outbox rows and their notices'.
pub(crate) async fn ordered_actions(
    conn: &mut AnyConnection,
    decision: DecisionId,
) -> StoreResult<Vec<OrderedAction>> {
    let stored = sqlx::query_as::<_, DbAction>(&format!(
        "SELECT {ACTION_COLUMNS} FROM actions WHERE decision_id = $1 ORDER BY id"
    ))
    .bind(decision.0)
    .fetch_all(&mut *conn)
    .await?;
    let stored = records(stored);
    let mut actions = Vec::with_capacity(stored.len());
    for record in &stored {
        let deliveries = sqlx::query_as::<_, DbDeliveryFacts>(&format!(
            "SELECT id, kind, status, attempts FROM outbox WHERE action_id = $1 OR notice_id IN (SELECT id FROM notices WHERE action_id = $1) ORDER BY id LIMIT {ACTION_DELIVERIES_READ_MAX}"
        ))
        .bind(record.id)
        .fetch_all(&mut *conn)
        .await?;
        let deliveries = records(deliveries);
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
pub(crate) async fn decision_context(
    conn: &mut AnyConnection,
    decision: DecisionId,
) -> StoreResult<(DecisionContext, CaseRecord, bool, Option<DecisionId>)> {
    let stored = sqlx::query_as::<_, DbDecisionContext>(&format!(
        "SELECT {DECISION_CONTEXT_COLUMNS} FROM decisions WHERE id = $1"
    ))
    .bind(decision.0)
    .fetch_optional(&mut *conn)
    .await?
    .ok_or_else(|| StoreError::NotFound(format!("decision {decision}")))?;
    let case_id = stored.case_id;
    let case = super::cases::load_case(conn, case_id, "")
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("case {case_id}")))?;
    let version = match stored.taxonomy_version {
        Some(v) => version_by_number(conn, v).await?,
        None => current_version(conn).await?,
    };
    let policy = match version {
        Some(v) => v.policy,
        None => EnforcementPolicy::default_for(&warden_domain::taxonomy::Taxonomy::default()),
    };
    let subject = subject_row(conn, &case.subject).await?;
    let context = DecisionContext {
        id: decision,
        case: case_id,
        category: stored.category,
        reason_code: stored.reason_code,
        policy_id: stored.policy_id,
        rationale: stored.rationale,
        author: stored.author.map(UserId),
        language: case_facts(&case).language,
        subject_owner: subject.and_then(|s| s.owner),
        policy,
    };
    let superseded_by = stored.superseded_by.map(DecisionId);
    Ok((context, case, stored.reversed, superseded_by))
}

pub(crate) async fn active_strikes(
    conn: &mut AnyConnection,
    decision: DecisionId,
) -> StoreResult<Vec<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM strikes WHERE decision_id = $1 AND voided_at IS NULL ORDER BY id",
    )
    .bind(decision.0)
    .fetch_all(conn)
    .await?)
}

/// The decision a correction of a resolved case supersedes (its latest),
/// with its actions and active strikes; `None` for a first decision.
async fn superseded_decision(
    tx: &mut Transaction<'static, Any>,
    case: &CaseRecord,
    mode: DecisionMode,
) -> StoreResult<Option<SupersededDecision>> {
    if case.status != CaseStatus::Resolved || mode != DecisionMode::Correction {
        return Ok(None);
    }
    let latest: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM decisions WHERE case_id = $1 AND superseded_by IS NULL ORDER BY id DESC LIMIT 1",
    )
    .bind(case.id.0)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(id) = latest.map(DecisionId) else {
        return Ok(None);
    };
    Ok(Some(SupersededDecision {
        context: decision_context(tx, id).await?.0,
        actions: ordered_actions(tx, id).await?,
        active_strikes: active_strikes(tx, id).await?,
    }))
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
    let superseded = superseded_decision(tx, &case, command.mode).await?;
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
    let stored = sqlx::query_as::<_, DbAction>(&format!(
        "SELECT {ACTION_COLUMNS} FROM actions WHERE id = $1{}",
        backend.for_update()
    ))
    .bind(action.0)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or_else(|| StoreError::NotFound(format!("action {action}")))?;
    Ok(stored.0)
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

/// What every step of a bulk action shares: the taxonomy version in force
/// (seeded on first use, with its audit draft) and the templates of the
/// bulk's action kinds for `categories`.
pub(crate) async fn bulk_context(
    conn: &mut AnyConnection,
    policy: &CasePolicy,
    kinds: &[&str],
    categories: &[&str],
    now: Timestamp,
) -> StoreResult<(warden_domain::incident::BulkContext, Option<AuditDraft>)> {
    let (version, seeded) = version_in_force(conn, policy, now).await?;
    let templates = templates(conn, kinds, categories).await?;
    Ok((
        warden_domain::incident::BulkContext {
            taxonomy: TaxonomyVersion {
                version: version.version,
                policy: version.policy,
            },
            templates,
        },
        seeded,
    ))
}

/// The facts of one case of a bulk action, with the case as stored;
/// `lock` is the row-lock clause (a step locks, a dry run does not);
/// `scope` the queues the bulk's author is admitted to.
/// `None` when the case does not exist.
pub(crate) async fn bulk_case_facts(
    conn: &mut AnyConnection,
    case_id: CaseId,
    lock: &str,
    scope: &warden_domain::routing::QueueScope,
    now: Timestamp,
) -> StoreResult<Option<(warden_domain::incident::BulkCaseFacts, CaseRecord)>> {
    let Some(case) = super::cases::load_case(conn, case_id, lock).await? else {
        return Ok(None);
    };
    let subject = subject_row(conn, &case.subject).await?;
    let account = account_facts(conn, &case.subject, subject.as_ref(), case.id, now).await?;
    let sources = report_sources(conn, case.id).await?;
    let statement = statement_facts(
        &case,
        subject.as_ref(),
        account.as_ref().and_then(|a| a.account_type.clone()),
        sources,
    );
    let facts = warden_domain::incident::BulkCaseFacts {
        case: case_facts(&case),
        kind: case.kind,
        admitted: scope.contains(&case.queue),
        subject_owner: subject.and_then(|s| s.owner),
        account,
        statement,
        applied: None,
    };
    Ok(Some((facts, case)))
}
