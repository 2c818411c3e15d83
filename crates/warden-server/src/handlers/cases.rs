//! Case work: queues, claiming, reading, deciding, and the lease and status moves.
//!
//! Every route here that names a case passes the case gate
//! ([`crate::case_access`]) first: a case the caller may not see is not
//! found, and a case someone else holds changes only by them or a lead.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::json;

use warden_domain::access::Permission;
use warden_domain::case::CaseStatus;
use warden_domain::limits::{PAGE_SIZE_DEFAULT, PAGE_SIZE_MAX};
use warden_domain::CaseId;
use warden_store::{Actor, CaseFilter, CaseRecord, NoteRecord, StatusChange};

use super::{JsonBody, OptionalJsonBody};
use crate::auth::Caller;
use crate::case_access::{self, changeable_case, expected_version, visible_case};
use crate::error::{AppError, AppResult};
use crate::wire::{
    AssignBody, CaseList, CaseView, EscalateBody, NoteView, QueueView, RationaleBody, ReasonBody,
    VersionBody,
};
use crate::AppState;

/// Reports and signals shown per case in lists.
const LIST_ITEMS_PER_CASE: u32 = 5;

/// Reasons given for holds, escalations and the like.
const REASON_CHARS_MAX: usize = 1_000;

fn actor(caller: &Caller) -> Actor {
    caller.actor()
}

/// A case id from a path, or 404.
pub fn parse_case_id(id: &str) -> AppResult<CaseId> {
    id.parse::<i64>()
        .ok()
        .filter(|id| *id > 0)
        .map(CaseId)
        .ok_or_else(|| {
            AppError::NotFound(format!(
                "case {id:?} not found: case ids are positive integers"
            ))
        })
}

/// A reason for a hold, an escalation and the like: required, bounded.
pub fn check_reason(reason: &str) -> AppResult<String> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Err(AppError::invalid(
            "reason",
            "is required: say why, in a sentence",
        ));
    }
    if reason.chars().count() > REASON_CHARS_MAX {
        return Err(AppError::invalid(
            "reason",
            format!("must be at most {REASON_CHARS_MAX} characters"),
        ));
    }
    Ok(reason.to_string())
}

/// The view of one case with its first reports and signals.
async fn case_view(state: &AppState, case: &CaseRecord) -> AppResult<CaseView> {
    let (reports, signals) = state
        .store
        .case_items(&[case.id], warden_domain::limits::CASE_ITEMS_SHOWN_MAX)
        .await?;
    Ok(CaseView::new(case, &reports, &signals, state.clock.now()))
}

/// `GET /api/v1/queues`.
pub async fn queues(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
) -> AppResult<Json<Vec<QueueView>>> {
    let now = state.clock.now();
    let scope = case_access::scope(&state, &caller.principal);
    let stats = state.store.queue_stats(&scope, now).await?;
    // Queues whose cases the caller may not see are not shown at all.
    let views = state
        .policy
        .router
        .queues()
        .iter()
        .filter(|queue| scope.contains(&queue.name))
        .map(|queue| {
            let stat = stats.iter().find(|s| s.queue == queue.name);
            QueueView {
                name: queue.name.clone(),
                description: queue.description.clone(),
                depth: stat.map_or(0, |s| s.depth),
                unassigned: stat.map_or(0, |s| s.unassigned),
                oldest_age_seconds: stat
                    .and_then(|s| s.oldest_opened_at)
                    .map(|t| (now - t).num_seconds()),
                resolution_breaches: stat.map_or(0, |s| s.resolution_breaches),
                first_touch_breaches: stat.map_or(0, |s| s.first_touch_breaches),
                claimable: caller.principal.may(Permission::CaseWork)
                    && queue.admits_principal(&caller.principal),
            }
        })
        .collect();
    Ok(Json(views))
}

/// Claims the next case of `queue` for the caller, if the queue admits
/// them (role and team); `None` when the queue has nothing to claim.
pub async fn claim_case(
    state: &AppState,
    caller: &Caller,
    queue: &str,
) -> AppResult<Option<CaseRecord>> {
    let definition = state
        .policy
        .router
        .queue(queue)
        .ok_or_else(|| AppError::NotFound(format!("queue {queue:?} not found")))?;
    if !definition.admits_principal(&caller.principal) {
        return Err(AppError::Forbidden(format!(
            "queue {queue:?} is restricted to {}",
            definition.restriction()
        )));
    }
    let now = state.clock.now();
    Ok(state
        .store
        .claim_next(&actor(caller), queue, state.settings.lease_default, now)
        .await?)
}

/// `POST /api/v1/queues/{queue}/claim`.
pub async fn claim(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(queue): Path<String>,
) -> AppResult<Response> {
    match claim_case(&state, &caller, &queue).await? {
        Some(case) => Ok(Json(case_view(&state, &case).await?).into_response()),
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

/// Rows a list may skip: deep offsets are slow; narrow the filter instead.
const OFFSET_MAX: u32 = 100_000;

/// `GET /api/v1/cases`.
pub async fn list(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    query: Result<Query<CaseQuery>, axum::extract::rejection::QueryRejection>,
) -> AppResult<Json<CaseList>> {
    let Query(query) = query.map_err(super::query_rejection)?;
    if let Some(queue) = &query.queue {
        // The edge rule for names: a queue name never holds hidden characters.
        warden_domain::text::check_visible(queue).map_err(|e| AppError::invalid("queue", e))?;
    }
    let mut filter = CaseFilter {
        queue: query.queue,
        scope: case_access::scope(&state, &caller.principal),
        ..CaseFilter::default()
    };
    if let Some(statuses) = &query.status {
        for status in statuses.split(',').filter(|s| !s.is_empty()) {
            filter.statuses.push(
                status
                    .parse::<CaseStatus>()
                    .map_err(|e| AppError::invalid("status", e))?,
            );
        }
    }
    if let Some(assignee) = &query.assignee {
        filter.assignee_id = Some(if assignee == "me" {
            caller.principal.user_id
        } else {
            state
                .store
                .user_by_name(assignee)
                .await?
                .ok_or_else(|| {
                    AppError::invalid("assignee", format!("no user named {assignee:?}"))
                })?
                .id
        });
    }
    match (&query.subject_kind, &query.subject_id) {
        (Some(kind), Some(id)) => {
            let kind = kind
                .parse()
                .map_err(|e| AppError::invalid("subject_kind", e))?;
            let id = warden_domain::PlatformId::parse(id)
                .map_err(|e| AppError::invalid("subject_id", e))?;
            filter.subject = Some(warden_domain::SubjectRef::new(kind, id));
        }
        (None, None) => {}
        _ => {
            return Err(AppError::invalid(
                "subject_id",
                "subject_kind and subject_id go together",
            ))
        }
    }
    let limit = query.limit.unwrap_or(PAGE_SIZE_DEFAULT);
    if !(1..=PAGE_SIZE_MAX).contains(&limit) {
        return Err(AppError::invalid(
            "limit",
            format!("must be from 1 to {PAGE_SIZE_MAX}"),
        ));
    }
    let offset = query.offset.unwrap_or(0);
    if offset > OFFSET_MAX {
        return Err(AppError::invalid(
            "offset",
            format!("must be at most {OFFSET_MAX}; narrow the filter instead"),
        ));
    }
    filter.limit = limit;
    filter.offset = offset;
    let cases = state.store.list_cases(&filter).await?;
    let ids: Vec<CaseId> = cases.iter().map(|c| c.id).collect();
    let (reports, signals) = state.store.case_items(&ids, LIST_ITEMS_PER_CASE).await?;
    let now = state.clock.now();
    if !ids.is_empty() {
        // A list shows cases' reports: it is a read of each case listed.
        state
            .store
            .record_read(
                &actor(&caller),
                "case.list",
                "cases",
                &format!("{} cases", ids.len()),
                json!({"ids": ids.iter().map(|id| id.0).collect::<Vec<_>>()}),
                now,
            )
            .await?;
    }
    let views = cases
        .iter()
        .map(|case| {
            let case_reports: Vec<_> = reports
                .iter()
                .filter(|r| r.case_id == Some(case.id))
                .cloned()
                .collect();
            let case_signals: Vec<_> = signals
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

/// Decides whether to reveal personal data, checking the permission and reason.
pub fn reveal(caller: &Caller, query: &RevealQuery) -> AppResult<Option<String>> {
    match &query.reveal_reason {
        None => Ok(None),
        Some(reason) => {
            if !caller.principal.may(Permission::PiiReveal) {
                return Err(AppError::Forbidden(format!(
                    "revealing personal data needs {}; the {} role does not have it",
                    Permission::PiiReveal,
                    caller.principal.role
                )));
            }
            check_reason(reason).map(Some).map_err(|_| {
                AppError::invalid("reveal_reason", "say why you need to see personal data")
            })
        }
    }
}

/// `GET /api/v1/cases/{id}`.
pub async fn show(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    query: Result<Query<RevealQuery>, axum::extract::rejection::QueryRejection>,
) -> AppResult<Json<CaseView>> {
    let Query(query) = query.map_err(super::query_rejection)?;
    let id = parse_case_id(&id)?;
    let detail = case_access::visible_case_detail(&state, &caller.principal, id).await?;
    let reveal_reason = reveal(&caller, &query)?;
    let now = state.clock.now();
    let action = if reveal_reason.is_some() {
        "pii.reveal"
    } else {
        "case.read"
    };
    state
        .store
        .record_read(
            &actor(&caller),
            action,
            "case",
            &id.to_string(),
            json!({"reason": reveal_reason}),
            now,
        )
        .await?;
    Ok(Json(CaseView::detail(
        &detail,
        reveal_reason.is_some(),
        now,
    )))
}

/// `POST /api/v1/cases/{id}/decision`.
pub async fn decide(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<crate::enforcement_wire::DecisionRequest>,
) -> AppResult<Response> {
    // The enforcement matrix, decision rights and extras: enforcement.rs.
    super::enforcement::decide(state, caller, id, body).await
}

/// `POST /api/v1/cases/{id}/release`.
pub async fn release(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    OptionalJsonBody(body): OptionalJsonBody<VersionBody>,
) -> AppResult<Json<CaseView>> {
    let id = parse_case_id(&id)?;
    let checked = changeable_case(&state, &caller.principal, id).await?;
    let version = expected_version(body.unwrap_or_default().version, &checked);
    let as_lead = caller.principal.may(Permission::CaseAssign);
    let case = state
        .store
        .release(&actor(&caller), id, version, as_lead, state.clock.now())
        .await?;
    Ok(Json(case_view(&state, &case).await?))
}

/// `POST /api/v1/cases/{id}/hold`.
pub async fn hold(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ReasonBody>,
) -> AppResult<Json<CaseView>> {
    let id = parse_case_id(&id)?;
    let checked = changeable_case(&state, &caller.principal, id).await?;
    let reason = check_reason(&body.reason)?;
    let case = state
        .store
        .hold(
            &actor(&caller),
            id,
            expected_version(body.version, &checked),
            &reason,
            state.clock.now(),
        )
        .await?;
    Ok(Json(case_view(&state, &case).await?))
}

/// `POST /api/v1/cases/{id}/renew`.
pub async fn renew(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    OptionalJsonBody(body): OptionalJsonBody<VersionBody>,
) -> AppResult<Json<CaseView>> {
    let id = parse_case_id(&id)?;
    let checked = changeable_case(&state, &caller.principal, id).await?;
    let version = expected_version(body.unwrap_or_default().version, &checked);
    let case = state
        .store
        .renew_lease(
            &actor(&caller),
            id,
            version,
            state.settings.lease_default,
            state.clock.now(),
        )
        .await?;
    Ok(Json(case_view(&state, &case).await?))
}

/// Moves a case the caller may change (see [`changeable_case`]) to another status.
async fn change_status(
    state: &AppState,
    caller: &Caller,
    checked: &CaseRecord,
    version: Option<i64>,
    change: StatusChange,
) -> AppResult<Json<CaseView>> {
    let case = state
        .store
        .change_status(
            &actor(caller),
            checked.id,
            expected_version(version, checked),
            change,
            state.clock.now(),
        )
        .await?;
    Ok(Json(case_view(state, &case).await?))
}

/// Escalates a case the caller holds to `queue` (the configured escalation
/// queue when `None`), with a reason.
pub async fn escalate_case(
    state: &AppState,
    caller: &Caller,
    id: CaseId,
    version: Option<i64>,
    reason: &str,
    queue: Option<String>,
) -> AppResult<CaseRecord> {
    let checked = changeable_case(state, &caller.principal, id).await?;
    let reason = check_reason(reason)?;
    let queue = queue.unwrap_or_else(|| state.settings.escalation_queue.clone());
    if state.policy.router.queue(&queue).is_none() {
        return Err(AppError::invalid(
            "queue",
            format!("no queue named {queue:?}"),
        ));
    }
    Ok(state
        .store
        .change_status(
            &actor(caller),
            id,
            expected_version(version, &checked),
            StatusChange {
                to: CaseStatus::Escalated,
                reason,
                queue: Some(queue),
                deadlines: None,
            },
            state.clock.now(),
        )
        .await?)
}

/// `POST /api/v1/cases/{id}/escalate`.
pub async fn escalate(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<EscalateBody>,
) -> AppResult<Json<CaseView>> {
    let id = parse_case_id(&id)?;
    let case = escalate_case(&state, &caller, id, body.version, &body.reason, body.queue).await?;
    Ok(Json(case_view(&state, &case).await?))
}

/// `POST /api/v1/cases/{id}/wait`.
pub async fn wait(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ReasonBody>,
) -> AppResult<Json<CaseView>> {
    let id = parse_case_id(&id)?;
    let checked = changeable_case(&state, &caller.principal, id).await?;
    let reason = check_reason(&body.reason)?;
    change_status(
        &state,
        &caller,
        &checked,
        body.version,
        StatusChange {
            to: CaseStatus::WaitingForInformation,
            reason,
            queue: None,
            deadlines: None,
        },
    )
    .await
}

/// `POST /api/v1/cases/{id}/resume`.
pub async fn resume(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    OptionalJsonBody(body): OptionalJsonBody<VersionBody>,
) -> AppResult<Json<CaseView>> {
    let id = parse_case_id(&id)?;
    // Resuming takes the case out of its holder's hands: only they or a lead may.
    let checked = changeable_case(&state, &caller.principal, id).await?;
    let version = body.unwrap_or_default().version;
    change_status(
        &state,
        &caller,
        &checked,
        version,
        StatusChange {
            to: CaseStatus::InReview,
            reason: "information received".into(),
            queue: None,
            deadlines: None,
        },
    )
    .await
}

/// `POST /api/v1/cases/{id}/reopen`.
pub async fn reopen(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<ReasonBody>,
) -> AppResult<Json<CaseView>> {
    let id = parse_case_id(&id)?;
    let case = changeable_case(&state, &caller.principal, id).await?;
    let reason = check_reason(&body.reason)?;
    // A reopened case starts a new SLA clock in its queue.
    let deadlines = state
        .policy
        .router
        .queue(&case.queue)
        .map(|q| q.sla.deadlines(case.severity, state.clock.now()));
    change_status(
        &state,
        &caller,
        &case,
        body.version,
        StatusChange {
            to: CaseStatus::Reopened,
            reason,
            queue: None,
            deadlines,
        },
    )
    .await
}

/// Hands a case to another user who can work cases and whom the case's
/// queue admits (a lead's move).
pub async fn assign_case(
    state: &AppState,
    caller: &Caller,
    id: CaseId,
    version: Option<i64>,
    user: &str,
) -> AppResult<CaseRecord> {
    let checked = visible_case(state, &caller.principal, id).await?;
    let assignee = state
        .store
        .user_by_name(user)
        .await?
        .ok_or_else(|| AppError::invalid("user", format!("no user named {user:?}")))?;
    if assignee.disabled || !assignee.role.grants(Permission::CaseWork) {
        return Err(AppError::invalid(
            "user",
            format!("{} cannot work cases", assignee.name),
        ));
    }
    if !state
        .policy
        .router
        .sees(assignee.role, &assignee.teams, &checked.queue)
    {
        let restriction = state
            .policy
            .router
            .queue(&checked.queue)
            .map(|q| q.restriction())
            .unwrap_or_else(|| "leads (the queue is no longer configured)".into());
        return Err(AppError::invalid(
            "user",
            format!(
                "queue {} does not admit {}: it is restricted to {restriction}",
                checked.queue, assignee.name
            ),
        ));
    }
    Ok(state
        .store
        .assign(
            &actor(caller),
            id,
            expected_version(version, &checked),
            &assignee,
            state.settings.lease_default,
            state.clock.now(),
        )
        .await?)
}

/// `POST /api/v1/cases/{id}/assign`.
pub async fn assign(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<AssignBody>,
) -> AppResult<Json<CaseView>> {
    let id = parse_case_id(&id)?;
    let case = assign_case(&state, &caller, id, body.version, &body.user).await?;
    Ok(Json(case_view(&state, &case).await?))
}

/// Checks a structured note (at least one section, each within its limit)
/// and adds it to a case the caller may see. Notes are allowed on a case
/// someone else holds: they change nothing about the case, name their
/// author, and second opinions are part of the work.
pub async fn add_case_note(
    state: &AppState,
    caller: &Caller,
    id: CaseId,
    note: RationaleBody,
) -> AppResult<NoteRecord> {
    visible_case(state, &caller.principal, id).await?;
    let note = note.into_domain();
    let sections = [
        ("what_happened", &note.what_happened),
        ("evidence", &note.evidence),
        ("policy", &note.policy),
        ("action", &note.action),
        ("next_steps", &note.next_steps),
    ];
    if sections.iter().all(|(_, text)| text.trim().is_empty()) {
        return Err(AppError::invalid(
            "what_happened",
            "a note needs at least one section filled in",
        ));
    }
    for (field, text) in sections {
        if text.chars().count() > warden_domain::limits::RATIONALE_SECTION_CHARS_MAX {
            return Err(AppError::invalid(
                field,
                format!(
                    "must be at most {} characters",
                    warden_domain::limits::RATIONALE_SECTION_CHARS_MAX
                ),
            ));
        }
    }
    Ok(state
        .store
        .add_note(&actor(caller), id, note, state.clock.now())
        .await?)
}

/// `POST /api/v1/cases/{id}/notes`.
pub async fn add_note(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<RationaleBody>,
) -> AppResult<Response> {
    let id = parse_case_id(&id)?;
    let note = add_case_note(&state, &caller, id, body).await?;
    Ok((StatusCode::CREATED, Json(NoteView::from(&note))).into_response())
}
