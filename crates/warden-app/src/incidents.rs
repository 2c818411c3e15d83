//! Incidents and bulk containment: a lead opens an incident during a
//! surge, cases join it by id or by the case list's filters, and a bulk
//! action decides its open cases — dry run first, then a submission of
//! the same body, one approval by another lead, then a run that the bulk
//! runner worker applies in batches, one decision per case through the
//! enforcement path, idempotent per (bulk, case) and resumable.
//!
//! The rules are the domain's (`warden_domain::incident`); the store
//! writes what they plan. Reading an incident shows only the cases the
//! reader may see (restricted queues stay hidden; impact counts too).

use serde_json::{json, Value};

use warden_domain::access::{Permission, Principal};
use warden_domain::decision::Rationale;
use warden_domain::enforcement::DecisionExtras;
use warden_domain::incident::{
    impact, Assignee, BulkCommand, BulkId, BulkInput, Impact, IncidentId, IncidentInput,
    Membership, MembershipInput, NewIncident,
};
use warden_domain::FieldErrors;
use warden_store::{
    BulkActionRecord, BulkAuthor, BulkBatch, BulkPlanned, BulkRun, BulkSkipRecord, CaseFilter,
    CaseRecord, IncidentRecord, MembershipOutcome, TimelineRecord,
};

use crate::decisions::{parse_actions, ActionDraft};
use crate::limits::{BULK_SKIPPED_LISTED_MAX, INCIDENT_PAGE_ITEMS_MAX};
use crate::{Actor, App, CommandError, CommandResult};

/// A bulk action as a transport received it, before it is checked; also
/// the form it is stored in, to be planned again when it runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BulkDraft {
    /// The actions of every decision.
    pub actions: Vec<ActionDraft>,
    /// The rationale of every decision.
    pub rationale: Rationale,
    /// Plan only.
    pub dry_run: Option<bool>,
    /// The category of every decision; each case's own when absent.
    pub category: Option<String>,
    /// The policy id or section.
    pub policy: Option<String>,
    /// A reason code of the category.
    pub reason_code: Option<String>,
    /// Why the actions depart from the matrix.
    pub override_reason: Option<String>,
}

fn text_at(value: &Value, key: &str) -> Option<String> {
    value.get(key).and_then(Value::as_str).map(str::to_string)
}

impl BulkDraft {
    /// The draft as stored (without its dry-run flag).
    pub fn to_json(&self) -> Value {
        let actions: Vec<Value> = self
            .actions
            .iter()
            .map(|a| json!({"type": a.action_type, "duration": a.duration, "feature": a.feature, "label": a.label}))
            .collect();
        let r = &self.rationale;
        json!({
            "actions": actions,
            "rationale": {"what_happened": r.what_happened, "evidence": r.evidence, "policy": r.policy, "action": r.action, "next_steps": r.next_steps},
            "category": self.category, "policy": self.policy,
            "reason_code": self.reason_code, "override_reason": self.override_reason,
        })
    }

    /// The draft from its stored form.
    pub fn from_json(value: &Value) -> Self {
        let actions = value
            .get("actions")
            .and_then(Value::as_array)
            .map(|list| {
                list.iter()
                    .map(|a| ActionDraft {
                        action_type: text_at(a, "type").unwrap_or_default(),
                        duration: text_at(a, "duration"),
                        feature: text_at(a, "feature"),
                        label: text_at(a, "label"),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let r = value.get("rationale").cloned().unwrap_or(Value::Null);
        let part = |key: &str| text_at(&r, key).unwrap_or_default();
        Self {
            actions,
            rationale: Rationale {
                what_happened: part("what_happened"),
                evidence: part("evidence"),
                policy: part("policy"),
                action: part("action"),
                next_steps: part("next_steps"),
            },
            dry_run: Some(false),
            category: text_at(value, "category"),
            policy: text_at(value, "policy"),
            reason_code: text_at(value, "reason_code"),
            override_reason: text_at(value, "override_reason"),
        }
    }

    /// The checked command; every field at fault is reported.
    pub fn into_command(
        &self,
        bulk: BulkId,
        incident: IncidentId,
        author: i64,
    ) -> Result<BulkCommand, FieldErrors> {
        let mut errors = FieldErrors::default();
        let actions = parse_actions(&mut errors, &self.actions);
        if !errors.is_empty() {
            return Err(errors);
        }
        let input = BulkInput {
            actions,
            rationale: self.rationale.clone(),
            dry_run: self.dry_run,
            category: self.category.clone(),
            policy: self.policy.clone(),
            extras: DecisionExtras {
                override_reason: self.override_reason.clone(),
                reason_code: self.reason_code.clone(),
            },
        };
        BulkCommand::parse(bulk, incident, warden_domain::ids::UserId(author), &input)
    }
}

/// An incident as its page shows it.
#[derive(Debug, Clone)]
pub struct IncidentView {
    /// The incident.
    pub incident: IncidentRecord,
    /// Its impact, over the cases the reader may see.
    pub impact: Impact,
    /// Its timeline (the first entries).
    pub timeline: Vec<TimelineRecord>,
    /// Its cases the reader may see (the first page).
    pub cases: Vec<CaseRecord>,
    /// Its bulk actions, newest first.
    pub bulk_actions: Vec<BulkActionRecord>,
}

/// A bulk action's progress: `{"planned", "applied", "skipped"}`.
#[derive(Debug, Clone)]
pub struct BulkProgress {
    /// The bulk action.
    pub record: BulkActionRecord,
    /// Cases left out so far (at most [`BULK_SKIPPED_LISTED_MAX`]; the
    /// record's count covers all).
    pub skipped: Vec<BulkSkipRecord>,
}

impl App {
    /// Opens an incident owned by the actor (a lead).
    pub async fn create_incident(
        &self,
        actor: &Actor,
        input: &IncidentInput,
    ) -> CommandResult<IncidentRecord> {
        actor.require(Permission::CaseAssign)?;
        let incident = NewIncident::parse(input)?;
        Ok(self
            .store()
            .create_incident(&actor.audit(), &incident, self.now())
            .await?)
    }

    /// Incidents, newest first.
    pub async fn list_incidents(
        &self,
        actor: &Actor,
        limit: u32,
        offset: u32,
    ) -> CommandResult<Vec<IncidentRecord>> {
        actor.require(Permission::CaseRead)?;
        Ok(self.store().list_incidents(limit, offset).await?)
    }

    async fn known_incident(&self, id: IncidentId) -> CommandResult<IncidentRecord> {
        self.store()
            .incident(id)
            .await?
            .ok_or_else(|| CommandError::NotFound(format!("incident {id} not found")))
    }

    /// An incident with its impact, timeline, cases and bulk actions, as
    /// far as the actor may see them.
    pub async fn incident(&self, actor: &Actor, id: IncidentId) -> CommandResult<IncidentView> {
        actor.require(Permission::CaseRead)?;
        let incident = self.known_incident(id).await?;
        let scope = self.scope(actor);
        let facts = self.store().incident_case_facts(id, &scope).await?;
        let store = self.store();
        Ok(IncidentView {
            impact: impact(&facts),
            timeline: store.incident_timeline(id, INCIDENT_PAGE_ITEMS_MAX).await?,
            cases: store
                .incident_cases(id, &scope, INCIDENT_PAGE_ITEMS_MAX, 0)
                .await?,
            bulk_actions: store.incident_bulk_actions(id).await?,
            incident,
        })
    }

    /// Adds cases to an incident by ids or by the case list's filters;
    /// only cases the actor may see join (others are named as unknown).
    pub async fn add_incident_cases(
        &self,
        actor: &Actor,
        id: IncidentId,
        input: &MembershipInput,
    ) -> CommandResult<MembershipOutcome> {
        actor.require(Permission::CaseAssign)?;
        let membership = Membership::parse(input)?;
        self.known_incident(id).await?;
        let mut filter = CaseFilter {
            scope: self.scope(actor),
            appeals: self.appeal_scope(actor),
            ..CaseFilter::default()
        };
        if let Membership::Query(query) = &membership {
            filter.queue = query.queue.clone();
            filter.statuses = query.statuses.clone();
            filter.subject = query.subject.clone();
            filter.category = query.category.as_ref().map(|c| c.as_str().to_string());
            filter.severity = query.severity;
            filter.language = query.language.as_ref().map(|l| l.as_str().to_string());
            filter.assignee_id = match &query.assignee {
                None => None,
                Some(Assignee::Me) => Some(actor.user_id().unwrap_or(0)),
                Some(Assignee::Named(name)) => Some(
                    self.store()
                        .user_by_name(name.as_str())
                        .await?
                        .ok_or_else(|| {
                            CommandError::invalid(
                                "query.assignee",
                                format!("no user named {:?}", name.as_str()),
                            )
                        })?
                        .id,
                ),
            };
        }
        Ok(self
            .store()
            .add_incident_cases(&actor.audit(), id, &membership, &filter, self.now())
            .await?)
    }

    /// Plans a bulk action over an incident's cases: a dry run, or the
    /// submission of a body dry-run before (then it waits for a lead).
    pub async fn plan_bulk_action(
        &self,
        actor: &Actor,
        incident: IncidentId,
        draft: &BulkDraft,
    ) -> CommandResult<BulkPlanned> {
        actor.require(Permission::CaseWork)?;
        actor.require(Permission::CaseAssign)?;
        let Some(author) = actor.user_id() else {
            return Err(CommandError::Forbidden(
                "a bulk action is asked for by a signed-in lead".into(),
            ));
        };
        let command = draft.into_command(BulkId(0), incident, author)?;
        self.known_incident(incident).await?;
        let author = BulkAuthor {
            actor: actor.audit(),
            scope: self.scope(actor),
        };
        let policy = self.policy();
        let mut planned = self
            .store()
            .plan_bulk(
                &author,
                &command,
                &draft.to_json(),
                policy.case_policy(),
                self.now(),
            )
            .await?;
        planned.skipped.truncate(BULK_SKIPPED_LISTED_MAX);
        Ok(planned)
    }

    async fn incident_bulk(
        &self,
        incident: IncidentId,
        bulk: BulkId,
    ) -> CommandResult<BulkActionRecord> {
        match self.store().bulk_action(bulk).await? {
            Some(record) if record.incident == incident => Ok(record),
            _ => Err(CommandError::NotFound(format!(
                "bulk action {bulk} of incident {incident} not found"
            ))),
        }
    }

    /// The one lead approval of a bulk action: not by its author, only by
    /// a lead, only while it waits. The bulk runner applies it next.
    pub async fn approve_bulk_action(
        &self,
        actor: &Actor,
        incident: IncidentId,
        bulk: BulkId,
    ) -> CommandResult<BulkActionRecord> {
        actor.require(Permission::CaseRead)?;
        let Some(principal) = actor.principal() else {
            return Err(CommandError::Forbidden(
                "a bulk action is approved by a signed-in lead".into(),
            ));
        };
        self.incident_bulk(incident, bulk).await?;
        let record = self
            .store()
            .approve_bulk(&actor.audit(), principal, bulk, self.now())
            .await?;
        Ok(record)
    }

    /// Submits a dry run as it was planned (the console's button): the
    /// same body again, now for a lead's approval.
    pub async fn submit_bulk_dry_run(
        &self,
        actor: &Actor,
        incident: IncidentId,
        bulk: BulkId,
    ) -> CommandResult<BulkPlanned> {
        let record = self.incident_bulk(incident, bulk).await?;
        let mut draft = BulkDraft::from_json(&record.command);
        draft.dry_run = Some(false);
        self.plan_bulk_action(actor, incident, &draft).await
    }

    /// A bulk action's progress.
    pub async fn bulk_progress(
        &self,
        actor: &Actor,
        incident: IncidentId,
        bulk: BulkId,
    ) -> CommandResult<BulkProgress> {
        actor.require(Permission::CaseRead)?;
        let record = self.incident_bulk(incident, bulk).await?;
        let listed = u32::try_from(BULK_SKIPPED_LISTED_MAX).unwrap_or(u32::MAX);
        let skipped = self.store().bulk_skips(bulk, listed).await?;
        Ok(BulkProgress { record, skipped })
    }

    /// Bulk actions approved and not completed (for the bulk runner).
    pub async fn applying_bulk_actions(&self) -> CommandResult<Vec<BulkActionRecord>> {
        Ok(self.store().applying_bulk_actions().await?)
    }

    async fn bulk_user(
        &self,
        bulk: &BulkActionRecord,
        id: Option<i64>,
        role: &str,
    ) -> CommandResult<warden_store::UserRecord> {
        let id = id.ok_or_else(|| {
            CommandError::Conflict(format!("bulk action {} has no {role}", bulk.id))
        })?;
        self.store().user_by_id(id).await?.ok_or_else(|| {
            CommandError::Conflict(format!("the {role} of bulk action {} is gone", bulk.id))
        })
    }

    /// Runs the next batch of `bulk`'s steps (for the bulk runner): the
    /// decisions are its author's, the approvals its approver's.
    pub async fn run_bulk_batch(
        &self,
        bulk: &BulkActionRecord,
        batch: usize,
    ) -> CommandResult<BulkBatch> {
        let author = self.bulk_user(bulk, Some(bulk.author_id), "author").await?;
        let approver = self.bulk_user(bulk, bulk.approver_id, "approver").await?;
        let principal = Principal {
            user_id: author.id,
            name: author.name.clone(),
            role: author.role,
            teams: author.teams.clone(),
            scope: None,
        };
        let author_actor = Actor::user(principal);
        let command = BulkDraft::from_json(&bulk.command)
            .into_command(bulk.id, bulk.incident, author.id)
            .map_err(|e| CommandError::internal(format!("bulk action {}: {e}", bulk.id)))?;
        let run = BulkRun {
            command,
            author: BulkAuthor {
                actor: author_actor.audit(),
                scope: self.scope(&author_actor),
            },
            approver: warden_store::Actor::user(approver.id, &approver.name),
            batch,
        };
        let policy = self.policy();
        let done = self
            .store()
            .run_bulk_batch(&run, policy.case_policy(), self.now())
            .await?;
        Ok(done)
    }
}
