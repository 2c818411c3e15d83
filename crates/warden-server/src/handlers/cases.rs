//! Case work: queues, claiming, reading, deciding, and the lease and status
//! moves. Each handler parses the path and body into a command of
//! [`warden_app::cases`], calls the application (which passes the case
//! gate) and answers with the case as it is after the change.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;

use warden_app::cases::{AssigneeFilter, CaseListQuery, ClaimCommand, ShowCaseQuery};
use warden_app::Actor;
use warden_domain::access::Permission;
use warden_domain::case::CaseStatus;
use warden_domain::ids::UserName;
use warden_domain::limits::PAGE_SIZE_DEFAULT;
use warden_domain::{CaseId, SubjectRef};
use warden_store::CaseRecord;

use super::{JsonBody, OptionalJsonBody};
use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::paths;
use crate::wire::appeals::AppealWire;
use crate::wire::escalations::EscalationWire;
use crate::wire::{
    AssignBody, CaseList, CaseView, EscalateBody, NoteView, QueueView, RationaleBody, ReasonBody,
    VersionBody,
};
use crate::AppState;

/// The view of one case with its first reports and signals.
async fn case_view(state: &AppState, case: &CaseRecord) -> AppResult<Json<CaseView>> {
    let (reports, signals) = state.app.case_items(case).await?;
    let mut view = CaseView::new(case, &reports, &signals, state.now());
    view.appeal = appeal_view(state, &Actor::System, case.id, false).await?;
    Ok(Json(view))
}

/// The appeal of an appeal case, for its view (`None` for a report case).
/// `actor` has passed the case gate already.
async fn appeal_view(
    state: &AppState,
    actor: &Actor,
    case: CaseId,
    reveal: bool,
) -> AppResult<Option<AppealWire>> {
    Ok(state
        .app
        .appeal_of_case(actor, case)
        .await?
        .map(|detail| AppealWire::detail(&detail, reveal)))
}

/// `GET /api/v1/queues`.
pub async fn queues(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> AppResult<Json<Vec<QueueView>>> {
    let overview = state.app.queue_overview(&caller.actor()).await?;
    Ok(Json(overview.into_iter().map(QueueView::from).collect()))
}

/// `POST /api/v1/queues/{queue}/claim`.
pub async fn claim(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(queue): Path<String>,
) -> AppResult<Response> {
    let command = ClaimCommand {
        queue: paths::queue_name(&queue)?,
    };
    match state.app.claim(&caller.actor(), command).await? {
        Some(case) => Ok(case_view(&state, &case).await?.into_response()),
        None => Ok(StatusCode::NO_CONTENT.into_response()),
    }
}

/// Query of `GET /api/v1/cases`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseQuery {
    queue: Option<String>,
    /// One status or several, comma-separated.
    status: Option<String>,
    /// A user name, or `me`.
    assignee: Option<String>,
    subject_kind: Option<String>,
    subject_id: Option<String>,
    limit: Option<u32>,
    offset: Option<u32>,
}

impl TryFrom<CaseQuery> for CaseListQuery {
    type Error = AppError;

    /// Checks the filter; the first field at fault is named.
    fn try_from(query: CaseQuery) -> AppResult<Self> {
        if let Some(queue) = &query.queue {
            // The edge rule for names: a queue name never holds hidden characters.
            warden_domain::text::check_visible(queue).map_err(|e| AppError::invalid("queue", e))?;
        }
        let mut statuses = Vec::new();
        for status in query.status.iter().flat_map(|s| s.split(',')) {
            if !status.is_empty() {
                statuses.push(
                    status
                        .parse::<CaseStatus>()
                        .map_err(|e| AppError::invalid("status", e))?,
                );
            }
        }
        let assignee = match query.assignee.as_deref() {
            None => None,
            Some("me") => Some(AssigneeFilter::Me),
            Some(name) => Some(AssigneeFilter::Named(UserName::parse(name).map_err(
                |_| AppError::invalid("assignee", format!("no user named {name:?}")),
            )?)),
        };
        let subject = match (&query.subject_kind, &query.subject_id) {
            (Some(kind), Some(id)) => {
                let kind = kind
                    .parse()
                    .map_err(|e| AppError::invalid("subject_kind", e))?;
                let id = warden_domain::PlatformId::parse(id)
                    .map_err(|e| AppError::invalid("subject_id", e))?;
                Some(SubjectRef::new(kind, id))
            }
            (None, None) => None,
            _ => {
                return Err(AppError::invalid(
                    "subject_id",
                    "subject_kind and subject_id go together",
                ))
            }
        };
        let (limit, offset) = CaseListQuery::page(
            query.limit.unwrap_or(PAGE_SIZE_DEFAULT),
            query.offset.unwrap_or(0),
        )?;
        Ok(CaseListQuery {
            queue: query.queue,
            statuses,
            assignee,
            subject,
            limit,
            offset,
        })
    }
}

/// `GET /api/v1/cases`.
pub async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    query: Result<Query<CaseQuery>, axum::extract::rejection::QueryRejection>,
) -> AppResult<Json<CaseList>> {
    let Query(query) = query.map_err(super::query_rejection)?;
    let query = CaseListQuery::try_from(query)?;
    let (limit, offset) = (query.limit, query.offset);
    let page = state.app.list_cases(&caller.actor(), query).await?;
    let now = state.now();
    let views = page
        .cases
        .iter()
        .map(|case| {
            let case_reports: Vec<_> = page
                .reports
                .iter()
                .filter(|r| r.case_id == Some(case.id))
                .cloned()
                .collect();
            let case_signals: Vec<_> = page
                .signals
                .iter()
                .filter(|s| s.case_id == Some(case.id))
                .cloned()
                .collect();
            CaseView::new(case, &case_reports, &case_signals, now)
        })
        .collect();
    Ok(Json(CaseList {
        cases: views,
        limit,
        offset,
    }))
}

/// Query of single-case and subject reads: reveal personal data, with a reason.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RevealQuery {
    /// Why personal data must be seen unmasked; asking needs `pii.reveal`.
    pub reveal_reason: Option<String>,
}

/// `GET /api/v1/cases/{id}`.
pub async fn show(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    query: Result<Query<RevealQuery>, axum::extract::rejection::QueryRejection>,
) -> AppResult<Json<CaseView>> {
    let Query(query) = query.map_err(super::query_rejection)?;
    let case = paths::case_id(&id)?;
    let shown = state
        .app
        .show_case(
            &caller.actor(),
            ShowCaseQuery {
                case,
                reveal_reason: query.reveal_reason,
            },
        )
        .await?;
    let reveal = shown.revealed.is_some();
    let mut view = CaseView::detail(&shown.detail, reveal, state.now());
    view.classifier_score = state
        .app
        .explain_case_score(&caller.actor(), case, SCORE_DRIVERS_SHOWN)
        .await?
        .map(|e| crate::wire::ClassifierScoreView::new(e, reveal));
    view.appeal = appeal_view(&state, &caller.actor(), case, reveal).await?;
    view.escalation = state
        .app
        .case_escalation(&caller.actor(), case)
        .await?
        .as_ref()
        .map(EscalationWire::from);
    Ok(Json(view))
}

/// Drivers of a classifier score in the single-case view.
const SCORE_DRIVERS_SHOWN: usize = 20;

/// `POST /api/v1/cases/{id}/decision`.
pub async fn decide(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<serde_json::Value>,
) -> AppResult<Response> {
    // An appeal case takes an outcome (appeals.rs); a report case a
    // decision with the enforcement extras (decisions.rs).
    let case = paths::case_id(&id)?;
    let checked = state.app.visible_case(&caller.actor(), case).await?;
    if checked.kind == warden_domain::appeal::CaseKind::Appeal {
        let request = super::decode_value(body)?;
        return super::appeals::decide(&state, &caller, case, request).await;
    }
    let request = super::decode_value(body)?;
    super::decisions::decide(state, caller, id, request).await
}

/// `POST /api/v1/cases/{id}/release`: a lead releases any case, others
/// their own.
pub async fn release(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    OptionalJsonBody(body): OptionalJsonBody<VersionBody>,
) -> AppResult<Json<CaseView>> {
    let command = body.unwrap_or_default().command(paths::case_id(&id)?);
    let actor = caller.actor();
    let case = if actor.may(Permission::CaseAssign) {
        state.app.release_as_lead(&actor, command).await?
    } else {
        state.app.release(&actor, command).await?
    };
    case_view(&state, &case).await
}

/// `POST /api/v1/cases/{id}/hold`.
pub async fn hold(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ReasonBody>,
) -> AppResult<Json<CaseView>> {
    let command = body.command(paths::case_id(&id)?)?;
    let case = state.app.hold(&caller.actor(), command).await?;
    case_view(&state, &case).await
}

/// `POST /api/v1/cases/{id}/renew`.
pub async fn renew(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    OptionalJsonBody(body): OptionalJsonBody<VersionBody>,
) -> AppResult<Json<CaseView>> {
    let command = body.unwrap_or_default().command(paths::case_id(&id)?);
    let case = state.app.renew(&caller.actor(), command).await?;
    case_view(&state, &case).await
}

/// `POST /api/v1/cases/{id}/escalate`.
pub async fn escalate(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<EscalateBody>,
) -> AppResult<Json<CaseView>> {
    let id = paths::case_id(&id)?;
    if body.team.is_some() || body.severity.is_some() {
        if body.queue.is_some() {
            return Err(AppError::invalid(
                "queue",
                "an escalation to a team goes to the team's queue; leave queue out",
            ));
        }
        let input = warden_domain::escalation::EscalateInput {
            version: body.version,
            team: body.team,
            severity: body.severity,
            reason: Some(body.reason),
        };
        let (case, escalation) = state
            .app
            .escalate_to_team(&caller.actor(), id, &input)
            .await?;
        let Json(mut view) = case_view(&state, &case).await?;
        view.escalation = Some(EscalationWire::from(&escalation));
        return Ok(Json(view));
    }
    let command = body.command(id)?;
    let case = state.app.escalate(&caller.actor(), command).await?;
    case_view(&state, &case).await
}

/// `POST /api/v1/cases/{id}/wait`.
pub async fn wait(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ReasonBody>,
) -> AppResult<Json<CaseView>> {
    let command = body.command(paths::case_id(&id)?)?;
    let case = state.app.wait(&caller.actor(), command).await?;
    case_view(&state, &case).await
}

/// `POST /api/v1/cases/{id}/resume`.
pub async fn resume(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    OptionalJsonBody(body): OptionalJsonBody<VersionBody>,
) -> AppResult<Json<CaseView>> {
    let command = body.unwrap_or_default().command(paths::case_id(&id)?);
    let case = state.app.resume(&caller.actor(), command).await?;
    case_view(&state, &case).await
}

/// `POST /api/v1/cases/{id}/reopen`.
pub async fn reopen(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ReasonBody>,
) -> AppResult<Json<CaseView>> {
    let command = body.command(paths::case_id(&id)?)?;
    let case = state.app.reopen(&caller.actor(), command).await?;
    case_view(&state, &case).await
}

/// `POST /api/v1/cases/{id}/assign`.
pub async fn assign(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<AssignBody>,
) -> AppResult<Json<CaseView>> {
    let command = body.command(paths::case_id(&id)?)?;
    let case = state.app.assign(&caller.actor(), command).await?;
    case_view(&state, &case).await
}

/// `POST /api/v1/cases/{id}/notes`.
pub async fn add_note(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<RationaleBody>,
) -> AppResult<Response> {
    let command = body.note(paths::case_id(&id)?)?;
    let note = state.app.add_note(&caller.actor(), command).await?;
    Ok((StatusCode::CREATED, Json(NoteView::from(&note))).into_response())
}
