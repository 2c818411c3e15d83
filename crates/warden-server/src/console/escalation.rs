//! A case's escalation page: its evidence (each item's SHA-256 checked on
//! this read), attaching a text excerpt or URL, escalating to a specialist
//! team at a severity (the package checked; a missing part is named), the
//! team member's acknowledgement, and the printable package.
//!
//! Files are attached through the API (`POST /api/v1/cases/{id}/evidence`
//! with the raw body); the page lists them and links their content.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use warden_domain::escalation::{to_markdown, EscalateInput};
use warden_domain::evidence::{EvidenceContent, EvidenceInput};
use warden_domain::CaseId;
use warden_store::EscalationRecord;

use super::case::gate_error;
use super::redirect;
use super::view::{render, ConsoleError, ConsoleForm, Layout, Notice, Viewer};
use crate::error::AppError;
use crate::paths::case_id as parse_case_id;
use crate::AppState;

/// One evidence item as the page shows it.
pub struct EvidenceLine {
    pub id: i64,
    pub kind: String,
    pub shown: String,
    pub caption: String,
    pub sha256: String,
    pub size_bytes: u64,
    pub added: String,
    pub verified: bool,
    pub check: String,
}

/// The case's escalation as the page shows it.
pub struct EscalationLine {
    pub team: String,
    pub severity: String,
    pub reason: String,
    pub escalated_by: String,
    pub escalated_at: String,
    pub acknowledge_by: String,
    pub acknowledged_by: Option<String>,
    pub pages_sent: u32,
    pub pages_pending: u32,
}

impl From<&EscalationRecord> for EscalationLine {
    fn from(e: &EscalationRecord) -> Self {
        let time = |t: warden_domain::Timestamp| t.format("%Y-%m-%d %H:%M UTC").to_string();
        Self {
            team: e.team.clone(),
            severity: e.severity.label().into(),
            reason: warden_domain::privacy::mask_text(&e.reason).value,
            escalated_by: e.escalated_by.clone(),
            escalated_at: time(e.times.escalated_at),
            acknowledge_by: time(e.acknowledge_by),
            acknowledged_by: e.acknowledged_by.clone(),
            pages_sent: e.pages_sent,
            pages_pending: e.pages_pending,
        }
    }
}

/// A severity or team to choose: value and words.
pub struct Choice {
    pub value: String,
    pub label: String,
}

/// The escalation page.
#[derive(Template)]
#[template(path = "escalation.html")]
pub struct EscalationPage {
    layout: Layout,
    case_id: i64,
    version: i64,
    escalation: Option<EscalationLine>,
    evidence: Vec<EvidenceLine>,
    teams: Vec<Choice>,
    severities: Vec<Choice>,
}

/// The printable package.
#[derive(Template)]
#[template(path = "package.html")]
pub struct PackagePage {
    layout: Layout,
    case_id: i64,
    markdown: String,
}

/// What the page was sent back with.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct EscalationQuery {
    attached: Option<i64>,
    acknowledged: Option<i64>,
}

/// The escalation forms.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct EscalationForm {
    ev_kind: String,
    ev_text: String,
    ev_url: String,
    ev_caption: String,
    version: Option<i64>,
    team: String,
    severity: String,
    reason: String,
}

/// An error in words, for the page's notice.
fn said(error: &AppError) -> String {
    match error {
        AppError::Invalid(errors) | AppError::MalformedFields(errors) => errors
            .0
            .iter()
            .map(|e| format!("{}: {}", e.field, e.reason))
            .collect::<Vec<_>>()
            .join("; "),
        AppError::Malformed(m)
        | AppError::Unauthenticated(m)
        | AppError::Forbidden(m)
        | AppError::NotFound(m)
        | AppError::Conflict(m)
        | AppError::TooLarge(m)
        | AppError::UnsupportedMediaType(m)
        | AppError::TooManyRequests(m)
        | AppError::Unavailable(m) => m.clone(),
        AppError::MethodNotAllowed(_) | AppError::Internal(_) => "something failed".into(),
    }
}

fn line(item: &warden_domain::evidence::EvidenceItem) -> EvidenceLine {
    let masked = |t: &str| warden_domain::privacy::mask_text(t).value;
    let shown = match &item.content {
        EvidenceContent::TextExcerpt { text } => masked(text),
        EvidenceContent::Url { url } => url.clone(),
        EvidenceContent::File { name, media_type } => format!("{name} ({media_type})"),
    };
    EvidenceLine {
        id: item.id,
        kind: item.content.kind().as_str().into(),
        shown,
        caption: masked(&item.caption),
        sha256: item.hash.to_hex(),
        size_bytes: item.size_bytes,
        added: format!(
            "{} by {}",
            item.added_at.format("%Y-%m-%d %H:%M UTC"),
            item.added_by
        ),
        verified: item.check.is_verified(),
        check: item.check.to_string(),
    }
}

/// The page, with `notice`, answered with `status`.
async fn show(
    state: &AppState,
    viewer: &Viewer,
    id: CaseId,
    notice: Option<Notice>,
    status: StatusCode,
) -> Result<Response, ConsoleError> {
    let actor = viewer.actor();
    let case = state
        .app
        .visible_case(&actor, id)
        .await
        .map_err(|e| gate_error(id, e.into()))?;
    let evidence = state.app.case_evidence(&actor, id).await?;
    let escalation = state.app.case_escalation(&actor, id).await?;
    let policy = &state.app.escalation_settings().policy;
    let layout = Layout::new(
        viewer,
        format!("Case {id}: escalation and evidence"),
        "case",
    )
    .with_notice(notice);
    Ok(render(
        status,
        &EscalationPage {
            layout,
            case_id: id.0,
            version: case.version,
            escalation: escalation.as_ref().map(Into::into),
            evidence: evidence.iter().map(line).collect(),
            teams: policy
                .teams()
                .iter()
                .map(|t| Choice {
                    value: t.name.clone(),
                    label: format!("{}: {}", t.name, t.description),
                })
                .collect(),
            severities: policy
                .definitions()
                .iter()
                .map(|d| Choice {
                    value: d.severity.as_str().into(),
                    label: format!("{} — {}", d.title(), d.definition),
                })
                .collect(),
        },
    ))
}

/// `GET /console/cases/{id}/escalation`.
pub async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    Query(query): Query<EscalationQuery>,
) -> Result<Response, ConsoleError> {
    let id = parse_case_id(&id)?;
    let notice = match (query.attached, query.acknowledged) {
        (Some(item), _) => Some(Notice::ok(format!("Evidence item {item} is attached."))),
        (_, Some(_)) => Some(Notice::ok("You took the escalation.")),
        _ => None,
    };
    show(&state, &viewer, id, notice, StatusCode::OK).await
}

/// The page again with what went wrong.
async fn failed(
    state: &AppState,
    viewer: &Viewer,
    id: CaseId,
    error: AppError,
) -> Result<Response, ConsoleError> {
    if matches!(&error, AppError::NotFound(m) if m == &format!("case {id} not found")) {
        return Err(gate_error(id, error));
    }
    show(
        state,
        viewer,
        id,
        Some(Notice::error(said(&error))),
        error.status(),
    )
    .await
}

/// `POST /console/cases/{id}/evidence`: a text excerpt or URL (form).
pub async fn attach(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    ConsoleForm(form): ConsoleForm<EscalationForm>,
) -> Result<Response, ConsoleError> {
    let id = parse_case_id(&id)?;
    let some = |s: &str| Some(s.to_string()).filter(|s| !s.trim().is_empty());
    let input = EvidenceInput {
        kind: some(&form.ev_kind),
        text: some(&form.ev_text),
        url: some(&form.ev_url),
        file_name: None,
        media_type: None,
        caption: some(&form.ev_caption),
    };
    match state
        .app
        .attach_evidence(&viewer.actor(), id, &input, None)
        .await
    {
        Ok(item) => Ok(redirect(&format!(
            "/console/cases/{id}/escalation?attached={}",
            item.id
        ))),
        Err(error) => failed(&state, &viewer, id, error.into()).await,
    }
}

/// `POST /console/cases/{id}/escalate-team`: escalate to a team (form).
pub async fn escalate(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    ConsoleForm(form): ConsoleForm<EscalationForm>,
) -> Result<Response, ConsoleError> {
    let id = parse_case_id(&id)?;
    let some = |s: &str| Some(s.to_string()).filter(|s| !s.trim().is_empty());
    let input = EscalateInput {
        version: form.version,
        team: some(&form.team),
        severity: some(&form.severity),
        reason: some(&form.reason),
    };
    match state
        .app
        .escalate_to_team(&viewer.actor(), id, &input)
        .await
    {
        // The escalator may be outside the team: the case may be gone
        // from their view now, so they go home.
        Ok((case, _)) => Ok(redirect(&format!(
            "/console?escalated={}&to={}",
            case.id, case.queue
        ))),
        Err(error) => failed(&state, &viewer, id, error.into()).await,
    }
}

/// `POST /console/cases/{id}/acknowledge`: a team member takes it (form).
pub async fn acknowledge(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Response, ConsoleError> {
    let id = parse_case_id(&id)?;
    match state.app.acknowledge_escalation(&viewer.actor(), id).await {
        Ok(escalation) => Ok(redirect(&format!(
            "/console/cases/{id}/escalation?acknowledged={}",
            escalation.id
        ))),
        Err(error) => failed(&state, &viewer, id, error.into()).await,
    }
}

/// `GET /console/cases/{id}/package`: the package, printable.
pub async fn package(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Response, ConsoleError> {
    let id = parse_case_id(&id)?;
    match state.app.escalation_package(&viewer.actor(), id).await {
        Ok(package) => Ok(render(
            StatusCode::OK,
            &PackagePage {
                layout: Layout::new(&viewer, format!("Case {id}: escalation package"), "case"),
                case_id: id.0,
                markdown: to_markdown(&package.masked()),
            },
        )),
        Err(error) => failed(&state, &viewer, id, error.into()).await,
    }
}
