//! The SQL of [`DecisionStore`]: deciding, correcting, recommending,
//! ruling on actions that wait, reversing. Each change loads its facts
//! (`decision_facts.rs`), asks the domain's planner and writes the plan
//! it returns (`decision_writes.rs`), in one transaction.

use async_trait::async_trait;
use serde_json::{json, Value};
use sqlx::{Any, AnyConnection, Transaction};

use warden_domain::decision::DecisionInput;
use warden_domain::enforcement::{
    plan_approval, plan_decision, plan_reversal, recommend, ApprovalCommand, DecideCommand,
    DecisionMode, DecisionPlan, EnforcementPolicy, ReversalCommand, ReversalTarget, Ruling,
    SupersededDecision,
};
use warden_domain::ids::{ActionId, DecisionId, Version};
use warden_domain::limits::PAGE_SIZE_MAX;
use warden_domain::{CaseId, Timestamp};

use super::cases::{clear_lease, load_case, Change};
use super::decision_facts::{self, case_facts, refused};
use super::decision_writes::{self, WrittenDecision};
use super::taxonomy::current_version;
use super::wrappers::{DbActionDetail, ACTION_DETAIL_COLUMNS};
use super::{AuditDraft, SqlStore};
use crate::{
    ActionDetail, Actor, CasePolicy, CaseRecord, CaseStore, DecisionRecord, DecisionStore,
    RecommendationRecord, StoreError, StoreResult,
};

impl SqlStore {
    /// Decides a case: loads the facts, plans the decision (all policy is
    /// in `warden_domain::enforcement::plan_decision`), writes the plan and
    /// the case's transition, and commits them with the audit record.
    async fn decide_planned(
        &self,
        actor: &Actor,
        command: &DecideCommand,
        policy: &CasePolicy,
        now: Timestamp,
    ) -> StoreResult<DecisionRecord> {
        let mut tx = self.writer.begin().await?;
        let (facts, before, seeded) =
            decision_facts::load_decision_facts(&mut tx, self.backend, command, actor, policy, now)
                .await?;
        let plan = plan_decision(&facts, command, now).map_err(refused)?;
        let (written, planned_drafts) = self
            .write_planned_decision(
                &mut tx,
                &plan,
                &before,
                facts.superseded.as_ref(),
                actor,
                now,
            )
            .await?;
        let decision = &plan.decision;
        let mut drafts = planned_drafts;
        drafts.extend(seeded);
        self.append_audit(&mut tx, drafts, now).await?;
        tx.commit().await?;
        Ok(DecisionRecord {
            id: written.id.0,
            case_id: decision.case,
            subject: decision.subject.clone(),
            violation: decision.violation,
            category: decision.category.clone(),
            policy: decision.policy.clone(),
            rationale: decision.rationale.clone(),
            decided_by: actor.name.clone(),
            decided_at: now,
            supersedes: decision.supersedes.map(|d| d.0),
            superseded_by: None,
            actions: written.actions,
            enforcement: Some(written.enforcement),
        })
    }

    /// Writes a planned decision and the case's change (resolved, lease
    /// cleared) in `tx`; returns what was written and the audit drafts,
    /// the case's first (the caller appends them).
    pub(super) async fn write_planned_decision(
        &self,
        tx: &mut Transaction<'static, Any>,
        plan: &DecisionPlan,
        before: &CaseRecord,
        superseded: Option<&SupersededDecision>,
        actor: &Actor,
        now: Timestamp,
    ) -> StoreResult<(WrittenDecision, Vec<AuditDraft>)> {
        let mut written =
            decision_writes::write_decision_plan(tx, plan, superseded, actor, now).await?;
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
        draft.merge_after(decision_audit(plan, &written));
        let mut drafts = vec![draft];
        drafts.append(&mut written.drafts);
        Ok((written, drafts))
    }

    async fn action_detail_with(
        &self,
        conn: &mut AnyConnection,
        action_id: i64,
    ) -> StoreResult<Option<ActionDetail>> {
        let Some(DbActionDetail(mut detail)) = sqlx::query_as::<_, DbActionDetail>(&format!(
            "SELECT {ACTION_DETAIL_COLUMNS} FROM actions a JOIN decisions d ON d.id = a.decision_id WHERE a.id = $1"
        ))
        .bind(action_id)
        .fetch_optional(&mut *conn)
        .await?
        else {
            return Ok(None);
        };
        detail.deliveries = super::outbox::deliveries_of(conn, action_id).await?;
        Ok(Some(detail))
    }

    async fn read_action_detail(&self, action_id: i64) -> StoreResult<ActionDetail> {
        let mut conn = self.reader.acquire().await?;
        self.action_detail_with(&mut conn, action_id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("action {action_id}")))
    }
}

/// What the audit record of a decision adds about it.
pub(super) fn decision_audit(plan: &DecisionPlan, written: &WrittenDecision) -> Value {
    let decision = &plan.decision;
    let actions: Vec<Value> = written
        .actions
        .iter()
        .map(|a| json!({"id": a.id, "type": a.action_type, "target": a.target.to_string(), "duration_seconds": a.duration_seconds}))
        .collect();
    json!({
        "decision": {
            "id": written.id.0,
            "violation": decision.violation,
            "category": decision.category,
            "policy": decision.policy,
            "supersedes": decision.supersedes.map(|d| d.0),
            "actions": actions,
            "strike": written.strike,
            "taxonomy_version": written.enforcement.taxonomy_version,
            "departure": written.enforcement.departure.map(|d| d.as_str()),
            "override_reason": written.enforcement.override_reason,
            "awaiting_approval": written.enforcement.approvals.iter().map(|(id, _)| id).collect::<Vec<_>>(),
            "statement_id": written.enforcement.statement_id,
        }
    })
}

#[async_trait]
impl DecisionStore for SqlStore {
    async fn decide(
        &self,
        actor: &Actor,
        id: CaseId,
        expected_version: i64,
        input: DecisionInput,
        policy: &CasePolicy,
        mode: DecisionMode,
        now: Timestamp,
    ) -> StoreResult<DecisionRecord> {
        let command = DecideCommand::new(id, Version(expected_version), input, mode);
        self.decide_planned(actor, &command, policy, now).await
    }

    async fn decide_with(
        &self,
        actor: &Actor,
        command: DecideCommand,
        policy: &CasePolicy,
        now: Timestamp,
    ) -> StoreResult<DecisionRecord> {
        self.decide_planned(actor, &command, policy, now).await
    }

    async fn recommendation(
        &self,
        case_id: CaseId,
        category: Option<&str>,
        policy: &CasePolicy,
        now: Timestamp,
    ) -> StoreResult<RecommendationRecord> {
        let mut conn = self.reader.acquire().await?;
        let case = load_case(&mut conn, case_id, "")
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
        let account = decision_facts::recommendation_facts(&mut conn, &case, now).await?;
        let recommended = recommend(&policy_doc, &case_facts(&case), account.as_ref(), category);
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

    async fn decision_cases(&self, ids: &[i64]) -> StoreResult<Vec<(i64, CaseId, String)>> {
        let ids = &ids[..ids.len().min(PAGE_SIZE_MAX as usize)];
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let list: Vec<String> = (1..=ids.len()).map(|n| format!("${n}")).collect();
        let sql = format!(
            "SELECT d.id AS decision_id, c.id AS case_id, c.queue FROM decisions d JOIN cases c ON c.id = d.case_id WHERE d.id IN ({})",
            list.join(", ")
        );
        let mut query = sqlx::query_as::<_, (i64, i64, String)>(&sql);
        for id in ids {
            query = query.bind(*id);
        }
        let rows = query.fetch_all(&self.reader).await?;
        Ok(rows
            .into_iter()
            .map(|(decision, case, queue)| (decision, CaseId(case), queue))
            .collect())
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
            decision_facts::load_approval_facts(&mut tx, self.backend, ActionId(action_id), actor)
                .await?;
        let command = ApprovalCommand {
            action: ActionId(action_id),
            ruling,
            note: note.to_string(),
        };
        let plan = plan_approval(&facts, &command, now).map_err(refused)?;
        let drafts =
            decision_writes::write_approval_plan(&mut tx, &plan, &facts, actor, note, now).await?;
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
            decision_facts::load_reversal_facts(&mut tx, self.backend, Some(action), DecisionId(0))
                .await?;
        let command = ReversalCommand {
            target: ReversalTarget::Action(action),
            reason: reason.to_string(),
        };
        let plan = plan_reversal(&facts, &command, now).map_err(refused)?;
        let drafts = decision_writes::write_reversal_plan(
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
        let facts = decision_facts::load_reversal_facts(
            &mut tx,
            self.backend,
            None,
            DecisionId(decision_id),
        )
        .await?;
        let command = ReversalCommand {
            target: ReversalTarget::Decision,
            reason: reason.to_string(),
        };
        let plan = plan_reversal(&facts, &command, now).map_err(refused)?;
        let drafts = decision_writes::write_reversal_plan(
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
            .case_detail(case_id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("case {case_id}")))?;
        detail
            .decisions
            .into_iter()
            .find(|d| d.id == decision_id)
            .ok_or_else(|| StoreError::NotFound(format!("decision {decision_id}")))
    }
}
