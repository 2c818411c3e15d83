//! Incidents in the console: the list, and an incident's page with its
//! impact counts, timeline, cases and bulk actions; the bulk action form
//! (a dry run, whose plan is shown), the button that submits a dry run,
//! a lead's approve button, and each bulk action's progress. Calls what
//! the API calls (`warden_app::incidents`).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use warden_app::decisions::ActionDraft;
use warden_app::incidents::{BulkDraft, IncidentView};
use warden_domain::access::Permission;
use warden_domain::decision::Rationale;
use warden_domain::incident::{BulkId, IncidentId};
use warden_domain::limits::PAGE_SIZE_MAX;
use warden_store::{BulkActionRecord, BulkStatus, IncidentRecord};

use super::text;
use super::view::{render, ConsoleError, ConsoleForm, Layout, Notice, Viewer};
use crate::error::AppError;
use crate::{paths, AppState};

/// The incident list.
#[derive(Template)]
#[template(path = "incidents.html")]
pub struct IncidentsPage {
    layout: Layout,
    incidents: Vec<IncidentRecord>,
}

/// A bulk action as its row shows it.
pub struct BulkRow {
    pub id: i64,
    pub status: String,
    pub planned: i64,
    pub applied: i64,
    pub skipped: i64,
    pub percent: i64,
    pub author: String,
    pub approver: String,
    pub submit: bool,
    pub approve: bool,
}

impl BulkRow {
    fn new(record: &BulkActionRecord, viewer: &Viewer) -> Self {
        let me = &viewer.caller.principal.name;
        let done = record.applied + record.skipped;
        let percent = match record.status {
            BulkStatus::Completed => 100,
            BulkStatus::Applying => done * 100 / record.planned.max(1),
            _ => 0,
        };
        Self {
            id: record.id.0,
            status: record.status.as_str().replace('_', " "),
            planned: record.planned,
            applied: record.applied,
            skipped: record.skipped,
            percent: percent.clamp(0, 100),
            author: record.author.clone(),
            approver: record.approver.clone().unwrap_or_default(),
            submit: record.status == BulkStatus::DryRun && viewer.may(Permission::CaseAssign),
            approve: record.status == BulkStatus::AwaitingApproval
                && viewer.may(Permission::ActionApprove)
                && &record.author != me,
        }
    }
}

/// An incident's page.
#[derive(Template)]
#[template(path = "incident.html")]
pub struct IncidentPage {
    layout: Layout,
    view: IncidentView,
    window: String,
    bulks: Vec<BulkRow>,
    skipped: Vec<(i64, String)>,
    lead: bool,
}

/// `GET /console/incidents`.
pub async fn list(State(state): State<AppState>, viewer: Viewer) -> Result<Response, ConsoleError> {
    let incidents = state
        .app
        .list_incidents(&viewer.actor(), PAGE_SIZE_MAX, 0)
        .await?;
    let layout = Layout::new(&viewer, "Incidents", "incidents");
    Ok(render(StatusCode::OK, &IncidentsPage { layout, incidents }))
}

async fn incident_page(
    state: &AppState,
    viewer: &Viewer,
    id: IncidentId,
    status: StatusCode,
    notice: Option<Notice>,
) -> Result<Response, ConsoleError> {
    let actor = viewer.actor();
    let view = state.app.incident(&actor, id).await?;
    let window = match view.impact.window {
        Some((first, last)) => format!("{} – {}", text::stamp(first), text::stamp(last)),
        None => "no cases yet".into(),
    };
    let bulks: Vec<BulkRow> = view
        .bulk_actions
        .iter()
        .map(|b| BulkRow::new(b, viewer))
        .collect();
    // What the latest bulk action leaves out (its dry run's plan, or its run's).
    let skipped = match view.bulk_actions.first() {
        Some(latest) => state
            .app
            .bulk_progress(&actor, id, latest.id)
            .await?
            .skipped
            .into_iter()
            .map(|s| (s.case_id.0, s.reason))
            .collect(),
        None => Vec::new(),
    };
    let layout = Layout::new(viewer, format!("Incident {id}"), "incidents").with_notice(notice);
    Ok(render(
        status,
        &IncidentPage {
            layout,
            view,
            window,
            bulks,
            skipped,
            lead: viewer.may(Permission::CaseAssign),
        },
    ))
}

/// `GET /console/incidents/{id}`.
pub async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Response, ConsoleError> {
    let id = IncidentId(paths::row_id(&id, "incident")?);
    incident_page(&state, &viewer, id, StatusCode::OK, None).await
}

/// The bulk action form: one action and the rationale.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct BulkForm {
    pub action_type: String,
    pub duration: String,
    pub what_happened: String,
    pub evidence: String,
    pub policy: String,
    pub action: String,
}

/// The page again after a change: what happened, or why it did not.
async fn after(
    state: &AppState,
    viewer: &Viewer,
    id: IncidentId,
    outcome: Result<String, AppError>,
) -> Result<Response, ConsoleError> {
    match outcome {
        Ok(done) => incident_page(state, viewer, id, StatusCode::OK, Some(Notice::ok(done))).await,
        Err(error) => {
            let status = error.status();
            let detail = error.problem().detail;
            let notice = Notice::error(format!(
                "That did not happen: {detail}. Nothing was changed."
            ));
            incident_page(state, viewer, id, status, Some(notice)).await
        }
    }
}

/// `POST /console/incidents/{id}/bulk-actions`: a dry run.
pub async fn dry_run(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    ConsoleForm(form): ConsoleForm<BulkForm>,
) -> Result<Response, ConsoleError> {
    let id = IncidentId(paths::row_id(&id, "incident")?);
    let draft = BulkDraft {
        actions: vec![ActionDraft {
            action_type: form.action_type,
            duration: Some(form.duration).filter(|d| !d.trim().is_empty()),
            ..ActionDraft::default()
        }],
        rationale: Rationale {
            what_happened: form.what_happened,
            evidence: form.evidence,
            policy: form.policy,
            action: form.action,
            next_steps: String::new(),
        },
        dry_run: Some(true),
        ..BulkDraft::default()
    };
    let outcome = state
        .app
        .plan_bulk_action(&viewer.actor(), id, &draft)
        .await
        .map(|p| {
            format!(
                "Dry run {}: {} cases would be decided, {} left out. Nothing was decided yet.",
                p.record.id, p.record.planned, p.record.skipped
            )
        })
        .map_err(AppError::from);
    after(&state, &viewer, id, outcome).await
}

fn ids(id: &str, bulk: &str) -> Result<(IncidentId, BulkId), AppError> {
    Ok((
        IncidentId(paths::row_id(id, "incident")?),
        BulkId(paths::row_id(bulk, "bulk action")?),
    ))
}

/// `POST /console/incidents/{id}/bulk-actions/{bulk}/submit`.
pub async fn submit(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, bulk)): Path<(String, String)>,
) -> Result<Response, ConsoleError> {
    let (id, bulk) = ids(&id, &bulk)?;
    let outcome = state
        .app
        .submit_bulk_dry_run(&viewer.actor(), id, bulk)
        .await
        .map(|p| {
            format!(
                "Bulk action {} waits for another lead's approval.",
                p.record.id
            )
        })
        .map_err(AppError::from);
    after(&state, &viewer, id, outcome).await
}

/// `POST /console/incidents/{id}/bulk-actions/{bulk}/approve`.
pub async fn approve(
    State(state): State<AppState>,
    viewer: Viewer,
    Path((id, bulk)): Path<(String, String)>,
) -> Result<Response, ConsoleError> {
    let (id, bulk) = ids(&id, &bulk)?;
    let outcome = state
        .app
        .approve_bulk_action(&viewer.actor(), id, bulk)
        .await
        .map(|b| {
            format!(
                "Bulk action {} is approved; its cases are being decided.",
                b.id
            )
        })
        .map_err(AppError::from);
    after(&state, &viewer, id, outcome).await
}
