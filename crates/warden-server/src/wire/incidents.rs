//! The wire types of incidents and bulk actions
//! (`specs/appeals-qa-api.md`, Incidents and bulk actions).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use warden_app::incidents::{BulkDraft, BulkProgress, IncidentView as AppIncidentView};
use warden_domain::incident::{CaseQueryInput, IncidentInput, MembershipInput};
use warden_store::{
    BulkActionRecord, BulkSkipRecord, BulkStatus, CaseRecord, IncidentRecord, MembershipOutcome,
    TimelineRecord,
};

use crate::wire::{ActionBody, RationaleBody};

/// `POST /api/v1/incidents`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentBody {
    /// A line naming the surge.
    pub title: Option<String>,
    /// `sev1` .. `sev4`.
    pub severity: Option<String>,
    /// What is known.
    pub description: Option<String>,
}

impl From<IncidentBody> for IncidentInput {
    fn from(body: IncidentBody) -> Self {
        IncidentInput {
            title: body.title,
            severity: body.severity,
            description: body.description,
        }
    }
}

/// The case list's filters (`GET /api/v1/cases`), for cases joining by query.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseQueryBody {
    /// A queue.
    pub queue: Option<String>,
    /// One status or several, comma-separated.
    pub status: Option<String>,
    /// A user name, or `me`.
    pub assignee: Option<String>,
    /// The subject's kind (with `subject_id`).
    pub subject_kind: Option<String>,
    /// The subject's id (with `subject_kind`).
    pub subject_id: Option<String>,
    /// A taxonomy code.
    pub category: Option<String>,
    /// `low`, `medium`, `high` or `critical`.
    pub severity: Option<String>,
    /// A language; `de` takes `de-AT`.
    pub language: Option<String>,
}

/// `POST /api/v1/incidents/{id}/cases`: `case_ids` or `query`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentCasesBody {
    /// Case ids (up to 100,000).
    pub case_ids: Option<Vec<i64>>,
    /// The case list's filters.
    pub query: Option<CaseQueryBody>,
}

impl From<IncidentCasesBody> for MembershipInput {
    fn from(body: IncidentCasesBody) -> Self {
        MembershipInput {
            case_ids: body.case_ids,
            query: body.query.map(|q| CaseQueryInput {
                queue: q.queue,
                status: q.status,
                assignee: q.assignee,
                subject_kind: q.subject_kind,
                subject_id: q.subject_id,
                category: q.category,
                severity: q.severity,
                language: q.language,
            }),
        }
    }
}

/// `POST /api/v1/incidents/{id}/bulk-actions`: one decision per open case.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkActionBody {
    /// The actions of every decision (at least one).
    #[serde(default)]
    pub actions: Vec<ActionBody>,
    /// The rationale of every decision.
    #[serde(default)]
    pub rationale: RationaleBody,
    /// Plan only (first); then the same body with `false` submits it for
    /// a lead's approval.
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

impl From<BulkActionBody> for BulkDraft {
    fn from(body: BulkActionBody) -> Self {
        BulkDraft {
            actions: body.actions.into_iter().map(Into::into).collect(),
            rationale: body.rationale.into_domain(),
            dry_run: body.dry_run,
            category: body.category,
            policy: body.policy,
            reason_code: body.reason_code,
            override_reason: body.override_reason,
        }
    }
}

/// An incident in lists.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IncidentSummaryView {
    /// Warden's id.
    pub id: i64,
    /// Its title.
    pub title: String,
    /// `sev1` .. `sev4`.
    pub severity: String,
    /// open, contained or resolved.
    pub status: String,
    /// Who owns it.
    pub owner: String,
    /// When it opened.
    pub opened_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

impl From<&IncidentRecord> for IncidentSummaryView {
    fn from(r: &IncidentRecord) -> Self {
        Self {
            id: r.id.0,
            title: r.title.clone(),
            severity: r.severity.as_str().into(),
            status: r.status.as_str().into(),
            owner: r.owner.clone(),
            opened_at: r.opened_at,
            updated_at: r.updated_at,
        }
    }
}

/// An incident's impact, over the cases the reader may see.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ImpactView {
    /// Cases.
    pub cases: usize,
    /// Of which open.
    pub open_cases: usize,
    /// Distinct accounts behind them.
    pub accounts: usize,
    /// When the first of them opened.
    pub first_opened_at: Option<DateTime<Utc>>,
    /// When the last of them opened.
    pub last_opened_at: Option<DateTime<Utc>>,
}

/// One timeline entry.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TimelineView {
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub actor: String,
    /// What, as a code.
    pub event: String,
    /// What, in a phrase.
    pub text: String,
}

impl From<&TimelineRecord> for TimelineView {
    fn from(t: &TimelineRecord) -> Self {
        Self {
            at: t.at,
            actor: t.actor.clone(),
            event: t.event.clone(),
            text: t.text.clone(),
        }
    }
}

/// A case of an incident.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IncidentCaseView {
    /// Warden's id.
    pub id: i64,
    /// Its queue.
    pub queue: String,
    /// Its category.
    pub category: String,
    /// Its severity.
    pub severity: String,
    /// Its status.
    pub status: String,
    /// Who holds it.
    pub assignee: Option<String>,
    /// When it opened.
    pub opened_at: DateTime<Utc>,
}

impl From<&CaseRecord> for IncidentCaseView {
    fn from(c: &CaseRecord) -> Self {
        Self {
            id: c.id.0,
            queue: c.queue.clone(),
            category: c.category.clone(),
            severity: c.severity.as_str().into(),
            status: c.status.as_str().into(),
            assignee: c.assignee.clone(),
            opened_at: c.opened_at,
        }
    }
}

/// A case a bulk action leaves out: `{"case_id", "reason"}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SkippedView {
    /// The case.
    pub case_id: i64,
    /// Why, in words.
    pub reason: String,
    /// Why, as a code: resolved, held, restricted, appeal,
    /// protected_account, refused or conflict.
    pub code: String,
}

impl From<&BulkSkipRecord> for SkippedView {
    fn from(s: &BulkSkipRecord) -> Self {
        Self {
            case_id: s.case_id.0,
            reason: s.reason.clone(),
            code: s.code.clone(),
        }
    }
}

/// A bulk action and its progress: `{"planned", "applied", "skipped"}`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BulkActionView {
    /// Warden's id.
    pub id: i64,
    /// Its incident.
    pub incident_id: i64,
    /// dry_run, awaiting_approval, applying, completed or rejected.
    pub status: String,
    /// Cases it decides (planned when submitted).
    pub planned: i64,
    /// Cases decided so far.
    pub applied: i64,
    /// Cases left out, with why (at most 1,000 listed).
    pub skipped: Vec<SkippedView>,
    /// Cases left out, counted.
    pub skipped_count: i64,
    /// Who asked for it.
    pub author: String,
    /// The lead who approved it.
    pub approver: Option<String>,
    /// When.
    pub approved_at: Option<DateTime<Utc>>,
    /// When it was asked for.
    pub created_at: DateTime<Utc>,
    /// When its last step was applied.
    pub completed_at: Option<DateTime<Utc>>,
}

impl BulkActionView {
    /// The view of `record` with the skips listed.
    pub fn new(record: &BulkActionRecord, skipped: &[BulkSkipRecord]) -> Self {
        Self {
            id: record.id.0,
            incident_id: record.incident.0,
            status: record.status.as_str().into(),
            planned: record.planned,
            applied: record.applied,
            skipped: skipped.iter().map(SkippedView::from).collect(),
            skipped_count: record.skipped,
            author: record.author.clone(),
            approver: record.approver.clone(),
            approved_at: record.approved_at,
            created_at: record.created_at,
            completed_at: record.completed_at,
        }
    }

    /// Whether it is still a dry run.
    pub fn is_dry_run(record: &BulkActionRecord) -> bool {
        record.status == BulkStatus::DryRun
    }
}

impl From<&BulkProgress> for BulkActionView {
    fn from(p: &BulkProgress) -> Self {
        Self::new(&p.record, &p.skipped)
    }
}

/// An incident with its impact, timeline, cases and bulk actions.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IncidentView {
    /// Warden's id.
    pub id: i64,
    /// Its title.
    pub title: String,
    /// `sev1` .. `sev4`.
    pub severity: String,
    /// What is known.
    pub description: String,
    /// open, contained or resolved.
    pub status: String,
    /// Who owns it.
    pub owner: String,
    /// When it opened.
    pub opened_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
    /// Impact counts.
    pub impact: ImpactView,
    /// Timeline, oldest first.
    pub timeline: Vec<TimelineView>,
    /// Its cases you may see (the first 200).
    pub cases: Vec<IncidentCaseView>,
    /// Its bulk actions, newest first (skips listed on their own route).
    pub bulk_actions: Vec<BulkActionView>,
}

impl From<&AppIncidentView> for IncidentView {
    fn from(v: &AppIncidentView) -> Self {
        let r = &v.incident;
        Self {
            id: r.id.0,
            title: r.title.clone(),
            severity: r.severity.as_str().into(),
            description: r.description.clone(),
            status: r.status.as_str().into(),
            owner: r.owner.clone(),
            opened_at: r.opened_at,
            updated_at: r.updated_at,
            impact: ImpactView {
                cases: v.impact.cases,
                open_cases: v.impact.open_cases,
                accounts: v.impact.accounts,
                first_opened_at: v.impact.window.map(|w| w.0),
                last_opened_at: v.impact.window.map(|w| w.1),
            },
            timeline: v.timeline.iter().map(TimelineView::from).collect(),
            cases: v.cases.iter().map(IncidentCaseView::from).collect(),
            bulk_actions: v
                .bulk_actions
                .iter()
                .map(|b| BulkActionView::new(b, &[]))
                .collect(),
        }
    }
}

/// Cases that joined an incident.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MembershipView {
    /// Cases added now.
    pub added: usize,
    /// Cases that were members already.
    pub already_members: usize,
    /// Cases in the incident now.
    pub cases: usize,
}

impl From<&MembershipOutcome> for MembershipView {
    fn from(m: &MembershipOutcome) -> Self {
        Self {
            added: m.plan.add.len(),
            already_members: m.plan.already_members,
            cases: m.members,
        }
    }
}
