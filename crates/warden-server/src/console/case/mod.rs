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
//! Every handler passes the case gate ([`warden_app::access`]) before it
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

use warden_app::cases::{
    AssignCommand, CaseCommand, ClaimCommand, EscalateCommand, Note, NoteCommand, ReasonedCommand,
};
use warden_app::Reason;
use warden_domain::access::Permission;
use warden_domain::case::CaseStatus;
use warden_domain::enforcement::{assess, ApprovalReason, DecideCommand, Situation};
use warden_domain::ids::{QueueName, SubjectKind, TaxonomyCode, UserName, Version};
use warden_domain::{CaseId, FieldError, FieldErrors};
use warden_store::{CaseFilter, CaseRecord, RecommendationRecord};

use self::form::{form_errors, CaseForm, DecisionForm};
use self::view::{case_page, Loaded, RecommendationPanel, HISTORY_SHOWN, SCORE_DRIVERS_SHOWN};
use super::assets;
use super::view::{problem_code, render, ConsoleError, ConsoleForm, Layout, Notice, Viewer};
use super::{redirect, text};
use crate::error::AppError;
use crate::paths::case_id as parse_case_id;
use crate::AppState;

/// The page for a case that does not exist, or that the viewer may not see.
fn no_case(id: CaseId) -> ConsoleError {
    ConsoleError::not_found(format!("There is no case {id}."))
}

/// Turns the gate's "not found" into the console's page for it.
pub(crate) fn gate_error(id: CaseId, error: AppError) -> ConsoleError {
    match error {
        AppError::NotFound(_) => no_case(id),
        other => other.into(),
    }
}

/// The case, if the viewer may see it.
async fn seen(state: &AppState, viewer: &Viewer, id: CaseId) -> Result<CaseRecord, ConsoleError> {
    state
        .app
        .visible_case(&viewer.actor(), id)
        .await
        .map_err(|e| gate_error(id, e.into()))
}

/// The case, if the viewer may see it and change it now; `Ok(Err(_))`
/// when someone else holds it (the page says so, draft kept).
async fn changeable(
    state: &AppState,
    viewer: &Viewer,
    id: CaseId,
) -> Result<Result<CaseRecord, AppError>, ConsoleError> {
    match state.app.changeable_case(&viewer.actor(), id).await {
        Ok(case) => Ok(Ok(case)),
        Err(error) => match AppError::from(error) {
            held @ AppError::Conflict(_) => Ok(Err(held)),
            other => Err(gate_error(id, other)),
        },
    }
}

/// The same field errors under other names (`rename(field)`).
fn renamed(errors: FieldErrors, rename: impl Fn(String) -> String) -> AppError {
    AppError::Invalid(FieldErrors(
        errors
            .0
            .into_iter()
            .map(|e| FieldError::new(rename(e.field), e.reason))
            .collect(),
    ))
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
    let actor = viewer.actor();
    let detail = state
        .app
        .visible_case_detail(&actor, id)
        .await
        .map_err(|e| gate_error(id, e.into()))?;
    // The subject's and its account's other cases: only those the viewer may see.
    let history = state
        .app
        .visible_subject_history(&actor, &detail.case.subject, HISTORY_SHOWN)
        .await?;
    let owner = detail
        .subject
        .as_ref()
        .and_then(|s| s.owner.clone())
        .filter(|o| o.kind == SubjectKind::Account && *o != detail.case.subject);
    let account = match owner {
        Some(owner) => {
            let h = state
                .app
                .visible_subject_history(&actor, &owner, HISTORY_SHOWN)
                .await?;
            Some((owner, h))
        }
        None => None,
    };
    let assignees = if viewer.may(Permission::CaseAssign) {
        state.app.users().await?
    } else {
        Vec::new()
    };
    let details = match reveal_reason {
        Some(reason) => {
            json!({"reason": reason, "via": "console", "subject": detail.case.subject.to_string()})
        }
        None => json!({"via": "console"}),
    };
    state
        .app
        .record_case_read(&actor, id, reveal_reason.is_some(), details)
        .await?;
    let score = state
        .app
        .explain_case_score(&actor, id, SCORE_DRIVERS_SHOWN)
        .await?;
    Ok(Loaded {
        detail,
        history,
        account,
        assignees,
        recommendation: None,
        score,
    })
}

/// What the enforcement matrix recommends for the case (for the category
/// chosen in the form, else the case's), the same as
/// `GET /api/v1/cases/{id}/recommendation`, and which ticked actions would
/// wait for a lead. Not shown when it cannot be read; the page still works.
async fn recommendation_panel(
    state: &AppState,
    viewer: &Viewer,
    loaded: &Loaded,
    form: &CaseForm,
) -> Option<RecommendationPanel> {
    let case = &loaded.detail.case;
    let record = load_recommendation(state, viewer, case, form).await?;
    let recommended_approvals = record
        .recommendation
        .iter()
        .zip(&record.approvals)
        .filter(|(_, why)| !why.is_empty())
        .map(|(spec, why)| (action_words(spec), approval_reasons(why)))
        .collect();
    let chosen = chosen_approvals(state, case, &record, form);
    Some(RecommendationPanel {
        category: record.category.clone(),
        severity: record.severity.as_str(),
        taxonomy_version: record.taxonomy_version,
        actions: record.recommendation.iter().map(action_words).collect(),
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

/// The recommendation for the category chosen in the form, else (or when
/// that cannot be read) for the case's own; `None`, logged, when neither can.
async fn load_recommendation(
    state: &AppState,
    viewer: &Viewer,
    case: &CaseRecord,
    form: &CaseForm,
) -> Option<RecommendationRecord> {
    let actor = viewer.actor();
    let chosen_category = Some(form.category.trim())
        .filter(|c| !c.is_empty() && *c != case.category)
        .and_then(|c| TaxonomyCode::parse(c).ok());
    let mut record = state
        .app
        .recommendation(&actor, case.id, chosen_category.as_ref())
        .await;
    if record.is_err() && chosen_category.is_some() {
        record = state.app.recommendation(&actor, case.id, None).await;
    }
    match record {
        Ok(record) => Some(record),
        Err(error) => {
            tracing::warn!(error = %error.chain(), case = case.id.0, "no recommendation for the case page");
            None
        }
    }
}

/// An action as the approvals page words it.
fn action_words(spec: &warden_domain::decision::ActionSpec) -> String {
    super::approvals::action_words(
        spec.kind.type_name(),
        None,
        None,
        spec.duration.map(|d| d.num_seconds()),
    )
}

/// Why an action waits for a lead, in one line.
fn approval_reasons(reasons: &[ApprovalReason]) -> String {
    reasons
        .iter()
        .map(|r| r.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

/// For the actions ticked in the form, why each would wait for a lead, as
/// the policy in force would plan the decision; `None` when none is ticked.
fn chosen_approvals(
    state: &AppState,
    case: &CaseRecord,
    record: &RecommendationRecord,
    form: &CaseForm,
) -> Option<Vec<(String, String)>> {
    let specs = form.chosen_specs().filter(|specs| !specs.is_empty())?;
    // The policy in force, as the decision would be planned by it.
    let policy = state.app.policy();
    let situation = Situation {
        category: &record.category,
        severity: record.severity,
        prior_strike_weight: record.prior_strike_weight,
        subject_kind: case.subject.kind,
        has_account: record.account.is_some(),
        account_tags: &record.account_tags,
    };
    let only: Vec<_> = specs.iter().map(|(_, spec)| spec.clone()).collect();
    let assessment = assess(policy.enforcement(), &situation, &only);
    Some(
        specs
            .iter()
            .zip(&assessment.approvals)
            .map(|((label, _), why)| (label.to_string(), approval_reasons(why)))
            .collect(),
    )
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
        loaded.recommendation = recommendation_panel(state, viewer, &loaded, &outcome.form).await;
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
    let case = seen(&state, &viewer, id).await?;
    if case.kind == warden_domain::appeal::CaseKind::Appeal {
        let notice = query
            .decided
            .filter(|d| *d == id.0)
            .map(|_| Notice::ok("Outcome recorded."));
        return super::appeal::show(&state, &viewer, id, notice).await;
    }
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
    let actor = viewer.actor();
    let now = state.now();
    let held = state
        .app
        .case_metadata(
            &actor,
            CaseFilter {
                queue: Some(queue.to_string()),
                statuses: OPEN_STATUSES.to_vec(),
                assignee_id: Some(viewer.caller.principal.user_id),
                limit: 50,
                ..CaseFilter::default()
            },
        )
        .await?;
    if let Some(case) = held
        .iter()
        .find(|c| c.is_held_by(viewer.caller.principal.user_id, now))
    {
        return Ok(Some(case.id));
    }
    let queue = QueueName::parse(queue)
        .map_err(|_| AppError::NotFound(format!("queue {queue:?} not found")))?;
    Ok(state
        .app
        .claim(&actor, ClaimCommand { queue })
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
    let actor = viewer.actor();
    let before = match changeable(&state, &viewer, id).await? {
        Ok(case) => case,
        Err(held) => return show(&state, &viewer, id, Outcome::failed(form, held, &[])).await,
    };
    let kinds = match form.decision() {
        Ok((_, kinds)) => kinds,
        Err(errors) => {
            let outcome = Outcome::failed(form, AppError::Invalid(errors), &[]);
            return show(&state, &viewer, id, outcome).await;
        }
    };
    // The same path as the API: the enforcement matrix, decision rights and
    // the outbox; a correction when the case is resolved and the viewer may
    // correct.
    let policy = state.app.policy();
    let command = DecideCommand::try_from(DecisionForm {
        case: id,
        mode: state.app.decision_mode_for(&actor, &before),
        taxonomy: policy.taxonomy(),
        form: &form,
    });
    let decided = match command {
        Ok(command) => state
            .app
            .decide(&actor, command)
            .await
            .map_err(AppError::from),
        Err(errors) => Err(AppError::Invalid(errors)),
    };
    match decided {
        Ok(decision) => {
            state.metrics.count_decision(decision.violation);
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
    let added = match Note::parse(form.note()) {
        Ok(note) => state
            .app
            .add_note(&viewer.actor(), NoteCommand { case: id, note })
            .await
            .map_err(AppError::from),
        Err(errors) => Err(AppError::Invalid(errors)),
    };
    let outcome = match added {
        Ok(_) => {
            form.clear_note();
            let mut outcome = Outcome::with_form(form);
            outcome.notice = Some(Notice::ok("Note added."));
            outcome
        }
        Err(error) => {
            let error = match error {
                AppError::Invalid(errors) => renamed(errors, |field| format!("n_{field}")),
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
    let now = state.now();
    let renewed = state
        .app
        .renew(&viewer.actor(), checked_command(&checked))
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

/// A command on the case the gate just checked, at the version it checked.
fn checked_command(checked: &CaseRecord) -> CaseCommand {
    CaseCommand {
        case: checked.id,
        expected: Some(Version(checked.version)),
    }
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
    let held = match Reason::parse(&form.hold_reason) {
        Ok(reason) => state
            .app
            .hold(
                &viewer.actor(),
                ReasonedCommand {
                    case: id,
                    expected: Some(Version(checked.version)),
                    reason,
                },
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
    let version = form.version.trim().parse::<i64>().ok();
    let command = CaseCommand {
        case: id,
        expected: Some(Version(
            version
                .filter(|_| form.return_to == "lead")
                .unwrap_or(checked.version),
        )),
    };
    let actor = viewer.actor();
    let released = if viewer.may(Permission::CaseAssign) {
        state.app.release_as_lead(&actor, command).await
    } else {
        state.app.release(&actor, command).await
    };
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
    let queue = match Some(form.escalate_queue.trim()).filter(|q| !q.is_empty()) {
        None => Ok(None),
        Some(name) => QueueName::parse(name)
            .map(Some)
            .map_err(|_| AppError::invalid("queue", format!("no queue named {name:?}"))),
    };
    let escalated = match (Reason::parse(&form.escalate_reason), queue) {
        (Ok(reason), Ok(queue)) => state
            .app
            .escalate(
                &viewer.actor(),
                EscalateCommand {
                    case: id,
                    expected: None,
                    reason,
                    queue,
                },
            )
            .await
            .map_err(AppError::from),
        (_, Err(error)) => Err(error),
        (Err(_), _) => Err(AppError::invalid(
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
                AppError::Invalid(errors) => renamed(errors, |field| {
                    if field == "queue" {
                        "escalate_queue".to_string()
                    } else {
                        field
                    }
                }),
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
    match state
        .app
        .check_reveal(&viewer.actor(), Some(&form.reveal_reason))
        .map_err(AppError::from)
    {
        Ok(reason) => {
            let mut outcome = Outcome::with_form(form);
            outcome.reveal = reason.map(|r| r.as_str().to_string());
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
    let assigned = match UserName::parse(&user) {
        Ok(name) => state
            .app
            .assign(
                &viewer.actor(),
                AssignCommand {
                    case: id,
                    expected: version.map(Version),
                    user: name,
                },
            )
            .await
            .map_err(AppError::from),
        Err(_) => Err(AppError::invalid("user", format!("no user named {user:?}"))),
    };
    match assigned {
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
        .app
        .visible_subject_history(&viewer.actor(), &case.subject, 1)
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
