//! The case review page and what its forms do.
//!
//! `GET` shows the case (the read is audited, as on the API). Every form on
//! the page is one `<form>` with several buttons, so each `POST` carries
//! everything the analyst typed: renewing the lease, holding, adding a note
//! or revealing personal data answers with the page again, draft intact.
//! Deciding, releasing and escalating move on (`303`). A stale version or
//! a refused change answers with the fresh page, a plain message, and the
//! draft kept.
//!
//! Every handler passes the case gate ([`crate::case_access`]) before it
//! reads the form's content: a case the viewer may not see is the same
//! `404` page as a case that does not exist, and a change of a case
//! someone else holds is refused (`409`) unless the viewer is a lead.

pub mod form;
pub mod view;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::json;

use warden_domain::access::Permission;
use warden_domain::case::CaseStatus;
use warden_domain::enforcement::{assess, ApprovalReason, EnforcementPolicy, Situation};
use warden_domain::ids::SubjectKind;
use warden_domain::CaseId;
use warden_store::{Actor, CaseFilter};

use self::form::{form_errors, CaseForm};
use self::view::{case_page, Loaded, RecommendationPanel, HISTORY_SHOWN};
use super::assets;
use super::view::{problem_code, render, ConsoleError, ConsoleForm, Layout, Notice, Viewer};
use super::{redirect, text};
use crate::case_access;
use crate::error::AppError;
use crate::handlers::cases::{
    add_case_note, assign_case, check_reason, claim_case, escalate_case, parse_case_id,
    reveal as check_reveal, RevealQuery,
};
use crate::AppState;

fn actor(viewer: &Viewer) -> Actor {
    viewer.caller.actor()
}

/// The page for a case that does not exist, or that the viewer may not see.
fn no_case(id: CaseId) -> ConsoleError {
    ConsoleError::not_found(format!("There is no case {id}."))
}

/// Turns the gate's "not found" into the console's page for it.
fn gate_error(id: CaseId, error: AppError) -> ConsoleError {
    match error {
        AppError::NotFound(_) => no_case(id),
        other => other.into(),
    }
}

/// The case, if the viewer may see it.
async fn seen(
    state: &AppState,
    viewer: &Viewer,
    id: CaseId,
) -> Result<warden_store::CaseRecord, ConsoleError> {
    case_access::visible_case(state, &viewer.caller.principal, id)
        .await
        .map_err(|e| gate_error(id, e))
}

/// The case, if the viewer may see it and change it now; `Ok(Err(_))`
/// when someone else holds it (the page says so, draft kept).
async fn changeable(
    state: &AppState,
    viewer: &Viewer,
    id: CaseId,
) -> Result<Result<warden_store::CaseRecord, AppError>, ConsoleError> {
    match case_access::changeable_case(state, &viewer.caller.principal, id).await {
        Ok(case) => Ok(Ok(case)),
        Err(held @ AppError::Conflict(_)) => Ok(Err(held)),
        Err(other) => Err(gate_error(id, other)),
    }
}

/// Open statuses, for lists of cases still to work.
pub const OPEN_STATUSES: [CaseStatus; 5] = [
    CaseStatus::New,
    CaseStatus::InReview,
    CaseStatus::WaitingForInformation,
    CaseStatus::Escalated,
    CaseStatus::Reopened,
];

/// How the page is shown after a form.
struct Outcome {
    status: StatusCode,
    form: CaseForm,
    errors: Vec<(String, String)>,
    notice: Option<Notice>,
    conflict: Option<String>,
    reveal: Option<String>,
}

impl Outcome {
    fn fresh(notice: Option<Notice>) -> Self {
        Self {
            status: StatusCode::OK,
            form: CaseForm::default(),
            errors: Vec::new(),
            notice,
            conflict: None,
            reveal: None,
        }
    }

    fn with_form(form: CaseForm) -> Self {
        Self {
            form,
            ..Self::fresh(None)
        }
    }

    /// The page again after `error`, the draft kept.
    fn failed(form: CaseForm, error: AppError, kinds: &[&str]) -> Self {
        let mut outcome = Self::with_form(form);
        outcome.status = error.status();
        match error {
            AppError::Invalid(errors) => {
                outcome.errors = form_errors(&errors, kinds);
                outcome.notice = Some(Notice::error(
                    "Some fields need attention; they are marked below. Nothing was saved.",
                ));
            }
            AppError::Conflict(message) => {
                outcome.conflict = Some(message);
            }
            other => {
                let problem = other.problem();
                outcome.notice = Some(Notice::error(format!(
                    "{}: {}. Nothing was saved.",
                    problem.title, problem.detail
                )));
            }
        }
        outcome
    }
}

/// Reads what the page shows and audits the read.
async fn load(
    state: &AppState,
    viewer: &Viewer,
    id: CaseId,
    reveal_reason: Option<&str>,
) -> Result<Loaded, ConsoleError> {
    let now = state.clock.now();
    let principal = &viewer.caller.principal;
    let detail = case_access::visible_case_detail(state, principal, id)
        .await
        .map_err(|e| gate_error(id, e))?;
    // The subject's and its account's other cases: only those the viewer may see.
    let history = state
        .store
        .subject_history(&detail.case.subject, HISTORY_SHOWN, now)
        .await?;
    let history = case_access::visible_history(state, principal, history).await?;
    let owner = detail
        .subject
        .as_ref()
        .and_then(|s| s.owner.clone())
        .filter(|o| o.kind == SubjectKind::Account && *o != detail.case.subject);
    let account = match owner {
        Some(owner) => {
            let h = state
                .store
                .subject_history(&owner, HISTORY_SHOWN, now)
                .await?;
            let h = case_access::visible_history(state, principal, h).await?;
            Some((owner, h))
        }
        None => None,
    };
    let assignees = if viewer.may(Permission::CaseAssign) {
        state.store.list_users().await?
    } else {
        Vec::new()
    };
    let (action, details) = match reveal_reason {
        Some(reason) => (
            "pii.reveal",
            json!({"reason": reason, "via": "console", "subject": detail.case.subject.to_string()}),
        ),
        None => ("case.read", json!({"via": "console"})),
    };
    state
        .store
        .record_read(
            &actor(viewer),
            action,
            "case",
            &id.to_string(),
            details,
            now,
        )
        .await?;
    Ok(Loaded {
        detail,
        history,
        account,
        assignees,
        recommendation: None,
    })
}

/// What the enforcement matrix recommends for the case (for the category
/// chosen in the form, else the case's), the same as
/// `GET /api/v1/cases/{id}/recommendation`, and which ticked actions would
/// wait for a lead. Not shown when it cannot be read; the page still works.
async fn recommendation_panel(
    state: &AppState,
    loaded: &Loaded,
    form: &CaseForm,
) -> Option<RecommendationPanel> {
    let case = &loaded.detail.case;
    let now = state.clock.now();
    let chosen_category =
        Some(form.category.trim()).filter(|c| !c.is_empty() && *c != case.category);
    let mut record = state
        .store
        .recommendation(case.id, chosen_category, &state.policy, now)
        .await;
    if record.is_err() && chosen_category.is_some() {
        record = state
            .store
            .recommendation(case.id, None, &state.policy, now)
            .await;
    }
    let record = match record {
        Ok(record) => record,
        Err(error) => {
            tracing::warn!(%error, case = case.id.0, "no recommendation for the case page");
            return None;
        }
    };
    let words = |spec: &warden_domain::decision::ActionSpec| {
        super::enforcement::action_words(
            spec.kind.type_name(),
            None,
            None,
            spec.duration.map(|d| d.num_seconds()),
        )
    };
    let reasons = |reasons: &[ApprovalReason]| {
        reasons
            .iter()
            .map(|r| r.to_string())
            .collect::<Vec<_>>()
            .join("; ")
    };
    let recommended_approvals = record
        .recommendation
        .iter()
        .zip(&record.approvals)
        .filter(|(_, why)| !why.is_empty())
        .map(|(spec, why)| (words(spec), reasons(why)))
        .collect();
    let chosen = match form.chosen_specs() {
        Some(specs) if !specs.is_empty() => {
            let policy = match state.store.taxonomy_current().await {
                Ok(Some(version)) => Some(version.policy),
                Ok(None) => Some(EnforcementPolicy::default_for(&state.policy.taxonomy)),
                Err(_) => None,
            };
            policy.map(|policy| {
                let situation = Situation {
                    category: &record.category,
                    severity: record.severity,
                    prior_strike_weight: record.prior_strike_weight,
                    subject_kind: case.subject.kind,
                    has_account: record.account.is_some(),
                    account_tags: &record.account_tags,
                };
                let only: Vec<_> = specs.iter().map(|(_, spec)| spec.clone()).collect();
                let assessment = assess(&policy, &situation, &only);
                specs
                    .iter()
                    .zip(&assessment.approvals)
                    .map(|((label, _), why)| (label.to_string(), reasons(why)))
                    .collect()
            })
        }
        _ => None,
    };
    Some(RecommendationPanel {
        category: record.category.clone(),
        severity: record.severity.as_str(),
        taxonomy_version: record.taxonomy_version,
        actions: record.recommendation.iter().map(words).collect(),
        prior_strike_weight: record.prior_strike_weight,
        account: record
            .account
            .as_ref()
            .map(|a| a.to_string())
            .unwrap_or_default(),
        recommended_approvals,
        chosen,
    })
}

/// Renders the case page after `outcome`.
async fn show(
    state: &AppState,
    viewer: &Viewer,
    id: CaseId,
    outcome: Outcome,
) -> Result<Response, ConsoleError> {
    let mut loaded = load(state, viewer, id, outcome.reveal.as_deref()).await?;
    if viewer.may(Permission::CaseWork) {
        loaded.recommendation = recommendation_panel(state, &loaded, &outcome.form).await;
    }
    let title = format!("Case {id}");
    let layout = Layout::new(viewer, title, "case").with_notice(outcome.notice);
    let page = case_page(
        state,
        viewer,
        loaded,
        outcome.form,
        outcome.errors,
        outcome.conflict,
        outcome.reveal.is_some(),
        layout,
    );
    Ok(render(outcome.status, &page))
}

/// Query of the case page: what just happened, to say so.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CaseQuery {
    decided: Option<i64>,
    assigned: Option<String>,
}

/// `GET /console/cases/{id}`.
pub async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    query: Result<Query<CaseQuery>, QueryRejection>,
) -> Result<Response, ConsoleError> {
    let id = parse_case_id(&id)?;
    let query = query.map(|Query(q)| q).unwrap_or_default();
    let notice = match (query.decided, query.assigned) {
        (Some(decided), _) if decided == id.0 => Some(Notice::ok("Decision recorded.")),
        (Some(decided), _) => Some(Notice::ok(format!(
            "Case {decided} is decided. This is the next case for you."
        ))),
        (None, Some(_)) => Some(Notice::ok("Handed over; the lease is theirs now.")),
        _ => None,
    };
    show(&state, &viewer, id, Outcome::fresh(notice)).await
}

/// The case the viewer holds in `queue`, or the next one claimed for them.
async fn next_case(
    state: &AppState,
    viewer: &Viewer,
    queue: &str,
) -> Result<Option<CaseId>, AppError> {
    let now = state.clock.now();
    let held = state
        .store
        .list_cases(&CaseFilter {
            queue: Some(queue.to_string()),
            statuses: OPEN_STATUSES.to_vec(),
            assignee_id: Some(viewer.caller.principal.user_id),
            scope: case_access::scope(state, &viewer.caller.principal),
            limit: 50,
            ..CaseFilter::default()
        })
        .await?;
    if let Some(case) = held
        .iter()
        .find(|c| c.is_held_by(viewer.caller.principal.user_id, now))
    {
        return Ok(Some(case.id));
    }
    Ok(claim_case(state, &viewer.caller, queue)
        .await?
        .map(|case| case.id))
}

/// Resumes or claims a case in `queue` and answers with where to go.
pub async fn go_to_next(
    state: &AppState,
    viewer: &Viewer,
    queue: &str,
    decided: Option<CaseId>,
) -> Response {
    let decided_query = decided
        .map(|id| format!("decided={id}"))
        .unwrap_or_default();
    match next_case(state, viewer, queue).await {
        Ok(Some(id)) if decided_query.is_empty() => redirect(&format!("/console/cases/{id}")),
        Ok(Some(id)) => redirect(&format!("/console/cases/{id}?{decided_query}")),
        Ok(None) if decided_query.is_empty() => {
            redirect(&format!("/console/queues/{queue}?empty=1"))
        }
        Ok(None) => redirect(&format!("/console/queues/{queue}?empty=1&{decided_query}")),
        Err(error) => redirect(&format!(
            "/console/queues/{queue}?problem={}{}",
            problem_code(&error),
            decided
                .map(|id| format!("&decided={id}"))
                .unwrap_or_default()
        )),
    }
}

/// `POST /console/cases/{id}/decision`.
pub async fn decide(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    ConsoleForm(form): ConsoleForm<CaseForm>,
) -> Result<Response, ConsoleError> {
    let id = parse_case_id(&id)?;
    let before = match changeable(&state, &viewer, id).await? {
        Ok(case) => case,
        Err(held) => return show(&state, &viewer, id, Outcome::failed(form, held, &[])).await,
    };
    let (body, kinds) = match form.decision() {
        Ok(decision) => decision,
        Err(errors) => {
            let outcome = Outcome::failed(form, AppError::Invalid(errors), &[]);
            return show(&state, &viewer, id, outcome).await;
        }
    };
    let may_correct = viewer.may(Permission::CaseCorrect);
    // The same path as the API: the enforcement matrix, decision rights and
    // the outbox. A departure from the matrix is explained by the override
    // reason, else by the rationale's action section.
    let decided = crate::handlers::enforcement::decide_case(
        &state,
        &actor(&viewer),
        may_correct,
        id,
        body,
        form.extras(),
    )
    .await;
    match decided {
        Ok(_) => {
            if form.next == "1" {
                Ok(go_to_next(&state, &viewer, &before.queue, Some(id)).await)
            } else {
                Ok(redirect(&format!("/console/cases/{id}?decided={id}")))
            }
        }
        Err(error @ (AppError::Conflict(_) | AppError::Invalid(_))) => {
            let error = match error {
                AppError::Conflict(message) => AppError::Conflict(format!(
                    "{message}. The page now shows the case as it is; what you typed is kept below. Check what changed, then submit again."
                )),
                other => other,
            };
            let outcome = Outcome::failed(form, error, &kinds);
            show(&state, &viewer, id, outcome).await
        }
        Err(error) => Err(error.into()),
    }
}

/// `POST /console/cases/{id}/notes`.
pub async fn add_note(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    ConsoleForm(mut form): ConsoleForm<CaseForm>,
) -> Result<Response, ConsoleError> {
    let id = parse_case_id(&id)?;
    // Notes are allowed on a case someone else holds; only seeing it counts.
    seen(&state, &viewer, id).await?;
    let outcome = match add_case_note(&state, &viewer.caller, id, form.note()).await {
        Ok(_) => {
            form.clear_note();
            let mut outcome = Outcome::with_form(form);
            outcome.notice = Some(Notice::ok("Note added."));
            outcome
        }
        Err(error) => {
            let error = match error {
                AppError::Invalid(errors) => AppError::Invalid(warden_domain::FieldErrors(
                    errors
                        .0
                        .into_iter()
                        .map(|e| warden_domain::FieldError::new(format!("n_{}", e.field), e.reason))
                        .collect(),
                )),
                other => other,
            };
            Outcome::failed(form, error, &[])
        }
    };
    show(&state, &viewer, id, outcome).await
}

/// `POST /console/cases/{id}/renew`.
pub async fn renew(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    ConsoleForm(form): ConsoleForm<CaseForm>,
) -> Result<Response, ConsoleError> {
    let id = parse_case_id(&id)?;
    let checked = match changeable(&state, &viewer, id).await? {
        Ok(case) => case,
        Err(held) => return show(&state, &viewer, id, Outcome::failed(form, held, &[])).await,
    };
    let now = state.clock.now();
    let renewed = state
        .store
        .renew_lease(
            &actor(&viewer),
            id,
            case_access::expected_version(None, &checked),
            state.settings.lease_default,
            now,
        )
        .await;
    let outcome = match renewed {
        Ok(case) => {
            let mut outcome = Outcome::with_form(form);
            outcome.notice = case.lease_expires_at.map(|t| {
                Notice::ok(format!(
                    "Lease renewed: it ends {} ({}).",
                    text::until(now, t),
                    text::stamp(t)
                ))
            });
            outcome
        }
        Err(error) => Outcome::failed(form, error.into(), &[]),
    };
    show(&state, &viewer, id, outcome).await
}

/// `POST /console/cases/{id}/hold`.
pub async fn hold(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    ConsoleForm(form): ConsoleForm<CaseForm>,
) -> Result<Response, ConsoleError> {
    let id = parse_case_id(&id)?;
    let checked = match changeable(&state, &viewer, id).await? {
        Ok(case) => case,
        Err(held) => return show(&state, &viewer, id, Outcome::failed(form, held, &[])).await,
    };
    let held = match check_reason(&form.hold_reason) {
        Ok(reason) => state
            .store
            .hold(
                &actor(&viewer),
                id,
                case_access::expected_version(None, &checked),
                &reason,
                state.clock.now(),
            )
            .await
            .map_err(AppError::from),
        Err(_) => Err(AppError::invalid(
            "hold_reason",
            "say why you need to keep the case past its lease",
        )),
    };
    let outcome = match held {
        Ok(_) => {
            let mut form = form;
            form.hold_reason.clear();
            let mut outcome = Outcome::with_form(form);
            outcome.notice = Some(Notice::ok(
                "The case is held for you past its lease. Release it when you are done.",
            ));
            outcome
        }
        Err(error) => Outcome::failed(form, error, &[]),
    };
    show(&state, &viewer, id, outcome).await
}

/// `POST /console/cases/{id}/release`.
pub async fn release(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    ConsoleForm(form): ConsoleForm<CaseForm>,
) -> Result<Response, ConsoleError> {
    let id = parse_case_id(&id)?;
    let checked = match changeable(&state, &viewer, id).await? {
        Ok(case) => case,
        Err(held) => return show(&state, &viewer, id, Outcome::failed(form, held, &[])).await,
    };
    let as_lead = viewer.may(Permission::CaseAssign);
    let version = form.version.trim().parse::<i64>().ok();
    let released = state
        .store
        .release(
            &actor(&viewer),
            id,
            case_access::expected_version(version.filter(|_| form.return_to == "lead"), &checked),
            as_lead,
            state.clock.now(),
        )
        .await;
    match released {
        Ok(case) if form.return_to == "lead" => {
            Ok(redirect(&format!("/console/lead?released={}", case.id)))
        }
        Ok(case) => Ok(redirect(&format!(
            "/console/queues/{}?released={}",
            case.queue, case.id
        ))),
        Err(error) if form.return_to == "lead" => Ok(super::lead::with_problem(error.into())),
        Err(error) => {
            show(
                &state,
                &viewer,
                id,
                Outcome::failed(form, error.into(), &[]),
            )
            .await
        }
    }
}

/// `POST /console/cases/{id}/escalate`.
pub async fn escalate(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    ConsoleForm(form): ConsoleForm<CaseForm>,
) -> Result<Response, ConsoleError> {
    let id = parse_case_id(&id)?;
    let from = match changeable(&state, &viewer, id).await? {
        Ok(case) => case.queue,
        Err(held) => return show(&state, &viewer, id, Outcome::failed(form, held, &[])).await,
    };
    let queue = Some(form.escalate_queue.trim().to_string()).filter(|q| !q.is_empty());
    let escalated = match check_reason(&form.escalate_reason) {
        Ok(reason) => escalate_case(&state, &viewer.caller, id, None, &reason, queue).await,
        Err(_) => Err(AppError::invalid(
            "escalate_reason",
            "say why the case needs a specialist or a lead",
        )),
    };
    match escalated {
        Ok(case) => Ok(redirect(&format!(
            "/console/queues/{from}?escalated={}&to={}",
            case.id, case.queue
        ))),
        Err(error) => {
            let error = match error {
                AppError::Invalid(errors) => AppError::Invalid(warden_domain::FieldErrors(
                    errors
                        .0
                        .into_iter()
                        .map(|e| {
                            let field = if e.field == "queue" {
                                "escalate_queue".to_string()
                            } else {
                                e.field
                            };
                            warden_domain::FieldError::new(field, e.reason)
                        })
                        .collect(),
                )),
                other => other,
            };
            show(&state, &viewer, id, Outcome::failed(form, error, &[])).await
        }
    }
}

/// `POST /console/cases/{id}/reveal`.
pub async fn reveal(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    ConsoleForm(form): ConsoleForm<CaseForm>,
) -> Result<Response, ConsoleError> {
    let id = parse_case_id(&id)?;
    seen(&state, &viewer, id).await?;
    let query = RevealQuery {
        reveal_reason: Some(form.reveal_reason.clone()),
    };
    match check_reveal(&viewer.caller, &query) {
        Ok(reason) => {
            let mut outcome = Outcome::with_form(form);
            outcome.reveal = reason;
            outcome.notice = Some(Notice::warn(
                "Personal data is shown on this page only, and your reason is in the audit log. It is masked again on the next page.",
            ));
            show(&state, &viewer, id, outcome).await
        }
        Err(AppError::Invalid(_)) => {
            let error = AppError::invalid("reveal_reason", "say why you need to see personal data");
            show(&state, &viewer, id, Outcome::failed(form, error, &[])).await
        }
        Err(error) => Err(error.into()),
    }
}

/// `POST /console/cases/{id}/assign`.
pub async fn assign(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    ConsoleForm(form): ConsoleForm<CaseForm>,
) -> Result<Response, ConsoleError> {
    let id = parse_case_id(&id)?;
    seen(&state, &viewer, id).await?;
    let version = form.version.trim().parse::<i64>().ok();
    let user = form.user.trim().to_string();
    match assign_case(&state, &viewer.caller, id, version, &user).await {
        Ok(case) if form.return_to == "lead" => Ok(redirect(&format!(
            "/console/lead?{}",
            serde_urlencoded::to_string([("assigned", case.id.to_string()), ("to", user)])
                .unwrap_or_default()
        ))),
        Ok(case) => Ok(redirect(&format!(
            "/console/cases/{}?{}",
            case.id,
            serde_urlencoded::to_string([("assigned", user)]).unwrap_or_default()
        ))),
        Err(error) if form.return_to == "lead" => Ok(super::lead::with_problem(error)),
        Err(error) => show(&state, &viewer, id, Outcome::failed(form, error, &[])).await,
    }
}

/// Query of a media stand-in.
#[derive(Debug, Deserialize)]
pub struct MediaPath {
    id: String,
    index: String,
}

/// `GET /console/cases/{id}/media/{index}`: the stand-in picture of one of
/// the subject's media items.
pub async fn media(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(path): Path<MediaPath>,
) -> Result<Response, ConsoleError> {
    let id = parse_case_id(&path.id)?;
    let case = seen(&state, &viewer, id).await?;
    let index: usize = path
        .index
        .parse()
        .map_err(|_| ConsoleError::not_found("No such media item."))?;
    let history = state
        .store
        .subject_history(&case.subject, 1, state.clock.now())
        .await?;
    let items = history
        .subject
        .as_ref()
        .and_then(|s| s.media.as_array().cloned())
        .unwrap_or_default();
    let item = items
        .get(index)
        .ok_or_else(|| ConsoleError::not_found("No such media item."))?;
    let seed = item["sha256"]
        .as_str()
        .or_else(|| item["url"].as_str())
        .unwrap_or_default();
    let mime = item["mime"].as_str().unwrap_or("media");
    let caption = format!(
        "{mime} {} of {} · stand-in: Warden does not fetch platform media",
        index + 1,
        items.len()
    );
    Ok(assets::svg_response(assets::media_placeholder(
        seed, &caption,
    )))
}
