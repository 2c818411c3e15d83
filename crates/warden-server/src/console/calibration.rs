//! A calibration session in the console: each rater labels each case
//! blind to the others; organizers close it and see the report (kappa,
//! alpha, each case's labels and consensus, each rater's deviation, the
//! most disputed cases) and write the resolution note.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use warden_app::quality::calibration::{RateCommand, ResolveCommand};
use warden_domain::quality::agreement::Statistic;
use warden_domain::quality::calibration::{CaseConsensus, ResolutionInput};

use super::view::{render, ConsoleError, ConsoleForm, Layout, Viewer};
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

/// `GET /console/calibration/{id}`.
#[expect(
    clippy::too_many_lines,
    reason = "written before the 70-line lint landed; to be split"
)]
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
    let report = view.report.map(|r| ReportLines {
        percent_agreement: number(r.percent_agreement),
        fleiss_kappa: number(r.fleiss_kappa),
        cohen_kappa: number(r.cohen_kappa),
        alpha: number(r.krippendorff_alpha_nominal),
        cases: r
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
        raters: r
            .raters
            .iter()
            .map(|d| (d.rater.clone(), number(d.agreement), number(d.deviation)))
            .collect(),
        disputed: r
            .most_disputed
            .iter()
            .map(|d| CaseLine {
                case_id: d.case_id,
                labels: labels(&d.labels),
                consensus: format!("{:.3}", d.agreement),
            })
            .collect(),
    });
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
        open: record.status == warden_domain::quality::calibration::SessionStatus::Open,
        rater: record.raters.contains(&me),
        progress: view
            .progress
            .iter()
            .map(|p| (p.rater.clone(), p.rated, p.cases))
            .collect(),
        to_rate,
        categories: state
            .app
            .policy()
            .taxonomy()
            .codes()
            .map(str::to_string)
            .collect(),
        report,
        resolution: record
            .resolution
            .as_ref()
            .map(|r| format!("{} ({})", r.note, r.categories.join(", "))),
    };
    Ok(render(StatusCode::OK, &page))
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
