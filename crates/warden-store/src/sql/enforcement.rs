//! Enforcement in SQL: taxonomy versions, the store's side of decisions'
//! enforcement (the enforcement record), approvals and reversals through
//! their planners (loaded and written by `decisions.rs`), notice
//! templates and notices, statements of reasons and transparency facts.
//! The outbox's own queries (leasing, finishing, callbacks, replays) are in
//! `outbox.rs`.
//!
//! This module holds no enforcement policy: which actions wait, what a
//! reversal cancels or sends, who may approve, are decided by
//! `warden_domain::enforcement`'s planners. An approval or a reversal loads
//! its facts, plans and writes in one transaction.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::Duration;
use serde_json::{json, Value};
use sqlx::any::AnyRow;
use sqlx::AnyConnection;

use warden_domain::action::ActionStatus;
use warden_domain::enforcement::{
    action_from_json, action_json, plan_approval, plan_reversal, recommend, ApprovalCommand,
    ApprovalReason, DecideCommand, Departure, EnforcementPolicy, ReversalCommand, ReversalTarget,
    Ruling,
};
use warden_domain::ids::{ActionId, DecisionId};
use warden_domain::limits::{NOTICE_TEMPLATES_MAX, PAGE_SIZE_MAX, POLICY_DOCUMENT_BYTES_MAX};
use warden_domain::transparency::{ActionFact, ReversalFact};
use warden_domain::{CaseId, SubjectRef, Timestamp};

use super::rows::{self, get};
use super::{decisions, ms, AuditDraft, SqlStore};
use crate::{
    ActionDetail, Actor, ApprovalOutcome, CasePolicy, DecisionEnforcement, DecisionRecord,
    DeliveryCounts, DeliveryFilter, DeliveryJob, DeliveryOutcome, DeliveryRecord,
    DsaStatementRecord, DsaSubmission, EnforcementStore, NoticeRecord, NoticeTemplateInput,
    NoticeTemplateRecord, RecommendationRecord, ReversalRecord, StoreError, StoreResult,
    TaxonomyVersionRecord, TransparencyFacts,
};

/// Columns of an action joined with its decision, aliased so that
/// [`rows::action`] reads them.
const ACTION_DETAIL_COLUMNS: &str = "a.id AS id, a.decision_id AS decision_id, a.target_kind AS target_kind, a.target_id AS target_id, a.action_type AS action_type, a.feature AS feature, a.label AS label, a.duration_seconds AS duration_seconds, a.expires_at AS expires_at, a.status AS status, a.created_at AS created_at, a.approval_reasons AS approval_reasons, a.approval_by AS approval_by, a.approval_at AS approval_at, a.approval_note AS approval_note, a.reversed_at AS reversed_at, a.reversed_by AS reversed_by, a.reversal_reason AS reversal_reason, a.status_detail AS status_detail, d.case_id AS case_id, d.category AS category, d.decided_by AS decided_by, d.decided_by_id AS decided_by_id, d.decided_at AS decided_at, d.taxonomy_version AS taxonomy_version, d.enforcement AS enforcement, d.reversed_at AS decision_reversed_at, d.reversed_by AS decision_reversed_by, d.reversal_reason AS decision_reversal_reason";

fn corrupt(what: &str, reason: impl std::fmt::Display) -> StoreError {
    StoreError::Database(format!("stored {what} is unreadable: {reason}"))
}

fn reference_json(subject: &SubjectRef) -> Value {
    json!({"kind": subject.kind.as_str(), "id": subject.id.as_str()})
}

fn reference_from_json(value: &Value) -> Option<SubjectRef> {
    let kind = value.get("kind")?.as_str()?.parse().ok()?;
    let id = warden_domain::PlatformId::parse(value.get("id")?.as_str()?).ok()?;
    Some(SubjectRef::new(kind, id))
}

pub(super) fn reasons_json(reasons: &[ApprovalReason]) -> Value {
    json!(reasons.iter().map(ApprovalReason::code).collect::<Vec<_>>())
}

fn reasons_from_json(value: &Value) -> Vec<ApprovalReason> {
    value
        .as_array()
        .map(|codes| {
            codes
                .iter()
                .filter_map(Value::as_str)
                .filter_map(ApprovalReason::parse)
                .collect()
        })
        .unwrap_or_default()
}

/// The enforcement column of `decisions`, written.
pub(super) fn enforcement_json(e: &DecisionEnforcement) -> Value {
    json!({
        "taxonomy_version": e.taxonomy_version,
        "severity": e.severity.as_str(),
        "reason_code": e.reason_code,
        "prior_strike_weight": e.prior_strike_weight,
        "account": e.account.as_ref().map(reference_json),
        "recommendation": e.recommendation.iter().map(action_json).collect::<Vec<_>>(),
        "departure": e.departure.map(Departure::as_str),
        "override_reason": e.override_reason,
        "approvals": e.approvals.iter().map(|(id, reasons)| json!({"action_id": id, "reasons": reasons_json(reasons)})).collect::<Vec<_>>(),
        "statement_id": e.statement_id,
    })
}

/// The enforcement column of `decisions`, read back, with the reversal columns.
fn enforcement_from_json(
    value: &Value,
    reversal: Option<ReversalRecord>,
) -> StoreResult<DecisionEnforcement> {
    let severity = value
        .get("severity")
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| corrupt("decision enforcement", "no severity"))?;
    Ok(DecisionEnforcement {
        taxonomy_version: value
            .get("taxonomy_version")
            .and_then(Value::as_i64)
            .unwrap_or(0),
        severity,
        reason_code: value
            .get("reason_code")
            .and_then(Value::as_str)
            .map(str::to_string),
        prior_strike_weight: value
            .get("prior_strike_weight")
            .and_then(Value::as_i64)
            .unwrap_or(0),
        account: value.get("account").and_then(reference_from_json),
        recommendation: value
            .get("recommendation")
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .filter_map(|a| action_from_json(a).ok())
                    .collect()
            })
            .unwrap_or_default(),
        departure: value
            .get("departure")
            .and_then(Value::as_str)
            .and_then(Departure::parse),
        override_reason: value
            .get("override_reason")
            .and_then(Value::as_str)
            .map(str::to_string),
        approvals: value
            .get("approvals")
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .filter_map(|item| {
                        Some((
                            item.get("action_id")?.as_i64()?,
                            reasons_from_json(item.get("reasons")?),
                        ))
                    })
                    .collect()
            })
            .unwrap_or_default(),
        statement_id: value
            .get("statement_id")
            .and_then(Value::as_str)
            .map(str::to_string),
        reversal,
    })
}

/// Reads the enforcement of a decision row that has the columns
/// `enforcement`, `reversed_at`, `reversed_by` and `reversal_reason` (under
/// the given prefix for the reversal columns).
pub(crate) fn decision_enforcement(
    row: &AnyRow,
    reversal_prefix: &str,
) -> StoreResult<Option<DecisionEnforcement>> {
    let text: Option<String> = get(row, "enforcement")?;
    let Some(text) = text else {
        return Ok(None);
    };
    let value: Value =
        serde_json::from_str(&text).map_err(|e| corrupt("decision enforcement", e))?;
    let reversal = reversal_from(row, reversal_prefix)?;
    enforcement_from_json(&value, reversal).map(Some)
}

fn reversal_from(row: &AnyRow, prefix: &str) -> StoreResult<Option<ReversalRecord>> {
    let at = rows::time_opt(row, &format!("{prefix}reversed_at"))?;
    Ok(match at {
        None => None,
        Some(at) => Some(ReversalRecord {
            by: get::<Option<String>>(row, &format!("{prefix}reversed_by"))?.unwrap_or_default(),
            at,
            reason: rows::text_opt(row, &format!("{prefix}reversal_reason"))?.unwrap_or_default(),
        }),
    })
}

fn version_record(row: &AnyRow) -> StoreResult<TaxonomyVersionRecord> {
    let document = rows::json(row, "document")?;
    let policy =
        EnforcementPolicy::from_json(&document).map_err(|e| corrupt("taxonomy version", e))?;
    Ok(TaxonomyVersionRecord {
        version: get(row, "version")?,
        policy,
        note: rows::text(row, "note")?,
        created_by: get(row, "created_by")?,
        created_at: rows::time(row, "created_at")?,
    })
}

const VERSION_COLUMNS: &str = "version, document, note, created_by, created_at";

pub(super) async fn current_version(
    conn: &mut AnyConnection,
) -> StoreResult<Option<TaxonomyVersionRecord>> {
    sqlx::query(&format!(
        "SELECT {VERSION_COLUMNS} FROM taxonomy_versions ORDER BY version DESC LIMIT 1"
    ))
    .fetch_optional(conn)
    .await?
    .as_ref()
    .map(version_record)
    .transpose()
}

pub(super) async fn version_by_number(
    conn: &mut AnyConnection,
    version: i64,
) -> StoreResult<Option<TaxonomyVersionRecord>> {
    sqlx::query(&format!(
        "SELECT {VERSION_COLUMNS} FROM taxonomy_versions WHERE version = $1"
    ))
    .bind(version)
    .fetch_optional(conn)
    .await?
    .as_ref()
    .map(version_record)
    .transpose()
}

/// Inserts `policy` as the next version. Two publishers racing for the same
/// number: the second gets a conflict and changes nothing.
async fn insert_version(
    conn: &mut AnyConnection,
    policy: &EnforcementPolicy,
    note: &str,
    actor: &Actor,
    now: Timestamp,
) -> StoreResult<(TaxonomyVersionRecord, AuditDraft)> {
    let document = policy.to_json().to_string();
    if document.len() > POLICY_DOCUMENT_BYTES_MAX {
        return Err(StoreError::invalid(
            "document",
            format!("is larger than {POLICY_DOCUMENT_BYTES_MAX} bytes"),
        ));
    }
    let next: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(MAX(version), 0) + 1 AS BIGINT) FROM taxonomy_versions",
    )
    .fetch_one(&mut *conn)
    .await?;
    let inserted = sqlx::query(
        "INSERT INTO taxonomy_versions (version, document, note, created_by, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (version) DO NOTHING",
    )
    .bind(next)
    .bind(&document)
    .bind(rows::stored_text(note).into_owned())
    .bind(&actor.name)
    .bind(ms(now))
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if inserted != 1 {
        return Err(StoreError::Conflict(
            "another taxonomy version was published at the same moment; reload and try again"
                .into(),
        ));
    }
    let draft = AuditDraft::new(
        actor,
        "taxonomy.publish",
        "taxonomy_version",
        next,
        Value::Null,
        json!({"version": next, "note": note, "categories": policy.categories().map(|c| c.code.clone()).collect::<Vec<_>>()}),
    );
    Ok((
        TaxonomyVersionRecord {
            version: next,
            policy: policy.clone(),
            note: note.to_string(),
            created_by: actor.name.clone(),
            created_at: now,
        },
        draft,
    ))
}

/// The version in force; when none exists yet, version 1 is published from
/// the built-in defaults over `policy`'s taxonomy (by `system`).
pub(super) async fn version_in_force(
    conn: &mut AnyConnection,
    policy: &CasePolicy,
    now: Timestamp,
) -> StoreResult<(TaxonomyVersionRecord, Option<AuditDraft>)> {
    if let Some(current) = current_version(conn).await? {
        return Ok((current, None));
    }
    let defaults = EnforcementPolicy::default_for(&policy.taxonomy);
    match insert_version(
        conn,
        &defaults,
        "built-in taxonomy and enforcement matrix",
        &Actor::system(),
        now,
    )
    .await
    {
        Ok((record, draft)) => Ok((record, Some(draft))),
        // Another transaction seeded it first: use theirs.
        Err(StoreError::Conflict(_)) => current_version(conn)
            .await?
            .map(|v| (v, None))
            .ok_or_else(|| StoreError::Database("taxonomy version vanished".into())),
        Err(other) => Err(other),
    }
}

impl SqlStore {
    async fn action_detail_with(
        &self,
        conn: &mut AnyConnection,
        action_id: i64,
    ) -> StoreResult<Option<ActionDetail>> {
        let Some(row) = sqlx::query(&format!(
            "SELECT {ACTION_DETAIL_COLUMNS} FROM actions a JOIN decisions d ON d.id = a.decision_id WHERE a.id = $1"
        ))
        .bind(action_id)
        .fetch_optional(&mut *conn)
        .await?
        else {
            return Ok(None);
        };
        let action = rows::action(&row)?;
        let approval_reasons = get::<Option<String>>(&row, "approval_reasons")?
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
            .map(|v| reasons_from_json(&v))
            .unwrap_or_default();
        let approval = match rows::time_opt(&row, "approval_at")? {
            Some(at) => Some(ApprovalOutcome {
                approved: action.status != ActionStatus::Rejected,
                by: get::<Option<String>>(&row, "approval_by")?.unwrap_or_default(),
                at,
                note: rows::text_opt(&row, "approval_note")?.unwrap_or_default(),
            }),
            None => None,
        };
        let deliveries = super::outbox::deliveries_of(conn, action_id).await?;
        Ok(Some(ActionDetail {
            case_id: CaseId(get(&row, "case_id")?),
            category: get(&row, "category")?,
            decided_by: get(&row, "decided_by")?,
            decided_by_id: get(&row, "decided_by_id")?,
            decided_at: rows::time(&row, "decided_at")?,
            approval_reasons,
            approval,
            reversal: reversal_from(&row, "")?,
            status_detail: rows::text_opt(&row, "status_detail")?,
            deliveries,
            enforcement: decision_enforcement(&row, "decision_")?,
            action,
        }))
    }

    async fn read_action_detail(&self, action_id: i64) -> StoreResult<ActionDetail> {
        let mut conn = self.reader.acquire().await?;
        self.action_detail_with(&mut conn, action_id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("action {action_id}")))
    }
}

fn template_record(row: &AnyRow) -> StoreResult<NoticeTemplateRecord> {
    Ok(NoticeTemplateRecord {
        id: get(row, "id")?,
        action_type: get(row, "action_type")?,
        category: get(row, "category")?,
        language: get(row, "language")?,
        subject: get(row, "subject")?,
        body: get(row, "body")?,
        updated_by: get(row, "updated_by")?,
        updated_at: rows::time(row, "updated_at")?,
    })
}

fn notice_record(row: &AnyRow) -> StoreResult<NoticeRecord> {
    Ok(NoticeRecord {
        id: get(row, "id")?,
        decision_id: get(row, "decision_id")?,
        action_id: get(row, "action_id")?,
        template_id: get(row, "template_id")?,
        recipient: rows::reference(row, "recipient_kind", "recipient_id")?,
        language: get(row, "language")?,
        subject: get(row, "subject")?,
        body: get(row, "body")?,
        status: get(row, "status")?,
        refusal: get::<Option<String>>(row, "refusal")?
            .and_then(|t| serde_json::from_str(&t).ok())
            .unwrap_or_default(),
        created_at: rows::time(row, "created_at")?,
    })
}

const STATEMENT_COLUMNS: &str = "id, decision_id, puid, statement, created_at, submission_status, submission_attempts, submitted_at, submission_error, database_uuid, permalink";

fn statement_record(row: &AnyRow) -> StoreResult<DsaStatementRecord> {
    Ok(DsaStatementRecord {
        id: get(row, "id")?,
        decision_id: get(row, "decision_id")?,
        puid: get(row, "puid")?,
        statement: rows::json(row, "statement")?,
        created_at: rows::time(row, "created_at")?,
        submission_status: get(row, "submission_status")?,
        submission_attempts: get(row, "submission_attempts")?,
        submitted_at: rows::time_opt(row, "submitted_at")?,
        submission_error: get(row, "submission_error")?,
        database_uuid: get(row, "database_uuid")?,
        permalink: get(row, "permalink")?,
    })
}

#[async_trait]
impl EnforcementStore for SqlStore {
    async fn taxonomy_current(&self) -> StoreResult<Option<TaxonomyVersionRecord>> {
        let mut conn = self.reader.acquire().await?;
        current_version(&mut conn).await
    }

    async fn taxonomy_version(&self, version: i64) -> StoreResult<Option<TaxonomyVersionRecord>> {
        let mut conn = self.reader.acquire().await?;
        version_by_number(&mut conn, version).await
    }

    async fn taxonomy_versions(&self, limit: u32) -> StoreResult<Vec<TaxonomyVersionRecord>> {
        sqlx::query(&format!(
            "SELECT {VERSION_COLUMNS} FROM taxonomy_versions ORDER BY version DESC LIMIT $1"
        ))
        .bind(i64::from(limit.clamp(1, PAGE_SIZE_MAX)))
        .fetch_all(&self.reader)
        .await?
        .iter()
        .map(version_record)
        .collect()
    }

    async fn publish_taxonomy(
        &self,
        actor: &Actor,
        policy: &EnforcementPolicy,
        note: &str,
        now: Timestamp,
    ) -> StoreResult<TaxonomyVersionRecord> {
        let mut tx = self.writer.begin().await?;
        if self.backend == super::Backend::Postgres {
            // Publishers take turns, so that numbers are handed out in order.
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(0x5741_5244_454e_00b1_i64)
                .execute(&mut *tx)
                .await?;
        }
        let (record, draft) = insert_version(&mut tx, policy, note, actor, now).await?;
        self.append_audit(&mut tx, vec![draft], now).await?;
        tx.commit().await?;
        Ok(record)
    }

    async fn ensure_taxonomy(
        &self,
        actor: &Actor,
        policy: &CasePolicy,
        now: Timestamp,
    ) -> StoreResult<TaxonomyVersionRecord> {
        let mut tx = self.writer.begin().await?;
        if self.backend == super::Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(0x5741_5244_454e_00b1_i64)
                .execute(&mut *tx)
                .await?;
        }
        let (current, seeded) = version_in_force(&mut tx, policy, now).await?;
        let mut drafts: Vec<AuditDraft> = seeded.into_iter().collect();
        let mut updated = current.policy.clone();
        let added = updated.add_missing(&policy.taxonomy);
        let record = if added.is_empty() {
            current
        } else {
            let (record, draft) = insert_version(
                &mut tx,
                &updated,
                &format!(
                    "categories added by the configuration: {}",
                    added.join(", ")
                ),
                actor,
                now,
            )
            .await?;
            drafts.push(draft);
            record
        };
        self.append_audit(&mut tx, drafts, now).await?;
        tx.commit().await?;
        Ok(record)
    }

    async fn decide_with(
        &self,
        actor: &Actor,
        command: DecideCommand,
        policy: &CasePolicy,
        now: Timestamp,
    ) -> StoreResult<DecisionRecord> {
        self.decide_impl(actor, &command, policy, now).await
    }

    async fn recommendation(
        &self,
        case_id: CaseId,
        category: Option<&str>,
        policy: &CasePolicy,
        now: Timestamp,
    ) -> StoreResult<RecommendationRecord> {
        let mut conn = self.reader.acquire().await?;
        let case = super::cases::load_case(&mut conn, case_id, "")
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("case {case_id}")))?;
        let (version, policy_doc) = match current_version(&mut conn).await? {
            Some(v) => (v.version, v.policy),
            None => (0, EnforcementPolicy::default_for(&policy.taxonomy)),
        };
        let code = category.unwrap_or(&case.category).to_string();
        let category = policy_doc.category(&code).ok_or_else(|| {
            StoreError::invalid("category", format!("unknown taxonomy code {code:?}"))
        })?;
        let account = decisions::recommendation_facts(&mut conn, &case, now).await?;
        let recommended = recommend(
            &policy_doc,
            &decisions::case_facts(&case),
            account.as_ref(),
            category,
        );
        Ok(RecommendationRecord {
            case_id,
            category: code,
            severity: recommended.severity,
            taxonomy_version: version,
            prior_strike_weight: account.as_ref().map_or(0, |a| a.active_strike_weight),
            account_tags: account.as_ref().map(|a| a.tags.clone()).unwrap_or_default(),
            account: account.map(|a| a.reference),
            recommendation: recommended.actions,
            approvals: recommended.approvals,
        })
    }

    async fn pending_approvals(&self, limit: u32) -> StoreResult<Vec<ActionDetail>> {
        let mut conn = self.reader.acquire().await?;
        let ids: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM actions WHERE status = 'pending_approval' ORDER BY created_at, id LIMIT $1",
        )
        .bind(i64::from(limit.clamp(1, PAGE_SIZE_MAX)))
        .fetch_all(&mut *conn)
        .await?;
        let mut details = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(detail) = self.action_detail_with(&mut conn, id).await? {
                details.push(detail);
            }
        }
        Ok(details)
    }

    async fn action_detail(&self, action_id: i64) -> StoreResult<Option<ActionDetail>> {
        let mut conn = self.reader.acquire().await?;
        self.action_detail_with(&mut conn, action_id).await
    }

    async fn rule_on_action(
        &self,
        actor: &Actor,
        action_id: i64,
        ruling: Ruling,
        note: &str,
        now: Timestamp,
    ) -> StoreResult<ActionDetail> {
        let mut tx = self.writer.begin().await?;
        let facts =
            decisions::load_approval_facts(&mut tx, self.backend, ActionId(action_id), actor)
                .await?;
        let command = ApprovalCommand {
            action: ActionId(action_id),
            ruling,
            note: note.to_string(),
        };
        let plan = plan_approval(&facts, &command, now).map_err(decisions::refused)?;
        let drafts =
            decisions::write_approval_plan(&mut tx, &plan, &facts, actor, note, now).await?;
        self.append_audit(&mut tx, drafts, now).await?;
        tx.commit().await?;
        self.read_action_detail(action_id).await
    }

    async fn reverse_action(
        &self,
        actor: &Actor,
        action_id: i64,
        reason: &str,
        now: Timestamp,
    ) -> StoreResult<ActionDetail> {
        let mut tx = self.writer.begin().await?;
        let action = ActionId(action_id);
        let facts =
            decisions::load_reversal_facts(&mut tx, self.backend, Some(action), DecisionId(0))
                .await?;
        let command = ReversalCommand {
            target: ReversalTarget::Action(action),
            reason: reason.to_string(),
        };
        let plan = plan_reversal(&facts, &command, now).map_err(decisions::refused)?;
        let drafts = decisions::write_reversal_plan(
            &mut tx,
            &plan,
            &facts.decision,
            &facts.actions,
            actor,
            None,
            now,
        )
        .await?;
        self.append_audit(&mut tx, drafts, now).await?;
        tx.commit().await?;
        self.read_action_detail(action_id).await
    }

    async fn reverse_decision(
        &self,
        actor: &Actor,
        decision_id: i64,
        reason: &str,
        now: Timestamp,
    ) -> StoreResult<DecisionRecord> {
        let mut tx = self.writer.begin().await?;
        let facts =
            decisions::load_reversal_facts(&mut tx, self.backend, None, DecisionId(decision_id))
                .await?;
        let command = ReversalCommand {
            target: ReversalTarget::Decision,
            reason: reason.to_string(),
        };
        let plan = plan_reversal(&facts, &command, now).map_err(decisions::refused)?;
        let drafts = decisions::write_reversal_plan(
            &mut tx,
            &plan,
            &facts.decision,
            &facts.actions,
            actor,
            None,
            now,
        )
        .await?;
        self.append_audit(&mut tx, drafts, now).await?;
        tx.commit().await?;
        let case_id = facts.decision.case;
        let detail = self
            .case_detail_impl(case_id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("case {case_id}")))?;
        detail
            .decisions
            .into_iter()
            .find(|d| d.id == decision_id)
            .ok_or_else(|| StoreError::NotFound(format!("decision {decision_id}")))
    }

    async fn claim_deliveries(
        &self,
        worker: &str,
        limit: u32,
        lease: Duration,
        now: Timestamp,
    ) -> StoreResult<Vec<DeliveryJob>> {
        self.claim_deliveries_impl(worker, limit, lease, now).await
    }

    async fn finish_deliveries(
        &self,
        outcomes: Vec<DeliveryOutcome>,
        now: Timestamp,
    ) -> StoreResult<()> {
        self.finish_deliveries_impl(outcomes, now).await
    }

    async fn confirm_delivery(
        &self,
        idempotency_key: &str,
        applied: bool,
        detail: Option<&str>,
        now: Timestamp,
    ) -> StoreResult<DeliveryRecord> {
        self.confirm_delivery_impl(idempotency_key, applied, detail, now)
            .await
    }

    async fn list_deliveries(&self, filter: &DeliveryFilter) -> StoreResult<Vec<DeliveryRecord>> {
        self.list_deliveries_impl(filter).await
    }

    async fn replay_delivery(
        &self,
        actor: &Actor,
        id: i64,
        now: Timestamp,
    ) -> StoreResult<DeliveryRecord> {
        self.replay_delivery_impl(actor, id, now).await
    }

    async fn delivery_counts(&self) -> StoreResult<DeliveryCounts> {
        self.delivery_counts_impl().await
    }

    async fn notice_templates(&self) -> StoreResult<Vec<NoticeTemplateRecord>> {
        sqlx::query(&format!(
            "SELECT id, action_type, category, language, subject, body, updated_by, updated_at FROM notice_templates ORDER BY action_type, category, language LIMIT {NOTICE_TEMPLATES_MAX}"
        ))
        .fetch_all(&self.reader)
        .await?
        .iter()
        .map(template_record)
        .collect()
    }

    async fn save_notice_template(
        &self,
        actor: &Actor,
        template: NoticeTemplateInput,
        now: Timestamp,
    ) -> StoreResult<NoticeTemplateRecord> {
        let mut tx = self.writer.begin().await?;
        let existing = sqlx::query(
            "SELECT id, action_type, category, language, subject, body, updated_by, updated_at FROM notice_templates WHERE action_type = $1 AND category = $2 AND language = $3",
        )
        .bind(&template.action_type)
        .bind(&template.category)
        .bind(&template.language)
        .fetch_optional(&mut *tx)
        .await?
        .as_ref()
        .map(template_record)
        .transpose()?;
        let id = match &existing {
            Some(old) => {
                sqlx::query("UPDATE notice_templates SET subject = $1, body = $2, updated_by = $3, updated_at = $4 WHERE id = $5")
                    .bind(&template.subject)
                    .bind(&template.body)
                    .bind(&actor.name)
                    .bind(ms(now))
                    .bind(old.id)
                    .execute(&mut *tx)
                    .await?;
                old.id
            }
            None => {
                let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM notice_templates")
                    .fetch_one(&mut *tx)
                    .await?;
                if count >= NOTICE_TEMPLATES_MAX as i64 {
                    return Err(StoreError::Conflict(format!(
                        "there are already {NOTICE_TEMPLATES_MAX} templates, the most Warden keeps; delete some first"
                    )));
                }
                sqlx::query_scalar("INSERT INTO notice_templates (action_type, category, language, subject, body, updated_by, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id")
                    .bind(&template.action_type)
                    .bind(&template.category)
                    .bind(&template.language)
                    .bind(&template.subject)
                    .bind(&template.body)
                    .bind(&actor.name)
                    .bind(ms(now))
                    .fetch_one(&mut *tx)
                    .await?
            }
        };
        let record = NoticeTemplateRecord {
            id,
            action_type: template.action_type,
            category: template.category,
            language: template.language,
            subject: template.subject,
            body: template.body,
            updated_by: actor.name.clone(),
            updated_at: now,
        };
        let draft = AuditDraft::new(
            actor,
            "notice_template.save",
            "notice_template",
            id,
            existing.map_or(
                Value::Null,
                |old| json!({"subject": old.subject, "body": old.body}),
            ),
            json!({"action_type": record.action_type, "category": record.category, "language": record.language, "subject": record.subject, "body": record.body}),
        );
        self.append_audit(&mut tx, vec![draft], now).await?;
        tx.commit().await?;
        Ok(record)
    }

    async fn delete_notice_template(
        &self,
        actor: &Actor,
        id: i64,
        now: Timestamp,
    ) -> StoreResult<()> {
        let mut tx = self.writer.begin().await?;
        let old = sqlx::query(
            "SELECT id, action_type, category, language, subject, body, updated_by, updated_at FROM notice_templates WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?
        .as_ref()
        .map(template_record)
        .transpose()?
        .ok_or_else(|| StoreError::NotFound(format!("notice template {id}")))?;
        sqlx::query("DELETE FROM notice_templates WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let draft = AuditDraft::new(
            actor,
            "notice_template.delete",
            "notice_template",
            id,
            json!({"action_type": old.action_type, "category": old.category, "language": old.language, "subject": old.subject, "body": old.body}),
            Value::Null,
        );
        self.append_audit(&mut tx, vec![draft], now).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn notices(
        &self,
        decision_id: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<NoticeRecord>> {
        let columns = "id, decision_id, action_id, template_id, recipient_kind, recipient_id, language, subject, body, status, refusal, created_at";
        let limit = i64::from(limit.clamp(1, PAGE_SIZE_MAX));
        let rows = match decision_id {
            Some(decision) => {
                sqlx::query(&format!(
                "SELECT {columns} FROM notices WHERE decision_id = $1 ORDER BY id DESC LIMIT $2"
            ))
                .bind(decision)
                .bind(limit)
                .fetch_all(&self.reader)
                .await?
            }
            None => {
                sqlx::query(&format!(
                    "SELECT {columns} FROM notices ORDER BY id DESC LIMIT $1"
                ))
                .bind(limit)
                .fetch_all(&self.reader)
                .await?
            }
        };
        rows.iter().map(notice_record).collect()
    }

    async fn dsa_statements(
        &self,
        since: Timestamp,
        until: Timestamp,
        after_id: i64,
        limit: u32,
    ) -> StoreResult<Vec<DsaStatementRecord>> {
        sqlx::query(&format!(
            "SELECT {STATEMENT_COLUMNS} FROM dsa_statements WHERE created_at >= $1 AND created_at < $2 AND id > $3 ORDER BY id LIMIT $4"
        ))
        .bind(ms(since))
        .bind(ms(until))
        .bind(after_id)
        .bind(i64::from(limit.clamp(1, 10_000)))
        .fetch_all(&self.reader)
        .await?
        .iter()
        .map(statement_record)
        .collect()
    }

    async fn dsa_unsubmitted(&self, limit: u32) -> StoreResult<Vec<DsaStatementRecord>> {
        sqlx::query(&format!(
            "SELECT {STATEMENT_COLUMNS} FROM dsa_statements WHERE submission_status IN ('unsubmitted', 'attempted') ORDER BY id LIMIT $1"
        ))
        .bind(i64::from(limit.clamp(1, 10_000)))
        .fetch_all(&self.reader)
        .await?
        .iter()
        .map(statement_record)
        .collect()
    }

    async fn record_dsa_submissions(
        &self,
        actor: &Actor,
        outcomes: Vec<(String, DsaSubmission)>,
        now: Timestamp,
    ) -> StoreResult<()> {
        if outcomes.is_empty() {
            return Ok(());
        }
        let mut tx = self.writer.begin().await?;
        let mut summary: BTreeMap<&str, Vec<String>> = BTreeMap::new();
        for (puid, outcome) in &outcomes {
            match outcome {
                DsaSubmission::Attempted => {
                    sqlx::query("UPDATE dsa_statements SET submission_status = 'attempted', submission_attempts = submission_attempts + 1, submitted_at = $1 WHERE puid = $2 AND submission_status IN ('unsubmitted', 'attempted')")
                        .bind(ms(now))
                        .bind(puid)
                        .execute(&mut *tx)
                        .await?;
                    summary.entry("attempted").or_default().push(puid.clone());
                }
                DsaSubmission::Accepted { uuid, permalink } => {
                    sqlx::query("UPDATE dsa_statements SET submission_status = 'accepted', submitted_at = $1, submission_error = NULL, database_uuid = COALESCE($2, database_uuid), permalink = COALESCE($3, permalink) WHERE puid = $4")
                        .bind(ms(now))
                        .bind(uuid.clone())
                        .bind(permalink.clone())
                        .bind(puid)
                        .execute(&mut *tx)
                        .await?;
                    summary.entry("accepted").or_default().push(puid.clone());
                }
                DsaSubmission::Rejected { error } => {
                    sqlx::query("UPDATE dsa_statements SET submission_status = 'rejected', submitted_at = $1, submission_error = $2 WHERE puid = $3")
                        .bind(ms(now))
                        .bind(error)
                        .bind(puid)
                        .execute(&mut *tx)
                        .await?;
                    summary.entry("rejected").or_default().push(puid.clone());
                }
            }
        }
        let draft = AuditDraft::new(
            actor,
            "dsa.submit",
            "dsa_statements",
            format!("{} statements", outcomes.len()),
            Value::Null,
            json!(summary),
        );
        self.append_audit(&mut tx, vec![draft], now).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn transparency_facts(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> StoreResult<TransparencyFacts> {
        // Paged by action id so that a long period is read in bounded steps.
        const PAGE: i64 = 10_000;
        let mut facts = TransparencyFacts::default();
        let mut after = 0_i64;
        loop {
            let page = sqlx::query(
                "SELECT a.id, a.action_type, a.created_at, d.category, d.decided_by_id, c.signal_count, (SELECT MIN(r.received_at) FROM reports r WHERE r.case_id = c.id) AS first_report_at, (SELECT r.source FROM reports r WHERE r.case_id = c.id ORDER BY r.seq LIMIT 1) AS first_source, (SELECT COUNT(*) FROM reports r WHERE r.case_id = c.id AND r.source = 'automated_flag') AS automated_reports FROM actions a JOIN decisions d ON d.id = a.decision_id JOIN cases c ON c.id = a.case_id WHERE a.created_at >= $1 AND a.created_at < $2 AND a.status NOT IN ('pending_approval', 'rejected') AND a.id > $3 ORDER BY a.id LIMIT $4",
            )
            .bind(ms(from))
            .bind(ms(to))
            .bind(after)
            .bind(PAGE)
            .fetch_all(&self.reader)
            .await?;
            for row in &page {
                after = get(row, "id")?;
                let signals: i64 = get(row, "signal_count")?;
                let automated_reports: i64 = get(row, "automated_reports")?;
                let first_source: Option<String> = get(row, "first_source")?;
                facts.actions.push(ActionFact {
                    category: get(row, "category")?,
                    action_type: get(row, "action_type")?,
                    source: first_source.unwrap_or_else(|| {
                        if signals > 0 { "signal" } else { "unknown" }.to_string()
                    }),
                    automated_detection: signals > 0 || automated_reports > 0,
                    automated_decision: get::<Option<i64>>(row, "decided_by_id")?.is_none(),
                    noticed_at: rows::time_opt(row, "first_report_at")?,
                    ordered_at: rows::time(row, "created_at")?,
                });
            }
            if (page.len() as i64) < PAGE {
                break;
            }
        }
        let mut after = 0_i64;
        loop {
            let page = sqlx::query(
                "SELECT a.id, a.action_type, d.category FROM actions a JOIN decisions d ON d.id = a.decision_id WHERE a.reversed_at >= $1 AND a.reversed_at < $2 AND a.id > $3 ORDER BY a.id LIMIT $4",
            )
            .bind(ms(from))
            .bind(ms(to))
            .bind(after)
            .bind(PAGE)
            .fetch_all(&self.reader)
            .await?;
            for row in &page {
                after = get(row, "id")?;
                facts.reversals.push(ReversalFact {
                    category: get(row, "category")?,
                    action_type: get(row, "action_type")?,
                });
            }
            if (page.len() as i64) < PAGE {
                break;
            }
        }
        let statements: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM dsa_statements WHERE created_at >= $1 AND created_at < $2",
        )
        .bind(ms(from))
        .bind(ms(to))
        .fetch_one(&self.reader)
        .await?;
        facts.statements = statements.max(0) as u64;
        Ok(facts)
    }
}
