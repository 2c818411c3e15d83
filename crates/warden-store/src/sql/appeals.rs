//! The SQL of [`AppealStore`]: appeal intake, the appeal of a case, an
//! appeal's decision and the list. Intake loads its facts and writes what
//! `plan_appeal_intake` plans; a decision loads what
//! `plan_appeal_decision` needs (with the enforcement facts of
//! `decision_facts.rs`) and writes its plan through `decision_writes.rs`.
//! Nothing here decides anything.

use async_trait::async_trait;
use serde_json::{json, Value};
use sqlx::{Any, AnyConnection, Transaction};

use warden_domain::appeal::{
    plan_appeal_decision, plan_appeal_intake, AppealDecideCommand, AppealError, AppealFacts,
    AppealId, AppealIntakeFacts, AppealIntakePlan, AppealItem, AppealParty, AppealPlan,
    AppealRecord, AppealVerdict, NewAppeal, OpenAppeal, OpenAppealPlan, OriginalDecision,
};
use warden_domain::case::CaseStatus;
use warden_domain::decision::DecisionInput;
use warden_domain::enforcement::{
    DecideCommand, DecisionMode, DecisionPlan, PlanError, SupersededDecision,
};
use warden_domain::ids::{ActionId, DecisionId, LanguageTag, PlatformId, UserId, Version};
use warden_domain::intake::Fingerprint;
use warden_domain::limits::{APPEAL_APPELLANTS_MAX, PAGE_SIZE_MAX};
use warden_domain::notice::APPEAL_KINDS;
use warden_domain::{CaseId, Timestamp};

use super::cases::{clear_lease, load_case, Change};
use super::decision_facts::{
    self, active_strikes, case_facts, decision_context, ordered_actions, refused,
};
use super::decision_writes::{self, insert_notice, WrittenDecision};
use super::free_text::stored_text;
use super::wrappers::{
    rationale_to_json, records, DbAppeal, DbAppealItem, DbAppealedDecision,
    APPEALED_DECISION_COLUMNS, APPEAL_COLUMNS, APPEAL_ITEM_COLUMNS,
};
use super::{ms, AuditDraft, Backend, SqlStore};
use crate::{
    Actor, AppealFilter, AppealIntakeOutcome, AppealRules, AppealStatus, AppealStore, AppealView,
    CasePolicy, CaseRecord, StoreError, StoreResult,
};

/// An appeal planner's refusal as a store error.
fn appeal_refused(error: AppealError) -> StoreError {
    match error {
        AppealError::Refused(refusal) => {
            StoreError::Forbidden(format!("{refusal} ({})", refusal.code()))
        }
        AppealError::Conflict(message) => StoreError::Conflict(message),
        AppealError::Invalid(errors) => refused(PlanError::Invalid(errors)),
    }
}

/// The appeal where `condition` (on `appeals`, with `$1`) holds, with its items.
async fn load_appeal(
    conn: &mut AnyConnection,
    condition: &str,
    value: i64,
    lock: &str,
) -> StoreResult<Option<AppealView>> {
    let Some(DbAppeal(mut appeal)) = sqlx::query_as::<_, DbAppeal>(&format!(
        "SELECT {APPEAL_COLUMNS} FROM appeals WHERE {condition} = $1{lock}"
    ))
    .bind(value)
    .fetch_optional(&mut *conn)
    .await?
    else {
        return Ok(None);
    };
    appeal.items = appeal_items(conn, appeal.id).await?;
    Ok(Some(appeal))
}

pub(super) async fn appeal_items(
    conn: &mut AnyConnection,
    appeal: i64,
) -> StoreResult<Vec<crate::AppealItemRecord>> {
    let rows = sqlx::query_as::<_, DbAppealItem>(&format!(
        "SELECT {APPEAL_ITEM_COLUMNS} FROM appeal_items WHERE appeal_id = $1 ORDER BY id LIMIT {APPEAL_APPELLANTS_MAX}"
    ))
    .bind(appeal)
    .fetch_all(conn)
    .await?;
    Ok(records(rows).into_iter().map(|(_, item)| item).collect())
}

/// What intake needs to plan an appeal. Locks the decision named.
async fn intake_facts(
    tx: &mut Transaction<'static, Any>,
    appeal: &NewAppeal,
    lock: &str,
) -> StoreResult<AppealIntakeFacts> {
    let same_id: Option<String> =
        sqlx::query_scalar("SELECT fingerprint FROM appeal_items WHERE platform_id = $1")
            .bind(appeal.id.as_str())
            .fetch_optional(&mut **tx)
            .await?;
    if let Some(stored) = same_id {
        return Ok(AppealIntakeFacts {
            same_id: Some(Fingerprint(stored)),
            decision: None,
            open_appeal: None,
        });
    }
    let decision = sqlx::query_as::<_, DbAppealedDecision>(&format!(
        "SELECT {APPEALED_DECISION_COLUMNS} FROM decisions d JOIN cases c ON c.id = d.case_id LEFT JOIN users u ON u.id = d.decided_by_id WHERE d.id = $1{lock}"
    ))
    .bind(appeal.decision.0)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(DbAppealedDecision(mut decision)) = decision else {
        return Ok(AppealIntakeFacts {
            same_id: None,
            decision: None,
            open_appeal: None,
        });
    };
    let actions: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM actions WHERE decision_id = $1 ORDER BY id")
            .bind(decision.id.0)
            .fetch_all(&mut **tx)
            .await?;
    decision.actions = actions.into_iter().map(ActionId).collect();
    let open: Option<(i64, i64, i64)> = sqlx::query_as(
        "SELECT a.id, a.case_id, (SELECT COUNT(*) FROM appeal_items i WHERE i.appeal_id = a.id) AS appellants FROM appeals a WHERE a.decision_id = $1 AND a.outcome IS NULL",
    )
    .bind(decision.id.0)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(AppealIntakeFacts {
        same_id: None,
        decision: Some(decision),
        open_appeal: open.map(|(id, case, appellants)| OpenAppeal {
            id: AppealId(id),
            case: CaseId(case),
            appellants: usize::try_from(appellants).unwrap_or(usize::MAX),
        }),
    })
}

/// Inserts one appellant's item.
async fn insert_item(
    tx: &mut Transaction<'static, Any>,
    appeal: i64,
    item: &NewAppeal,
    appealed_at: Timestamp,
    now: Timestamp,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO appeal_items (platform_id, appeal_id, fingerprint, action_id, appellant_kind, appellant_id, statement, language, appealed_at, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(item.id.as_str())
    .bind(appeal)
    .bind(item.fingerprint().0)
    .bind(item.action.map(|a| a.0))
    .bind(item.appellant.kind.as_str())
    .bind(item.appellant.id.as_str())
    .bind(stored_text(&item.statement).into_owned())
    .bind(item.language.as_ref().map(|l| l.as_str().to_string()))
    .bind(ms(appealed_at))
    .bind(ms(now))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Opens the appeal case and the appeal; returns the appeal's id.
async fn open_appeal(
    tx: &mut Transaction<'static, Any>,
    plan: &OpenAppealPlan,
    actor: &Actor,
    now: Timestamp,
) -> StoreResult<i64> {
    let case: i64 = sqlx::query_scalar(
        "INSERT INTO cases (subject_kind, subject_id, category, queue, severity, status, priority, version, language, opened_at, updated_at, first_touch_due_at, resolve_due_at, report_count, signal_count, kind) VALUES ($1, $2, $3, $4, $5, $6, 0, 1, $7, $8, $8, $9, $10, 0, 0, $11) RETURNING id",
    )
    .bind(plan.subject.kind.as_str())
    .bind(plan.subject.id.as_str())
    .bind(&plan.category)
    .bind(&plan.queue)
    .bind(plan.severity.rank())
    .bind(CaseStatus::New.as_str())
    .bind(plan.item.language.as_ref().map(|l| l.as_str().to_string()))
    .bind(ms(now))
    .bind(ms(plan.deadlines.first_touch_due_at))
    .bind(ms(plan.deadlines.resolve_due_at))
    .bind(plan.kind.as_str())
    .fetch_one(&mut **tx)
    .await?;
    sqlx::query(
        "INSERT INTO case_transitions (case_id, from_status, to_status, actor, at, reason) VALUES ($1, NULL, $2, $3, $4, 'appeal received')",
    )
    .bind(case)
    .bind(CaseStatus::New.as_str())
    .bind(&actor.name)
    .bind(ms(now))
    .execute(&mut **tx)
    .await?;
    Ok(sqlx::query_scalar(
        "INSERT INTO appeals (case_id, decision_id, original_case_id, decider_id, decider_role, opened_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(case)
    .bind(plan.decision.0)
    .bind(plan.original_case.0)
    .bind(plan.decider.map(|d| d.user.0))
    .bind(plan.decider.map(|d| d.role.as_str()))
    .bind(ms(now))
    .fetch_one(&mut **tx)
    .await?)
}

/// Writes an intake plan; returns the appeal's id and whether it opened.
async fn write_intake(
    tx: &mut Transaction<'static, Any>,
    plan: &AppealIntakePlan,
    actor: &Actor,
    now: Timestamp,
) -> StoreResult<Option<(i64, bool, AuditDraft)>> {
    let (appeal, opened, item, appealed_at) = match plan {
        AppealIntakePlan::Duplicate | AppealIntakePlan::Conflict => return Ok(None),
        AppealIntakePlan::Open(open) => (
            open_appeal(tx, open, actor, now).await?,
            true,
            &open.item,
            open.appealed_at,
        ),
        AppealIntakePlan::Join {
            appeal,
            case,
            item,
            appealed_at,
        } => {
            sqlx::query("UPDATE cases SET version = version + 1, updated_at = $2 WHERE id = $1")
                .bind(case.0)
                .bind(ms(now))
                .execute(&mut **tx)
                .await?;
            (appeal.0, false, item, *appealed_at)
        }
    };
    insert_item(tx, appeal, item, appealed_at, now).await?;
    let draft = AuditDraft::new(
        actor,
        if opened { "appeal.open" } else { "appeal.join" },
        "appeal",
        appeal,
        Value::Null,
        json!({
            "item": item.id.as_str(),
            "decision_id": item.decision.0,
            "action_id": item.action.map(|a| a.0),
            "appellant": {"kind": item.appellant.kind.as_str(), "id": item.appellant.id.as_str()},
        }),
    );
    Ok(Some((appeal, opened, draft)))
}

/// The appeal as the planner reads it.
fn appeal_record(appeal: &AppealView) -> StoreResult<AppealRecord> {
    let mut items = Vec::with_capacity(appeal.items.len());
    for item in &appeal.items {
        items.push(AppealItem {
            id: PlatformId::from_stored(item.platform_id.clone()).map_err(|_| {
                StoreError::Corrupt {
                    table: "appeal_items".into(),
                    column: "platform_id".into(),
                    value: item.platform_id.clone(),
                }
            })?,
            appellant: item.appellant.clone(),
            // A tag intake accepted reads back; anything else as none.
            language: item
                .language
                .as_deref()
                .and_then(|l| LanguageTag::parse(l).ok()),
            appealed_at: item.appealed_at,
        });
    }
    Ok(AppealRecord {
        id: AppealId(appeal.id),
        decision: DecisionId(appeal.decision_id),
        items,
        outcome: appeal.outcome,
    })
}

/// The decision command whose facts a modification (or the reversal
/// templates of an overturn) needs on the original case.
fn original_case_command(
    original: &CaseRecord,
    category: &str,
    command: &AppealDecideCommand,
) -> DecideCommand {
    let (category, policy, actions) = match &command.verdict {
        AppealVerdict::Modified(replacement) => (
            replacement
                .category
                .as_ref()
                .map_or_else(|| category.to_string(), |c| c.as_str().to_string()),
            replacement.policy.clone(),
            replacement.actions.clone(),
        ),
        _ => (category.to_string(), None, Vec::new()),
    };
    DecideCommand::new(
        original.id,
        Version(original.version),
        DecisionInput {
            violation: true,
            category,
            policy,
            actions,
            rationale: command.rationale.clone(),
        },
        DecisionMode::Correction,
    )
}

/// Who decides an appeal, and by which policy.
struct AppealRequest<'a> {
    actor: &'a Actor,
    reviewer: AppealParty,
    command: &'a AppealDecideCommand,
    policy: &'a CasePolicy,
    now: Timestamp,
}

/// Writes what an appeal's outcome tells: the appellants' notices, the
/// statement of reasons' update and the appeal's resolution. Returns the
/// notices as the audit record lists them.
async fn write_outcome_rows(
    tx: &mut Transaction<'static, Any>,
    plan: &AppealPlan,
    replacement_id: Option<DecisionId>,
    actor: &Actor,
    now: Timestamp,
) -> StoreResult<Vec<Value>> {
    let notice_decision = plan.notice_decision(replacement_id);
    let mut notices = Vec::new();
    for notice in &plan.notices {
        let (id, status, _) = insert_notice(tx, notice, None, notice_decision, now).await?;
        notices.push(json!({"id": id, "item": notice.action.as_str(), "status": status}));
    }
    if let Some(update) = &plan.statement_update {
        sqlx::query("UPDATE dsa_statements SET appeal_outcome = $1, appeal_decided_at = $2, withdrawn_at = $3 WHERE puid = $4")
            .bind(update.outcome.as_str())
            .bind(ms(update.decided_at))
            .bind(update.withdrawn.then(|| ms(update.decided_at)))
            .bind(&update.statement_id)
            .execute(&mut **tx)
            .await?;
    }
    let resolution = &plan.resolution;
    sqlx::query("UPDATE appeals SET outcome = $1, reviewer = $2, reviewer_id = $3, reviewer_role = $4, rationale = $5, replacement_decision_id = $6, decided_at = $7 WHERE id = $8")
        .bind(resolution.outcome.as_str())
        .bind(&actor.name)
        .bind(resolution.reviewer.user.0)
        .bind(resolution.reviewer.role.as_str())
        .bind(rationale_to_json(&resolution.rationale).to_string())
        .bind(replacement_id.map(|d| d.0))
        .bind(ms(resolution.decided_at))
        .bind(resolution.appeal.0)
        .execute(&mut **tx)
        .await?;
    Ok(notices)
}

/// What an appeal decision loads: the facts, the original case as
/// stored, and the audit draft of a taxonomy version seeded on first use.
struct LoadedAppeal {
    facts: AppealFacts,
    original_case: CaseRecord,
    seeded: Option<AuditDraft>,
}

impl SqlStore {
    /// Loads everything `plan_appeal_decision` needs. Locks the appeal
    /// case and the original case.
    async fn appeal_facts(
        &self,
        tx: &mut Transaction<'static, Any>,
        appeal: &AppealView,
        case: &CaseRecord,
        request: &AppealRequest<'_>,
    ) -> StoreResult<LoadedAppeal> {
        let AppealRequest {
            actor,
            reviewer,
            command,
            policy,
            now,
        } = *request;
        let decision = DecisionId(appeal.decision_id);
        let (context, original_case, reversed, superseded_by) =
            decision_context(tx, decision).await?;
        let statement_id: Option<String> =
            sqlx::query_scalar("SELECT puid FROM dsa_statements WHERE decision_id = $1")
                .bind(decision.0)
                .fetch_optional(&mut **tx)
                .await?;
        let decide = original_case_command(&original_case, &context.category, command);
        let (original_facts, original_case, seeded) =
            decision_facts::load_decision_facts(tx, self.backend, &decide, actor, policy, now)
                .await?;
        let templates =
            decision_facts::templates(tx, &APPEAL_KINDS, &[context.category.as_str()]).await?;
        let original = OriginalDecision {
            decision: SupersededDecision {
                actions: ordered_actions(tx, decision).await?,
                active_strikes: active_strikes(tx, decision).await?,
                context,
            },
            decider: appeal.decider_id.map(|id| AppealParty {
                user: UserId(id),
                role: appeal
                    .decider_role
                    .unwrap_or(warden_domain::access::Role::Lead),
            }),
            reversed,
            superseded_by,
            statement_id,
        };
        Ok(LoadedAppeal {
            facts: AppealFacts {
                appeal: appeal_record(appeal)?,
                case: case_facts(case),
                reviewer,
                original,
                original_case: original_facts,
                templates,
            },
            original_case,
            seeded,
        })
    }

    /// Writes the replacement decision of a modification on the original
    /// case, as a correction is written; returns its id and audit drafts.
    async fn write_replacement(
        &self,
        tx: &mut Transaction<'static, Any>,
        plan: &DecisionPlan,
        loaded: &LoadedAppeal,
        actor: &Actor,
        now: Timestamp,
    ) -> StoreResult<(DecisionId, Vec<AuditDraft>)> {
        let written: WrittenDecision = decision_writes::write_decision_plan(
            tx,
            plan,
            Some(&loaded.facts.original.decision),
            actor,
            now,
        )
        .await?;
        let before = &loaded.original_case;
        let mut after = before.clone();
        after.status = plan.case.status;
        after.resolved_at = Some(plan.case.resolved_at);
        clear_lease(&mut after);
        let change = Change {
            actor,
            action: plan.case.audit_action,
            reason: Some(plan.case.reason),
            now,
        };
        let (_, mut draft) = self.save_case(tx, &change, before, after).await?;
        draft.merge_after(super::decisions::decision_audit(plan, &written));
        let mut drafts = vec![draft];
        drafts.extend(written.drafts);
        Ok((written.id, drafts))
    }

    /// Writes an appeal's plan: the reversal or the replacement, notices,
    /// the statement's update, the appeal's outcome and the appeal case.
    async fn write_appeal_plan(
        &self,
        tx: &mut Transaction<'static, Any>,
        plan: &AppealPlan,
        loaded: &LoadedAppeal,
        case: &CaseRecord,
        actor: &Actor,
        now: Timestamp,
    ) -> StoreResult<Vec<AuditDraft>> {
        let mut drafts = Vec::new();
        let original = &loaded.facts.original.decision;
        if let Some(reversal) = &plan.reversal {
            drafts.extend(
                decision_writes::write_reversal_plan(
                    tx,
                    reversal,
                    &original.context,
                    &original.actions,
                    actor,
                    None,
                    now,
                )
                .await?,
            );
        }
        let mut replacement_id = None;
        if let Some(replacement) = &plan.replacement {
            let (id, written) = self
                .write_replacement(tx, replacement, loaded, actor, now)
                .await?;
            replacement_id = Some(id);
            drafts.extend(written);
        }
        let notices = write_outcome_rows(tx, plan, replacement_id, actor, now).await?;
        let resolution = &plan.resolution;
        let mut after = case.clone();
        after.status = plan.case.status;
        after.resolved_at = Some(plan.case.resolved_at);
        clear_lease(&mut after);
        let change = Change {
            actor,
            action: plan.case.audit_action,
            reason: Some(plan.case.reason),
            now,
        };
        let (_, mut draft) = self.save_case(tx, &change, case, after).await?;
        draft.merge_after(json!({"appeal": {
            "id": resolution.appeal.0,
            "outcome": resolution.outcome.as_str(),
            "original_decision_id": plan.original.0,
            "replacement_decision_id": replacement_id.map(|d| d.0),
            "actions_reversed": plan.reversal.as_ref().map_or(0, |r| r.actions.len()),
            "strikes_voided": plan.reversal.as_ref().map_or(0, |r| r.strikes_voided.len()),
            "notices": notices,
            "statement_updated": plan.statement_update.as_ref().map(|u| u.statement_id.clone()),
        }}));
        drafts.insert(0, draft);
        Ok(drafts)
    }

    async fn read_appeal(&self, condition: &str, value: i64) -> StoreResult<Option<AppealView>> {
        let mut conn = self.reader.acquire().await?;
        load_appeal(&mut conn, condition, value, "").await
    }
}

#[async_trait]
impl AppealStore for SqlStore {
    async fn submit_appeal(
        &self,
        actor: &Actor,
        appeal: &NewAppeal,
        rules: &AppealRules,
        policy: &CasePolicy,
        now: Timestamp,
    ) -> StoreResult<AppealIntakeOutcome> {
        let mut tx = self.writer.begin().await?;
        // PostgreSQL locks the decision row, not the outer join's nullable side.
        let lock = match self.backend {
            Backend::Postgres => " FOR UPDATE OF d",
            Backend::Sqlite => "",
        };
        let facts = intake_facts(&mut tx, appeal, lock).await?;
        let planned = plan_appeal_intake(
            &facts,
            appeal,
            &rules.window,
            &rules.routing,
            &policy.router,
            now,
        );
        // A refusal ends the transaction now, so that no connection waits
        // in it holding the decision's lock.
        let plan = match planned {
            Ok(plan) => plan,
            Err(errors) => {
                tx.rollback().await?;
                return Err(refused(PlanError::Invalid(errors)));
            }
        };
        let Some((id, opened, draft)) = write_intake(&mut tx, &plan, actor, now).await? else {
            tx.rollback().await?;
            return Ok(match plan {
                AppealIntakePlan::Duplicate => AppealIntakeOutcome::Duplicate,
                _ => AppealIntakeOutcome::Conflict,
            });
        };
        self.append_audit(&mut tx, vec![draft], now).await?;
        tx.commit().await?;
        let view = self
            .read_appeal("id", id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("appeal {id}")))?;
        Ok(if opened {
            AppealIntakeOutcome::Opened(view)
        } else {
            AppealIntakeOutcome::Joined(view)
        })
    }

    async fn appeal_of_case(&self, case: CaseId) -> StoreResult<Option<AppealView>> {
        self.read_appeal("case_id", case.0).await
    }

    async fn decide_appeal(
        &self,
        actor: &Actor,
        reviewer: AppealParty,
        command: &AppealDecideCommand,
        policy: &CasePolicy,
        now: Timestamp,
    ) -> StoreResult<AppealView> {
        let mut tx = self.writer.begin().await?;
        let lock = self.backend.for_update();
        let case = load_case(&mut tx, command.case, lock)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("case {}", command.case)))?;
        let appeal = load_appeal(&mut tx, "case_id", command.case.0, lock)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("appeal of case {}", command.case)))?;
        let request = AppealRequest {
            actor,
            reviewer,
            command,
            policy,
            now,
        };
        let loaded = self.appeal_facts(&mut tx, &appeal, &case, &request).await?;
        let plan = match plan_appeal_decision(&loaded.facts, command, now) {
            Ok(plan) => plan,
            Err(error) => {
                tx.rollback().await?;
                return Err(appeal_refused(error));
            }
        };
        let mut drafts = self
            .write_appeal_plan(&mut tx, &plan, &loaded, &case, actor, now)
            .await?;
        drafts.extend(loaded.seeded);
        self.append_audit(&mut tx, drafts, now).await?;
        tx.commit().await?;
        self.read_appeal("id", appeal.id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("appeal {}", appeal.id)))
    }

    async fn list_appeals(&self, filter: &AppealFilter) -> StoreResult<Vec<AppealView>> {
        let mut conditions = vec!["1 = 1".to_string()];
        match filter.status {
            Some(AppealStatus::Open) => conditions.push("outcome IS NULL".into()),
            Some(AppealStatus::Decided) => conditions.push("outcome IS NOT NULL".into()),
            None => {}
        }
        if filter.since.is_some() {
            conditions.push("opened_at >= $1".into());
        }
        let limit = filter.limit.clamp(1, PAGE_SIZE_MAX);
        let sql = format!(
            "SELECT {APPEAL_COLUMNS} FROM appeals WHERE {} ORDER BY opened_at DESC, id DESC LIMIT {limit}",
            conditions.join(" AND ")
        );
        let mut conn = self.reader.acquire().await?;
        let mut query = sqlx::query_as::<_, DbAppeal>(&sql);
        if let Some(since) = filter.since {
            query = query.bind(ms(since));
        }
        let mut appeals = records(query.fetch_all(&mut *conn).await?);
        for appeal in &mut appeals {
            appeal.items = appeal_items(&mut conn, appeal.id).await?;
        }
        Ok(appeals)
    }
}
