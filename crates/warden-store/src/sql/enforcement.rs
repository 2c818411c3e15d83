//! Enforcement in SQL: taxonomy versions, the matrix and decision rights
//! applied inside the decision's transaction, approvals, reversals,
//! notices, statements of reasons and transparency facts. The outbox's
//! own queries (leasing, finishing, callbacks, replays) are in `outbox.rs`.
//!
//! Everything a decision causes is written in the decision's transaction:
//! the actions' statuses, their outbox rows (apply now, lift when they end),
//! their notices and the statement of reasons. An approval or a reversal
//! does the same in its own transaction.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::Duration;
use serde_json::{json, Value};
use sqlx::any::AnyRow;
use sqlx::{Any, AnyConnection, Transaction};

use warden_domain::case::Severity;
use warden_domain::decision::{ActionKind, ActionSpec, DecisionInput, StrikeRule};
use warden_domain::dsa::{self, Endpoint, Restriction, StatementInput};
use warden_domain::duration::format_iso8601_duration;
use warden_domain::enforcement::{
    account_tags, action_from_json, action_json, assess, ApprovalReason, Assessment, Departure,
    EnforcementPolicy, Situation,
};
use warden_domain::ids::SubjectKind;
use warden_domain::intake::ReportSource;
use warden_domain::limits::{
    NOTICE_TEMPLATES_MAX, OVERRIDE_REASON_CHARS_MAX, PAGE_SIZE_MAX, POLICY_DOCUMENT_BYTES_MAX,
};
use warden_domain::notice;
use warden_domain::transparency::{ActionFact, ReversalFact};
use warden_domain::webhook::{self, ActionFacts, DeliveryKind, NoticeFacts};
use warden_domain::{CaseId, SubjectRef, Timestamp};

use super::rows::{self, get};
use super::{ms, AuditDraft, SqlStore};
use crate::enforcement::{action_status, delivery_status};
use crate::{
    ActionDetail, ActionRecord, Actor, ApprovalOutcome, CasePolicy, CaseRecord,
    DecisionEnforcement, DecisionExtras, DecisionRecord, DeliveryCounts, DeliveryFilter,
    DeliveryJob, DeliveryOutcome, DeliveryRecord, DsaStatementRecord, DsaSubmission,
    EnforcementStore, NoticeRecord, NoticeTemplateInput, NoticeTemplateRecord,
    RecommendationRecord, ReversalRecord, StoreError, StoreResult, TaxonomyVersionRecord,
    TransparencyFacts,
};

/// Columns of an action joined with its decision, aliased so that
/// [`rows::action`] reads them.
const ACTION_DETAIL_COLUMNS: &str = "a.id AS id, a.decision_id AS decision_id, a.target_kind AS target_kind, a.target_id AS target_id, a.action_type AS action_type, a.feature AS feature, a.label AS label, a.duration_seconds AS duration_seconds, a.expires_at AS expires_at, a.status AS status, a.created_at AS created_at, a.approval_reasons AS approval_reasons, a.approval_by AS approval_by, a.approval_at AS approval_at, a.approval_note AS approval_note, a.reversed_at AS reversed_at, a.reversed_by AS reversed_by, a.reversal_reason AS reversal_reason, a.status_detail AS status_detail, d.case_id AS case_id, d.category AS category, d.decided_by AS decided_by, d.decided_by_id AS decided_by_id, d.decided_at AS decided_at, d.taxonomy_version AS taxonomy_version, d.enforcement AS enforcement, d.reversed_at AS decision_reversed_at, d.reversed_by AS decision_reversed_by, d.reversal_reason AS decision_reversal_reason";

/// Statuses of actions in force (sent or to be sent), which a reversal undoes.
const IN_FORCE: [&str; 5] = ["pending", "delivered", "applied", "failed", "expired"];

/// The enforcement facts worked out before a decision is written.
pub(crate) struct EnforcementPlan {
    version: i64,
    policy: EnforcementPolicy,
    severity: Severity,
    prior_strike_weight: i64,
    account: Option<SubjectRef>,
    assessment: Option<Assessment>,
    override_reason: Option<String>,
    reason_code: Option<String>,
    drafts: Vec<AuditDraft>,
}

impl EnforcementPlan {
    /// The strike this decision leaves, by its severity and version.
    pub(crate) fn strike_rule(&self) -> StrikeRule {
        self.policy.strike_rule(self.severity)
    }
}

/// What deliveries and notices of one decision need to know.
struct DecisionContext {
    decision_id: i64,
    case_id: i64,
    category: String,
    reason_code: Option<String>,
    policy_id: Option<String>,
    language: Option<String>,
    policy: EnforcementPolicy,
}

fn corrupt(what: &str, reason: impl std::fmt::Display) -> StoreError {
    StoreError::Database(format!("stored {what} is unreadable: {reason}"))
}

fn puid(decision_id: i64) -> String {
    format!("warden-sor-{decision_id}")
}

/// The action kind of a stored action.
pub(crate) fn kind_of(action: &ActionRecord) -> ActionKind {
    match action.action_type.as_str() {
        "remove_content" => ActionKind::RemoveContent,
        "warn" => ActionKind::Warn,
        "restrict" => ActionKind::Restrict {
            feature: action.feature.clone().unwrap_or_default(),
        },
        "suspend" => ActionKind::Suspend,
        "ban" => ActionKind::Ban,
        "hold_transaction" => ActionKind::HoldTransaction,
        _ => ActionKind::Label {
            label: action.label.clone().unwrap_or_default(),
        },
    }
}

fn reference_json(subject: &SubjectRef) -> Value {
    json!({"kind": subject.kind.as_str(), "id": subject.id.as_str()})
}

fn reference_from_json(value: &Value) -> Option<SubjectRef> {
    let kind = value.get("kind")?.as_str()?.parse().ok()?;
    let id = warden_domain::PlatformId::parse(value.get("id")?.as_str()?).ok()?;
    Some(SubjectRef::new(kind, id))
}

fn reasons_json(reasons: &[ApprovalReason]) -> Value {
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
fn enforcement_json(e: &DecisionEnforcement) -> Value {
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

async fn current_version(conn: &mut AnyConnection) -> StoreResult<Option<TaxonomyVersionRecord>> {
    sqlx::query(&format!(
        "SELECT {VERSION_COLUMNS} FROM taxonomy_versions ORDER BY version DESC LIMIT 1"
    ))
    .fetch_optional(conn)
    .await?
    .as_ref()
    .map(version_record)
    .transpose()
}

async fn version_by_number(
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
async fn version_in_force(
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

async fn owner_of(
    conn: &mut AnyConnection,
    subject: &SubjectRef,
) -> StoreResult<Option<SubjectRef>> {
    Ok(sqlx::query(
        "SELECT owner_kind, owner_id FROM subjects WHERE kind = $1 AND platform_id = $2",
    )
    .bind(subject.kind.as_str())
    .bind(subject.id.as_str())
    .fetch_optional(conn)
    .await?
    .map(|row| rows::reference_opt(&row, "owner_kind", "owner_id"))
    .transpose()?
    .flatten())
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

/// A decision's severity: the case's when the category stands (signals may
/// have raised it), else the decided category's own.
fn decision_severity(case: &CaseRecord, category: &str, default: Severity) -> Severity {
    if case.category == category {
        case.severity.max(default)
    } else {
        default
    }
}

fn describe(actions: &[ActionSpec]) -> String {
    if actions.is_empty() {
        return "no action".into();
    }
    actions
        .iter()
        .map(|a| match a.duration {
            Some(d) => format!("{} {}", a.kind, format_iso8601_duration(d)),
            None => a.kind.to_string(),
        })
        .collect::<Vec<_>>()
        .join(" + ")
}

impl SqlStore {
    /// Works out a decision's enforcement before it is written: the version,
    /// severity, prior strikes, recommendation and decision rights; refuses
    /// a departure from the matrix without a reason.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn plan_enforcement(
        &self,
        tx: &mut Transaction<'static, Any>,
        case: &CaseRecord,
        input: &DecisionInput,
        extras: &DecisionExtras,
        policy: &CasePolicy,
        owner: Option<&SubjectRef>,
        now: Timestamp,
    ) -> StoreResult<EnforcementPlan> {
        let (version, seeded) = version_in_force(tx, policy, now).await?;
        let category = version.policy.category(&input.category).ok_or_else(|| {
            StoreError::invalid(
                "category",
                format!(
                    "unknown taxonomy code {:?} in taxonomy version {}",
                    input.category, version.version
                ),
            )
        })?;
        let reason_code = match &extras.reason_code {
            None => None,
            Some(code) => {
                if category.reason_codes.iter().any(|r| &r.code == code) {
                    Some(code.clone())
                } else {
                    return Err(StoreError::invalid(
                        "reason_code",
                        format!(
                            "{code:?} is not a reason code of {}; known: {}",
                            category.code,
                            category
                                .reason_codes
                                .iter()
                                .map(|r| r.code.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    ));
                }
            }
        };
        let severity = decision_severity(case, &input.category, category.severity);
        let account = if case.subject.kind == SubjectKind::Account {
            Some(case.subject.clone())
        } else {
            owner.cloned()
        };
        let (prior_strike_weight, tags) = match &account {
            Some(account) => (
                active_strike_weight(tx, account, case.id, now).await?,
                account_tags(&account_attributes(tx, account).await?),
            ),
            None => (0, Vec::new()),
        };
        let assessment = input.violation.then(|| {
            assess(
                &version.policy,
                &Situation {
                    category: &input.category,
                    severity,
                    prior_strike_weight,
                    subject_kind: case.subject.kind,
                    has_account: account.is_some(),
                    account_tags: &tags,
                },
                &input.actions,
            )
        });
        let given = extras
            .override_reason
            .as_deref()
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(str::to_string);
        if given
            .as_ref()
            .is_some_and(|r| r.chars().count() > OVERRIDE_REASON_CHARS_MAX)
        {
            return Err(StoreError::invalid(
                "override_reason",
                format!("must be at most {OVERRIDE_REASON_CHARS_MAX} characters"),
            ));
        }
        let departure = assessment.as_ref().and_then(|a| a.departure);
        let override_reason = match (departure, given) {
            (_, Some(reason)) => Some(reason),
            (Some(_), None) => {
                // The rationale's action section is where the contract asks
                // why the action is proportionate; it serves as the reason.
                let fallback = input.rationale.action.trim();
                if fallback.is_empty() {
                    let assessment = assessment.as_ref().expect("a departure has an assessment");
                    return Err(StoreError::invalid(
                        "override_reason",
                        format!(
                            "the actions ({}) are {} the enforcement matrix's recommendation ({}): say why in override_reason",
                            describe(&input.actions),
                            if departure == Some(Departure::Above) { "above" } else { "below" },
                            describe(&assessment.recommendation)
                        ),
                    ));
                }
                Some(fallback.to_string())
            }
            (None, None) => None,
        };
        Ok(EnforcementPlan {
            version: version.version,
            policy: version.policy,
            severity,
            prior_strike_weight,
            account,
            assessment,
            override_reason,
            reason_code,
            drafts: seeded.into_iter().collect(),
        })
    }

    /// Writes what a decision causes: approvals awaited, deliveries of the
    /// standard actions (and of their end), the statement of reasons, the
    /// notices; on a correction, the reversal of what the old decision put
    /// in force. Returns the enforcement facts and the audit drafts.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn enforce_decision(
        &self,
        tx: &mut Transaction<'static, Any>,
        plan: EnforcementPlan,
        decision_id: i64,
        case: &CaseRecord,
        input: &DecisionInput,
        previous: Option<i64>,
        actions: &mut [ActionRecord],
        actor: &Actor,
        now: Timestamp,
    ) -> StoreResult<(DecisionEnforcement, Vec<AuditDraft>)> {
        let EnforcementPlan {
            version,
            policy,
            severity,
            prior_strike_weight,
            account,
            assessment,
            override_reason,
            reason_code,
            mut drafts,
        } = plan;
        if let Some(previous) = previous {
            drafts.extend(
                self.reverse_decision_actions(
                    tx,
                    previous,
                    &format!("superseded by decision {decision_id}"),
                    actor,
                    now,
                )
                .await?,
            );
        }
        let context = DecisionContext {
            decision_id,
            case_id: case.id.0,
            category: input.category.clone(),
            reason_code: reason_code.clone(),
            policy_id: input.policy.clone(),
            language: case.language.clone(),
            policy,
        };
        let mut approvals = Vec::new();
        for (index, action) in actions.iter_mut().enumerate() {
            let reasons = assessment
                .as_ref()
                .and_then(|a| a.approvals.get(index))
                .cloned()
                .unwrap_or_default();
            if reasons.is_empty() {
                continue;
            }
            sqlx::query(
                "UPDATE actions SET status = $1, expires_at = NULL, approval_reasons = $2, status_at = $3 WHERE id = $4",
            )
            .bind(action_status::PENDING_APPROVAL)
            .bind(reasons_json(&reasons).to_string())
            .bind(ms(now))
            .bind(action.id)
            .execute(&mut **tx)
            .await?;
            action.status = action_status::PENDING_APPROVAL.into();
            action.expires_at = None;
            approvals.push((action.id, reasons));
        }
        for action in actions.iter() {
            if action.status == action_status::PENDING {
                self.put_in_force(tx, &context, action, now).await?;
            }
        }
        let statement_id = self.write_statement(tx, decision_id, now).await?;
        let mut notices = Vec::new();
        for action in actions.iter() {
            if action.status == action_status::PENDING {
                notices.extend(
                    self.notify(
                        tx,
                        &context,
                        action,
                        &action.action_type,
                        statement_id.as_deref(),
                        now,
                    )
                    .await?,
                );
            }
        }
        let enforcement = DecisionEnforcement {
            taxonomy_version: version,
            severity,
            reason_code,
            prior_strike_weight,
            account,
            recommendation: assessment
                .as_ref()
                .map(|a| a.recommendation.clone())
                .unwrap_or_default(),
            departure: assessment.as_ref().and_then(|a| a.departure),
            override_reason,
            approvals,
            statement_id,
            reversal: None,
        };
        sqlx::query("UPDATE decisions SET taxonomy_version = $1, enforcement = $2 WHERE id = $3")
            .bind(version)
            .bind(enforcement_json(&enforcement).to_string())
            .bind(decision_id)
            .execute(&mut **tx)
            .await?;
        drafts.extend(notices.iter().filter(|n| n.status != "queued").map(|n| {
            AuditDraft::new(
                &Actor::system(),
                &format!("notice.{}", n.status),
                "notice",
                n.id,
                Value::Null,
                json!({"decision_id": n.decision_id, "action_id": n.action_id, "unfilled": n.refusal}),
            )
        }));
        Ok((enforcement, drafts))
    }

    /// Queues an action's delivery now and, for a temporary one, its lift
    /// when it ends (written now, so that it survives restarts).
    async fn put_in_force(
        &self,
        tx: &mut Transaction<'static, Any>,
        context: &DecisionContext,
        action: &ActionRecord,
        now: Timestamp,
    ) -> StoreResult<()> {
        let statement = dsa::restricts(&kind_of(action)).then(|| puid(context.decision_id));
        let facts = ActionFacts {
            id: action.id,
            decision_id: context.decision_id,
            case_id: context.case_id,
            action_type: &action.action_type,
            target: &action.target,
            feature: action.feature.as_deref(),
            label: action.label.as_deref(),
            duration_seconds: action.duration_seconds,
            expires_at: action.expires_at,
            category: &context.category,
            reason_code: context.reason_code.as_deref(),
            statement_id: statement.as_deref(),
        };
        enqueue_action(
            tx,
            DeliveryKind::Apply,
            &facts,
            &action.action_type,
            now,
            now,
        )
        .await?;
        if let Some(expires_at) = action.expires_at {
            enqueue_action(
                tx,
                DeliveryKind::Lift,
                &facts,
                &action.action_type,
                expires_at,
                now,
            )
            .await?;
        }
        Ok(())
    }

    /// Renders and queues the notice of `action` (template type `kind`: the
    /// action type, or `reversal`). A notice with an unfilled variable is
    /// stored as refused and not sent; without a template it is not sent.
    #[allow(clippy::too_many_arguments)]
    async fn notify(
        &self,
        tx: &mut Transaction<'static, Any>,
        context: &DecisionContext,
        action: &ActionRecord,
        kind: &str,
        statement_id: Option<&str>,
        now: Timestamp,
    ) -> StoreResult<Option<NoticeRecord>> {
        let recipient = if action.target.kind == SubjectKind::Account {
            Some(action.target.clone())
        } else {
            owner_of(tx, &action.target).await?
        };
        let Some(recipient) = recipient else {
            return Ok(None);
        };
        let language = context
            .language
            .clone()
            .filter(|l| !l.is_empty())
            .unwrap_or_else(|| "en".into());
        let primary = language
            .split(['-', '_'])
            .next()
            .unwrap_or("en")
            .to_lowercase();
        let mut languages = vec![language.clone(), primary, "en".to_string()];
        languages.dedup();
        let templates = sqlx::query(
            "SELECT id, action_type, category, language, subject, body, updated_by, updated_at FROM notice_templates WHERE action_type = $1 AND (category = $2 OR category = '*') LIMIT 100",
        )
        .bind(kind)
        .bind(&context.category)
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(template_record)
        .collect::<StoreResult<Vec<_>>>()?;
        let chosen = languages.iter().find_map(|lang| {
            templates
                .iter()
                .filter(|t| t.language.eq_ignore_ascii_case(lang))
                .max_by_key(|t| t.category != "*")
        });
        let category_name = context
            .policy
            .category(&context.category)
            .map(|c| c.name.clone())
            .unwrap_or_else(|| context.category.clone());
        let mut values: BTreeMap<String, String> = BTreeMap::new();
        let mut set = |name: &str, value: Option<String>| {
            if let Some(value) = value {
                values.insert(name.to_string(), value);
            }
        };
        set("action", Some(action.action_type.clone()));
        set(
            "action_name",
            Some(
                notice::action_name(if kind == notice::REVERSAL {
                    &action.action_type
                } else {
                    kind
                })
                .to_string(),
            ),
        );
        set("category", Some(context.category.clone()));
        set("category_name", Some(category_name));
        set("reason_code", context.reason_code.clone());
        set(
            "reason_name",
            context.reason_code.as_ref().and_then(|code| {
                context
                    .policy
                    .category(&context.category)?
                    .reason_codes
                    .iter()
                    .find(|r| &r.code == code)
                    .map(|r| r.name.clone())
            }),
        );
        set("policy", context.policy_id.clone());
        set(
            "duration",
            action
                .duration_seconds
                .map(|s| format_iso8601_duration(Duration::seconds(s))),
        );
        set(
            "end_date",
            action.expires_at.map(|t| t.format("%Y-%m-%d").to_string()),
        );
        set("feature", action.feature.clone());
        set("label", action.label.clone());
        set(
            "subject_kind",
            Some(action.target.kind.as_str().to_string()),
        );
        set("subject_id", Some(action.target.id.as_str().to_string()));
        set("account_id", Some(recipient.id.as_str().to_string()));
        set("decision_id", Some(context.decision_id.to_string()));
        set("statement_id", statement_id.map(str::to_string));
        set("date", Some(now.format("%Y-%m-%d").to_string()));
        let (status, subject, body, refusal, template_id) = match chosen {
            None => ("no_template", None, None, Vec::new(), None),
            Some(template) => match notice::render(&template.subject, &template.body, &values) {
                Ok(rendered) => (
                    "queued",
                    Some(rendered.subject),
                    Some(rendered.body),
                    Vec::new(),
                    Some(template.id),
                ),
                Err(missing) => ("refused", None, None, missing, Some(template.id)),
            },
        };
        let used_language = chosen.map_or(language, |t| t.language.clone());
        let notice_id: i64 = sqlx::query_scalar(
            "INSERT INTO notices (decision_id, action_id, template_id, recipient_kind, recipient_id, language, subject, body, status, refusal, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        )
        .bind(context.decision_id)
        .bind(action.id)
        .bind(template_id)
        .bind(recipient.kind.as_str())
        .bind(recipient.id.as_str())
        .bind(&used_language)
        .bind(subject.clone())
        .bind(body.clone())
        .bind(status)
        .bind((!refusal.is_empty()).then(|| json!(refusal).to_string()))
        .bind(ms(now))
        .fetch_one(&mut **tx)
        .await?;
        if status == "queued" {
            let key = webhook::idempotency_key(DeliveryKind::Notice, notice_id, 0);
            let payload = webhook::notice_body(
                &key,
                &NoticeFacts {
                    id: notice_id,
                    decision_id: context.decision_id,
                    action_id: Some(action.id),
                    recipient: &recipient,
                    language: &used_language,
                    subject: subject.as_deref().unwrap_or_default(),
                    body: body.as_deref().unwrap_or_default(),
                },
            );
            enqueue(
                tx,
                DeliveryKind::Notice,
                None,
                Some(notice_id),
                "notice",
                &key,
                &payload,
                now,
                now,
            )
            .await?;
        }
        Ok(Some(NoticeRecord {
            id: notice_id,
            decision_id: context.decision_id,
            action_id: Some(action.id),
            template_id,
            recipient,
            language: used_language,
            subject,
            body,
            status: status.into(),
            refusal,
            created_at: now,
        }))
    }

    /// Writes the statement of reasons of a decision once nothing of it
    /// waits for approval and something restricting is in force. The
    /// statement is validated by the Transparency Database's rules first; a
    /// statement that would be refused is an error and nothing is written.
    async fn write_statement(
        &self,
        tx: &mut Transaction<'static, Any>,
        decision_id: i64,
        now: Timestamp,
    ) -> StoreResult<Option<String>> {
        let existing: Option<String> =
            sqlx::query_scalar("SELECT puid FROM dsa_statements WHERE decision_id = $1")
                .bind(decision_id)
                .fetch_optional(&mut **tx)
                .await?;
        if existing.is_some() {
            return Ok(existing);
        }
        let waiting: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM actions WHERE decision_id = $1 AND status = 'pending_approval'",
        )
        .bind(decision_id)
        .fetch_one(&mut **tx)
        .await?;
        if waiting > 0 {
            return Ok(None);
        }
        let in_force = sqlx::query(&format!(
            "SELECT {} FROM actions WHERE decision_id = $1 AND status IN ('pending', 'delivered', 'applied') ORDER BY id",
            rows::ACTION_COLUMNS
        ))
        .bind(decision_id)
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(rows::action)
        .collect::<StoreResult<Vec<_>>>()?;
        let restrictions: Vec<Restriction> = in_force
            .iter()
            .map(|a| Restriction {
                kind: kind_of(a),
                ends_on: a.expires_at.map(|t| t.date_naive()),
            })
            .filter(|r| dsa::restricts(&r.kind))
            .collect();
        if restrictions.is_empty() {
            return Ok(None);
        }
        let decision = sqlx::query(
            "SELECT d.category, d.policy, d.rationale, d.decided_by_id, d.taxonomy_version, d.enforcement, c.id AS case_id, c.subject_kind, c.subject_id, c.language, c.signal_count, c.opened_at FROM decisions d JOIN cases c ON c.id = d.case_id WHERE d.id = $1",
        )
        .bind(decision_id)
        .fetch_one(&mut **tx)
        .await?;
        let version: Option<i64> = get(&decision, "taxonomy_version")?;
        let version = match version {
            Some(v) => version_by_number(tx, v).await?,
            None => current_version(tx).await?,
        }
        .ok_or_else(|| corrupt("decision", "no taxonomy version"))?;
        let category_code: String = get(&decision, "category")?;
        let category = version
            .policy
            .category(&category_code)
            .ok_or_else(|| corrupt("decision", "category missing from its taxonomy version"))?;
        let subject = rows::reference(&decision, "subject_kind", "subject_id")?;
        let case_id: i64 = get(&decision, "case_id")?;
        let subject_row = sqlx::query(
            "SELECT media, created_at, first_seen_at, owner_kind, owner_id, attributes FROM subjects WHERE kind = $1 AND platform_id = $2",
        )
        .bind(subject.kind.as_str())
        .bind(subject.id.as_str())
        .fetch_optional(&mut **tx)
        .await?;
        let mut media_types = Vec::new();
        let mut content_date = rows::time(&decision, "opened_at")?;
        let mut account = (subject.kind == SubjectKind::Account).then(|| subject.clone());
        if let Some(row) = &subject_row {
            if let Some(items) = rows::json(row, "media")?.as_array() {
                media_types.extend(
                    items
                        .iter()
                        .filter_map(|m| m.get("mime").and_then(Value::as_str))
                        .map(str::to_string),
                );
            }
            content_date =
                rows::time_opt(row, "created_at")?.unwrap_or(rows::time(row, "first_seen_at")?);
            if account.is_none() {
                account = rows::reference_opt(row, "owner_kind", "owner_id")?;
            }
        }
        let account_type = match &account {
            Some(account) => account_attributes(tx, account)
                .await?
                .get("account_type")
                .and_then(Value::as_str)
                .map(str::to_lowercase),
            None => None,
        };
        let sources: Vec<ReportSource> = sqlx::query_scalar::<_, String>(
            "SELECT DISTINCT source FROM reports WHERE case_id = $1 LIMIT 10",
        )
        .bind(case_id)
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .filter_map(|s| s.parse().ok())
        .collect();
        let signal_count: i64 = get(&decision, "signal_count")?;
        let decided_by_id: Option<i64> = get(&decision, "decided_by_id")?;
        let rationale = rows::rationale_from_json(&rows::json(&decision, "rationale")?);
        let policy_id: Option<String> = get(&decision, "policy")?;
        let statement_id = puid(decision_id);
        let statement = dsa::build_statement(&StatementInput {
            puid: statement_id.clone(),
            restrictions,
            category,
            policy: policy_id.as_deref(),
            rationale: &rationale,
            reference_url: category
                .reference_url
                .as_deref()
                .or(version.policy.reference_url.as_deref()),
            territorial_scope: &version.policy.territorial_scope,
            subject_kind: subject.kind,
            media_types,
            account_type,
            language: get(&decision, "language")?,
            content_date: content_date.date_naive(),
            application_date: now.date_naive(),
            automated_detection: signal_count > 0 || sources.contains(&ReportSource::AutomatedFlag),
            sources,
            automated_decision: decided_by_id.is_none(),
        });
        let violations = dsa::validate(&statement, Endpoint::Batch);
        if let Some((field, messages)) = violations.0.first() {
            return Err(StoreError::invalid(
                format!("statement_of_reasons.{field}"),
                format!(
                    "the Transparency Database would refuse this decision's statement of reasons: {}",
                    messages.join(" ")
                ),
            ));
        }
        sqlx::query(
            "INSERT INTO dsa_statements (decision_id, puid, statement, created_at, submission_status, submission_attempts) VALUES ($1, $2, $3, $4, 'unsubmitted', 0)",
        )
        .bind(decision_id)
        .bind(&statement_id)
        .bind(statement.to_string())
        .bind(ms(now))
        .execute(&mut **tx)
        .await?;
        // Note the statement on the decision.
        let enforcement: Option<String> = get(&decision, "enforcement")?;
        if let Some(text) = enforcement {
            if let Ok(mut value) = serde_json::from_str::<Value>(&text) {
                value["statement_id"] = json!(statement_id);
                sqlx::query("UPDATE decisions SET enforcement = $1 WHERE id = $2")
                    .bind(value.to_string())
                    .bind(decision_id)
                    .execute(&mut **tx)
                    .await?;
            }
        }
        Ok(Some(statement_id))
    }

    /// Loads what deliveries and notices of a stored decision need.
    async fn decision_context(
        &self,
        tx: &mut Transaction<'static, Any>,
        decision_id: i64,
    ) -> StoreResult<(DecisionContext, Option<i64>)> {
        let row = sqlx::query(
            "SELECT d.case_id, d.category, d.policy, d.decided_by_id, d.taxonomy_version, d.enforcement, c.language FROM decisions d JOIN cases c ON c.id = d.case_id WHERE d.id = $1",
        )
        .bind(decision_id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("decision {decision_id}")))?;
        let version: Option<i64> = get(&row, "taxonomy_version")?;
        let version = match version {
            Some(v) => version_by_number(tx, v).await?,
            None => current_version(tx).await?,
        };
        let policy = match version {
            Some(v) => v.policy,
            None => EnforcementPolicy::default_for(&warden_domain::taxonomy::Taxonomy::default()),
        };
        let enforcement: Option<String> = get(&row, "enforcement")?;
        let reason_code = enforcement
            .and_then(|t| serde_json::from_str::<Value>(&t).ok())
            .and_then(|v| {
                v.get("reason_code")
                    .and_then(Value::as_str)
                    .map(str::to_string)
            });
        Ok((
            DecisionContext {
                decision_id,
                case_id: get(&row, "case_id")?,
                category: get(&row, "category")?,
                reason_code,
                policy_id: get(&row, "policy")?,
                language: get(&row, "language")?,
                policy,
            },
            get(&row, "decided_by_id")?,
        ))
    }

    /// Reverses one action inside `tx`: cancels what was not yet sent,
    /// queues the undoing of what may have reached the platform, and a
    /// reversal notice when the user may have been told.
    async fn reverse_in_tx(
        &self,
        tx: &mut Transaction<'static, Any>,
        context: &DecisionContext,
        action: &ActionRecord,
        reason: &str,
        actor: &Actor,
        now: Timestamp,
    ) -> StoreResult<AuditDraft> {
        let apply: Option<AnyRow> = sqlx::query(
            "SELECT id, status, attempts FROM outbox WHERE action_id = $1 AND kind = 'action.apply' ORDER BY id LIMIT 1",
        )
        .bind(action.id)
        .fetch_optional(&mut **tx)
        .await?;
        let mut reached = true;
        if let Some(row) = &apply {
            let status: String = get(row, "status")?;
            let attempts: i64 = get(row, "attempts")?;
            if status == delivery_status::PENDING && attempts == 0 {
                sqlx::query(
                    "UPDATE outbox SET status = 'cancelled', updated_at = $1 WHERE id = $2",
                )
                .bind(ms(now))
                .bind(get::<i64>(row, "id")?)
                .execute(&mut **tx)
                .await?;
                reached = false;
            }
        }
        sqlx::query("UPDATE outbox SET status = 'cancelled', updated_at = $1 WHERE action_id = $2 AND kind = 'action.lift' AND status = 'pending'")
            .bind(ms(now))
            .bind(action.id)
            .execute(&mut **tx)
            .await?;
        let unsent_notices = sqlx::query("UPDATE outbox SET status = 'cancelled', updated_at = $1 WHERE kind = 'notice' AND status = 'pending' AND attempts = 0 AND notice_id IN (SELECT id FROM notices WHERE action_id = $2)")
            .bind(ms(now))
            .bind(action.id)
            .execute(&mut **tx)
            .await?
            .rows_affected();
        let notices_sent: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox o JOIN notices n ON n.id = o.notice_id WHERE n.action_id = $1 AND o.status <> 'cancelled'")
            .bind(action.id)
            .fetch_one(&mut **tx)
            .await?;
        if reached {
            let facts = ActionFacts {
                id: action.id,
                decision_id: context.decision_id,
                case_id: context.case_id,
                action_type: &action.action_type,
                target: &action.target,
                feature: action.feature.as_deref(),
                label: action.label.as_deref(),
                duration_seconds: action.duration_seconds,
                expires_at: action.expires_at,
                category: &context.category,
                reason_code: context.reason_code.as_deref(),
                statement_id: None,
            };
            enqueue_action(
                tx,
                DeliveryKind::Reverse,
                &facts,
                &action.action_type,
                now,
                now,
            )
            .await?;
        }
        sqlx::query(
            "UPDATE actions SET status = 'reversed', reversed_at = $1, reversed_by = $2, reversal_reason = $3, status_at = $1 WHERE id = $4",
        )
        .bind(ms(now))
        .bind(&actor.name)
        .bind(rows::stored_text(reason).into_owned())
        .bind(action.id)
        .execute(&mut **tx)
        .await?;
        if reached || notices_sent > 0 {
            self.notify(tx, context, action, notice::REVERSAL, None, now)
                .await?;
        }
        Ok(AuditDraft::new(
            actor,
            "action.reverse",
            "action",
            action.id,
            json!({"status": action.status}),
            json!({"status": action_status::REVERSED, "reason": reason, "undo_sent": reached, "unsent_notices_cancelled": unsent_notices}),
        ))
    }

    /// Reverses what a decision put in force and rejects what still waits.
    async fn reverse_decision_actions(
        &self,
        tx: &mut Transaction<'static, Any>,
        decision_id: i64,
        reason: &str,
        actor: &Actor,
        now: Timestamp,
    ) -> StoreResult<Vec<AuditDraft>> {
        let actions = sqlx::query(&format!(
            "SELECT {} FROM actions WHERE decision_id = $1 ORDER BY id",
            rows::ACTION_COLUMNS
        ))
        .bind(decision_id)
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(rows::action)
        .collect::<StoreResult<Vec<_>>>()?;
        let (context, _) = self.decision_context(tx, decision_id).await?;
        let mut drafts = Vec::new();
        for action in &actions {
            if action.status == action_status::PENDING_APPROVAL {
                sqlx::query("UPDATE actions SET status = 'rejected', approval_by = $1, approval_by_id = $2, approval_at = $3, approval_note = $4, status_at = $3 WHERE id = $5")
                    .bind(&actor.name)
                    .bind(actor.user_id)
                    .bind(ms(now))
                    .bind(rows::stored_text(reason).into_owned())
                    .bind(action.id)
                    .execute(&mut **tx)
                    .await?;
                drafts.push(AuditDraft::new(
                    actor,
                    "action.reject",
                    "action",
                    action.id,
                    json!({"status": action.status}),
                    json!({"status": action_status::REJECTED, "note": reason}),
                ));
            } else if IN_FORCE.contains(&action.status.as_str()) {
                drafts.push(
                    self.reverse_in_tx(tx, &context, action, reason, actor, now)
                        .await?,
                );
            }
        }
        Ok(drafts)
    }

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
                approved: action.status != action_status::REJECTED,
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

    async fn locked_action(
        &self,
        tx: &mut Transaction<'static, Any>,
        action_id: i64,
    ) -> StoreResult<ActionRecord> {
        let row = sqlx::query(&format!(
            "SELECT {} FROM actions WHERE id = $1{}",
            rows::ACTION_COLUMNS,
            self.backend.for_update()
        ))
        .bind(action_id)
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("action {action_id}")))?;
        rows::action(&row)
    }
}

/// Queues one action delivery.
async fn enqueue_action(
    tx: &mut Transaction<'static, Any>,
    kind: DeliveryKind,
    facts: &ActionFacts<'_>,
    endpoint_key: &str,
    due: Timestamp,
    now: Timestamp,
) -> StoreResult<i64> {
    let key = webhook::idempotency_key(kind, facts.id, 0);
    let body = webhook::action_body(kind, &key, facts);
    enqueue(
        tx,
        kind,
        Some(facts.id),
        None,
        endpoint_key,
        &key,
        &body,
        due,
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
        "INSERT INTO outbox (kind, action_id, notice_id, endpoint_key, idempotency_key, body, status, attempts, replays, next_attempt_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, 0, $7, $8, $8) RETURNING id",
    )
    .bind(kind.as_str())
    .bind(action_id)
    .bind(notice_id)
    .bind(endpoint_key)
    .bind(key)
    .bind(body.to_string())
    .bind(ms(due))
    .bind(ms(now))
    .fetch_one(&mut **tx)
    .await?)
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
        id: CaseId,
        expected_version: i64,
        input: DecisionInput,
        extras: DecisionExtras,
        policy: &CasePolicy,
        may_correct: bool,
        now: Timestamp,
    ) -> StoreResult<DecisionRecord> {
        self.decide_impl(
            actor,
            id,
            expected_version,
            input,
            &extras,
            policy,
            may_correct,
            now,
        )
        .await
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
        let severity = decision_severity(&case, &code, category.severity);
        let account = if case.subject.kind == SubjectKind::Account {
            Some(case.subject.clone())
        } else {
            owner_of(&mut conn, &case.subject).await?
        };
        let (prior_strike_weight, tags) = match &account {
            Some(account) => (
                active_strike_weight(&mut conn, account, case.id, now).await?,
                account_tags(&account_attributes(&mut conn, account).await?),
            ),
            None => (0, Vec::new()),
        };
        let situation = Situation {
            category: &code,
            severity,
            prior_strike_weight,
            subject_kind: case.subject.kind,
            has_account: account.is_some(),
            account_tags: &tags,
        };
        let recommendation = assess(&policy_doc, &situation, &[]).recommendation;
        let approvals = assess(&policy_doc, &situation, &recommendation).approvals;
        Ok(RecommendationRecord {
            case_id,
            category: code,
            severity,
            taxonomy_version: version,
            account,
            account_tags: tags,
            prior_strike_weight,
            recommendation,
            approvals,
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
        approve: bool,
        note: &str,
        now: Timestamp,
    ) -> StoreResult<ActionDetail> {
        let mut tx = self.writer.begin().await?;
        let mut action = self.locked_action(&mut tx, action_id).await?;
        if action.status != action_status::PENDING_APPROVAL {
            return Err(StoreError::Conflict(format!(
                "action {action_id} is {}, not waiting for approval",
                action.status
            )));
        }
        let (context, decided_by_id) = self.decision_context(&mut tx, action.decision_id).await?;
        if decided_by_id.is_some() && decided_by_id == actor.user_id {
            return Err(StoreError::Conflict(format!(
                "you ordered action {action_id}; another lead must approve or reject it"
            )));
        }
        let before = json!({"status": action.status});
        if approve {
            action.expires_at = action.duration_seconds.map(|s| now + Duration::seconds(s));
            action.status = action_status::PENDING.into();
            sqlx::query("UPDATE actions SET status = 'pending', expires_at = $1, approval_by = $2, approval_by_id = $3, approval_at = $4, approval_note = $5, status_at = $4 WHERE id = $6")
                .bind(action.expires_at.map(ms))
                .bind(&actor.name)
                .bind(actor.user_id)
                .bind(ms(now))
                .bind(rows::stored_text(note).into_owned())
                .bind(action_id)
                .execute(&mut *tx)
                .await?;
            self.put_in_force(&mut tx, &context, &action, now).await?;
        } else {
            sqlx::query("UPDATE actions SET status = 'rejected', approval_by = $1, approval_by_id = $2, approval_at = $3, approval_note = $4, status_at = $3 WHERE id = $5")
                .bind(&actor.name)
                .bind(actor.user_id)
                .bind(ms(now))
                .bind(rows::stored_text(note).into_owned())
                .bind(action_id)
                .execute(&mut *tx)
                .await?;
        }
        let statement_id = self
            .write_statement(&mut tx, action.decision_id, now)
            .await?;
        let mut drafts = vec![AuditDraft::new(
            actor,
            if approve {
                "action.approve"
            } else {
                "action.reject"
            },
            "action",
            action_id,
            before,
            json!({"status": if approve { action_status::PENDING } else { action_status::REJECTED }, "note": note, "expires_at": action.expires_at.map(|t| t.to_rfc3339()), "statement_id": statement_id}),
        )];
        if approve {
            if let Some(notice) = self
                .notify(
                    &mut tx,
                    &context,
                    &action,
                    &action.action_type,
                    statement_id.as_deref(),
                    now,
                )
                .await?
            {
                if notice.status != "queued" {
                    drafts.push(AuditDraft::new(
                        &Actor::system(),
                        &format!("notice.{}", notice.status),
                        "notice",
                        notice.id,
                        Value::Null,
                        json!({"action_id": action_id, "unfilled": notice.refusal}),
                    ));
                }
            }
        }
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
        let action = self.locked_action(&mut tx, action_id).await?;
        if !IN_FORCE.contains(&action.status.as_str()) {
            return Err(StoreError::Conflict(match action.status.as_str() {
                action_status::PENDING_APPROVAL => {
                    format!("action {action_id} waits for approval; reject it instead")
                }
                status => format!("action {action_id} is {status}: there is nothing to reverse"),
            }));
        }
        let (context, _) = self.decision_context(&mut tx, action.decision_id).await?;
        let draft = self
            .reverse_in_tx(&mut tx, &context, &action, reason, actor, now)
            .await?;
        self.append_audit(&mut tx, vec![draft], now).await?;
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
        let row = sqlx::query(&format!(
            "SELECT case_id, reversed_at, superseded_by FROM decisions WHERE id = $1{}",
            self.backend.for_update()
        ))
        .bind(decision_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("decision {decision_id}")))?;
        if rows::time_opt(&row, "reversed_at")?.is_some() {
            return Err(StoreError::Conflict(format!(
                "decision {decision_id} is already reversed"
            )));
        }
        if get::<Option<i64>>(&row, "superseded_by")?.is_some() {
            return Err(StoreError::Conflict(format!(
                "decision {decision_id} was superseded by a correction; reverse that one"
            )));
        }
        let case_id: i64 = get(&row, "case_id")?;
        let mut drafts = self
            .reverse_decision_actions(&mut tx, decision_id, reason, actor, now)
            .await?;
        let voided = sqlx::query(
            "UPDATE strikes SET voided_at = $1 WHERE decision_id = $2 AND voided_at IS NULL",
        )
        .bind(ms(now))
        .bind(decision_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        sqlx::query("UPDATE decisions SET reversed_at = $1, reversed_by = $2, reversal_reason = $3 WHERE id = $4")
            .bind(ms(now))
            .bind(&actor.name)
            .bind(rows::stored_text(reason).into_owned())
            .bind(decision_id)
            .execute(&mut *tx)
            .await?;
        drafts.push(AuditDraft::new(
            actor,
            "decision.reverse",
            "decision",
            decision_id,
            Value::Null,
            json!({"case_id": case_id, "reason": reason, "strikes_removed": voided}),
        ));
        self.append_audit(&mut tx, drafts, now).await?;
        tx.commit().await?;
        let detail = self
            .case_detail_impl(CaseId(case_id))
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
