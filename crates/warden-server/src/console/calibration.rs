//! A calibration session in the console: each rater labels each case
//! blind to the others; organizers close it and see the report (kappa,
//! alpha, each case's labels and consensus, each rater's deviation, the
//! most disputed cases) and write the resolution note. A lead or QA user
//! creates a session from a form: cases picked by id or sampled from a
//! queue and category, raters ticked; each field at fault shows its error.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use warden_app::quality::calibration::{
    CreateSessionCommand, QueueSample, RateCommand, ResolveCommand, SessionCases,
};
use warden_domain::quality::agreement::Statistic;
use warden_domain::quality::calibration::{
    CalibrationReport, CaseConsensus, ResolutionInput, SessionStatus,
};

use warden_domain::FieldErrors;

use super::view::{render, ConsoleError, ConsoleForm, Layout, Notice, Viewer};
use crate::error::AppError;
use crate::AppState;

/// One case to rate, with the viewer's label if given.
pub struct RateRow {
    pub case_id: i64,
    pub mine: Option<String>,
}

/// One case of the report.
pub struct CaseLine {
    pub case_id: i64,
    pub labels: String,
    pub consensus: String,
}

/// The session page.
#[derive(Template)]
#[template(path = "calibration.html")]
pub struct SessionPage {
    layout: Layout,
    id: i64,
    title: String,
    status: String,
    open: bool,
    rater: bool,
    progress: Vec<(String, u32, u32)>,
    to_rate: Vec<RateRow>,
    categories: Vec<String>,
    report: Option<ReportLines>,
    resolution: Option<String>,
}

/// The report as lines.
pub struct ReportLines {
    pub percent_agreement: String,
    pub fleiss_kappa: String,
    pub cohen_kappa: String,
    pub alpha: String,
    pub cases: Vec<CaseLine>,
    pub raters: Vec<(String, String, String)>,
    pub disputed: Vec<CaseLine>,
}

fn number(value: Statistic) -> String {
    match value {
        Ok(value) => format!("{value:.3}"),
        Err(undefined) => format!("undefined ({})", undefined.reason()),
    }
}

fn labels(counts: &[(String, u32)]) -> String {
    counts
        .iter()
        .map(|(label, n)| format!("{label} × {n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The report of a closed session as the page shows it.
fn report_lines(report: &CalibrationReport) -> ReportLines {
    ReportLines {
        percent_agreement: number(report.percent_agreement),
        fleiss_kappa: number(report.fleiss_kappa),
        cohen_kappa: number(report.cohen_kappa),
        alpha: number(report.krippendorff_alpha_nominal),
        cases: report
            .cases
            .iter()
            .map(|c| CaseLine {
                case_id: c.case_id,
                labels: labels(&c.labels),
                consensus: match &c.consensus {
                    CaseConsensus::Label(label) => label.clone(),
                    CaseConsensus::Tie(tied) => format!("no consensus: {}", tied.join(" / ")),
                    CaseConsensus::Unrated => "unrated".into(),
                },
            })
            .collect(),
        raters: report
            .raters
            .iter()
            .map(|d| (d.rater.clone(), number(d.agreement), number(d.deviation)))
            .collect(),
        disputed: report
            .most_disputed
            .iter()
            .map(|d| CaseLine {
                case_id: d.case_id,
                labels: labels(&d.labels),
                consensus: format!("{:.3}", d.agreement),
            })
            .collect(),
    }
}

/// `GET /console/calibration/{id}`.
pub async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Response, ConsoleError> {
    let id = crate::paths::row_id(&id, "calibration session")?;
    let stored = state.app.calibration_session(&viewer.actor(), id).await?;
    let me = viewer.caller.principal.name.clone();
    let record = stored.session.record();
    let view = stored.session.view_for(&me);
    let to_rate = record
        .case_ids
        .iter()
        .map(|&case_id| RateRow {
            case_id,
            mine: view
                .ratings
                .iter()
                .find(|r| r.case_id == case_id && r.rater == me)
                .map(|r| r.label.clone()),
        })
        .collect();
    let page = SessionPage {
        layout: Layout::new(&viewer, record.title.clone(), "qa"),
        id,
        title: record.title.clone(),
        status: record.status.as_str().to_string(),
        open: record.status == SessionStatus::Open,
        rater: record.raters.contains(&me),
        progress: view
            .progress
            .iter()
            .map(|p| (p.rater.clone(), p.rated, p.cases))
            .collect(),
        to_rate,
        categories: category_codes(&state),
        report: view.report.map(report_lines),
        resolution: record
            .resolution
            .as_ref()
            .map(|r| format!("{} ({})", r.note, r.categories.join(", "))),
    };
    Ok(render(StatusCode::OK, &page))
}

fn category_codes(state: &AppState) -> Vec<String> {
    state
        .app
        .policy()
        .taxonomy()
        .codes()
        .map(str::to_string)
        .collect()
}

/// A rating form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RateForm {
    case_id: i64,
    label: String,
}

/// `POST /console/calibration/{id}/ratings`.
pub async fn rate(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    ConsoleForm(form): ConsoleForm<RateForm>,
) -> Result<Response, ConsoleError> {
    let session = crate::paths::row_id(&id, "calibration session")?;
    let command = RateCommand {
        session,
        case_id: form.case_id,
        rater: viewer.caller.principal.name.clone(),
        label: form.label,
    };
    state
        .app
        .rate_calibration_case(&viewer.actor(), command)
        .await?;
    Ok(super::redirect(&format!("/console/calibration/{session}")))
}

/// A form with only its CSRF token.
#[derive(Debug, Default, Deserialize)]
pub struct CloseForm {}

/// `POST /console/calibration/{id}/close`.
pub async fn close(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    ConsoleForm(_form): ConsoleForm<CloseForm>,
) -> Result<Response, ConsoleError> {
    let session = crate::paths::row_id(&id, "calibration session")?;
    state
        .app
        .close_calibration_session(&viewer.actor(), session)
        .await?;
    Ok(super::redirect(&format!("/console/calibration/{session}")))
}

/// The resolution form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ResolutionForm {
    note: String,
    categories: String,
}

/// `POST /console/calibration/{id}/resolution`.
pub async fn resolve(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    ConsoleForm(form): ConsoleForm<ResolutionForm>,
) -> Result<Response, ConsoleError> {
    let session = crate::paths::row_id(&id, "calibration session")?;
    let command = ResolveCommand {
        session,
        resolution: ResolutionInput {
            note: form.note,
            categories: form
                .categories
                .split(',')
                .map(|c| c.trim().to_string())
                .filter(|c| !c.is_empty())
                .collect(),
        },
    };
    state
        .app
        .resolve_calibration_session(&viewer.actor(), command)
        .await?;
    Ok(super::redirect(&format!("/console/calibration/{session}")))
}

// ---------------------------------------------------------------- new session

/// The new-session form as typed, kept to show it again with its errors.
#[derive(Debug, Default)]
pub struct NewSessionForm {
    pub title: String,
    pub case_ids: String,
    pub sample_count: String,
    pub sample_queue: String,
    pub sample_category: String,
    pub seed: String,
    pub raters: Vec<String>,
}

impl NewSessionForm {
    /// From the form's pairs: `rater` repeats, one per ticked box; the
    /// CSRF token is the guard's.
    fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut form = NewSessionForm::default();
        for (name, value) in pairs {
            match name.as_str() {
                "title" => form.title = value,
                "case_ids" => form.case_ids = value,
                "sample_count" => form.sample_count = value,
                "sample_queue" => form.sample_queue = value,
                "sample_category" => form.sample_category = value,
                "seed" => form.seed = value,
                "rater" => form.raters.push(value),
                _ => {}
            }
        }
        form
    }

    /// The command, or every field at fault: cases picked by id or
    /// sampled from a queue and category, not both.
    fn command(&self) -> Result<CreateSessionCommand, FieldErrors> {
        let mut errors = FieldErrors::default();
        let mut case_ids = Vec::new();
        for word in self
            .case_ids
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|w| !w.is_empty())
        {
            match word.parse::<i64>() {
                Ok(id) => case_ids.push(id),
                Err(_) => errors.push("case_ids", format!("{word:?} is not a case id")),
            }
        }
        let count = self.sample_count.trim();
        let count = if count.is_empty() {
            None
        } else {
            count
                .parse::<usize>()
                .map_err(|_| errors.push("sample_count", format!("{count:?} is not a number")))
                .ok()
        };
        let seed = self.seed.trim();
        let seed = if seed.is_empty() {
            1
        } else {
            seed.parse::<u64>().unwrap_or_else(|_| {
                errors.push("seed", format!("{seed:?} is not a whole number"));
                0
            })
        };
        let sampling = !self.sample_count.trim().is_empty();
        if !self.case_ids.trim().is_empty() && sampling {
            errors.push(
                "case_ids",
                "pick cases by id or sample them from a queue, not both",
            );
        } else if self.case_ids.trim().is_empty() && !sampling {
            errors.push(
                "case_ids",
                "pick cases by id, or give a number of cases to sample below",
            );
        }
        let chosen = |text: &str| (!text.is_empty()).then(|| text.to_string());
        let cases = match count {
            Some(count) => SessionCases::FromQueue(QueueSample {
                queue: chosen(&self.sample_queue),
                category: chosen(&self.sample_category),
                seed,
                count,
            }),
            None => SessionCases::Picked(case_ids),
        };
        errors.finish(|| CreateSessionCommand {
            title: self.title.clone(),
            cases,
            raters: self.raters.clone(),
        })
    }
}

/// The form field an error of the app belongs to.
fn form_field(field: &str) -> &'static str {
    let head = field.split(['[', '.']).next().unwrap_or(field);
    match head {
        "title" => "title",
        "case_ids" => "case_ids",
        "raters" => "raters",
        "count" | "candidates" | "sample_count" => "sample_count",
        "queue" => "sample_queue",
        "category" => "sample_category",
        "seed" => "seed",
        _ => "form",
    }
}

/// The new-session page.
#[derive(Template)]
#[template(path = "calibration_new.html")]
pub struct NewSessionPage {
    layout: Layout,
    form: NewSessionForm,
    queues: Vec<String>,
    categories: Vec<String>,
    users: Vec<String>,
    errors: Vec<(&'static str, String)>,
}

impl NewSessionPage {
    /// The errors of `field`, joined, if any.
    pub fn error(&self, field: &str) -> Option<String> {
        let reasons: Vec<&str> = self
            .errors
            .iter()
            .filter(|(f, _)| *f == field)
            .map(|(_, reason)| reason.as_str())
            .collect();
        (!reasons.is_empty()).then(|| reasons.join("; "))
    }

    /// Whether `user` is ticked.
    pub fn picked(&self, user: &str) -> bool {
        self.form.raters.iter().any(|r| r == user)
    }
}

async fn new_session_page(
    state: &AppState,
    viewer: &Viewer,
    status: StatusCode,
    form: NewSessionForm,
    errors: Vec<(&'static str, String)>,
) -> Result<Response, ConsoleError> {
    let users = state.app.calibration_rater_names(&viewer.actor()).await?;
    let queues = state
        .app
        .policy()
        .router()
        .queues()
        .iter()
        .map(|queue| queue.name.clone())
        .collect();
    let notice =
        (!errors.is_empty()).then(|| Notice::error("The session was not created; see the form."));
    let page = NewSessionPage {
        layout: Layout::new(viewer, "New calibration session", "qa").with_notice(notice),
        form,
        queues,
        categories: category_codes(state),
        users,
        errors,
    };
    Ok(render(status, &page))
}

/// `GET /console/calibration/new`: the form.
pub async fn new_session(
    State(state): State<AppState>,
    viewer: Viewer,
) -> Result<Response, ConsoleError> {
    let form = NewSessionForm {
        seed: "1".into(),
        ..NewSessionForm::default()
    };
    new_session_page(&state, &viewer, StatusCode::OK, form, Vec::new()).await
}

/// `POST /console/calibration`: creates the session and opens it, or
/// shows the form again with an error under each field at fault.
pub async fn create(
    State(state): State<AppState>,
    viewer: Viewer,
    ConsoleForm(pairs): ConsoleForm<Vec<(String, String)>>,
) -> Result<Response, ConsoleError> {
    let form = NewSessionForm::from_pairs(pairs);
    let created = match form.command() {
        Ok(command) => state
            .app
            .create_calibration_session(&viewer.actor(), command)
            .await
            .map_err(AppError::from),
        Err(errors) => Err(AppError::Invalid(errors)),
    };
    match created {
        Ok(stored) => Ok(super::redirect(&format!(
            "/console/calibration/{}",
            stored.id
        ))),
        Err(AppError::Invalid(errors)) => {
            let errors = errors
                .0
                .into_iter()
                .map(|e| (form_field(&e.field), e.reason))
                .collect();
            new_session_page(
                &state,
                &viewer,
                StatusCode::UNPROCESSABLE_ENTITY,
                form,
                errors,
            )
            .await
        }
        Err(other) => Err(other.into()),
    }
}
