//! QA in the console: the QA queue worked like any queue (start claims the
//! next sampled decision under a lease), the blind review page (the case
//! as decided → the reviewer's verdict → the comparison and the rubric),
//! QA results per week with a chart and the CSV, and the decider's
//! acknowledgement of feedback. Forms become the app's commands here;
//! what is shown before the verdict is the app's blind case only.

use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;

use warden_app::decisions::ActionDraft;
use warden_app::quality::results::{QaResultsQuery, ResultsGrouping};
use warden_app::quality::review::{
    QaReviewsQuery, QaWork, ScoreReviewCommand, SubmitVerdictCommand, VerdictDraft,
};
use warden_domain::ids::DecisionId;
use warden_domain::privacy::mask_text;
use warden_domain::quality::review::ScoreInput;

use super::charts::{ChartTable, ChartText, LineChart, Point, ValueFormat};
use super::text::ago;
use super::view::{
    problem_code, problem_notice, render, ConsoleError, ConsoleForm, Layout, Notice, Viewer,
};
use crate::error::AppError;
use crate::AppState;

/// A review in the page's lists.
pub struct ReviewRow {
    pub id: i64,
    pub case_id: i64,
    pub queue: String,
    pub decider: String,
    pub status: String,
    pub passed: String,
    pub feedback: String,
}

/// The QA home: the queue, recent reviews, results.
#[derive(Template)]
#[template(path = "qa.html")]
pub struct QaPage {
    layout: Layout,
    depth: u64,
    reviews: Vec<ReviewRow>,
    chart_svg: String,
    table: ChartTable,
    sessions: Vec<(i64, String, String)>,
}

/// Query of the QA home: what just happened.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct QaQuery {
    empty: Option<String>,
    scored: Option<i64>,
    problem: Option<String>,
}

fn back_with(error: AppError) -> Response {
    super::redirect(&format!("/console/qa?problem={}", problem_code(&error)))
}

fn decision(id: &str) -> Result<DecisionId, ConsoleError> {
    crate::paths::decision_id(id).map_err(ConsoleError::from)
}

/// `GET /console/qa`.
#[expect(
    clippy::too_many_lines,
    reason = "written before the 70-line lint landed; to be split"
)]
pub async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    query: Result<Query<QaQuery>, QueryRejection>,
) -> Result<Response, ConsoleError> {
    let query = query.map(|Query(q)| q).unwrap_or_default();
    let actor = viewer.actor();
    let depth = state.app.qa_queue_depth(&actor).await?;
    let stored = state
        .app
        .qa_reviews(
            &actor,
            QaReviewsQuery {
                limit: 20,
                ..QaReviewsQuery::default()
            },
        )
        .await?;
    let reviews = stored
        .iter()
        .map(|s| {
            let record = s.assignment.record();
            let rubric = record.rubric.as_ref();
            ReviewRow {
                id: record.decision_id,
                case_id: record.case_id.0,
                queue: s.queue.clone(),
                decider: record.decider.clone(),
                status: record.status.as_str().to_string(),
                passed: rubric.map_or("—".into(), |(r, _)| {
                    if r.decision_correct {
                        "yes".into()
                    } else {
                        "no".into()
                    }
                }),
                feedback: rubric.map(|(r, _)| r.feedback.clone()).unwrap_or_default(),
            }
        })
        .collect();
    let results = state
        .app
        .qa_results(
            &actor,
            QaResultsQuery {
                by: ResultsGrouping::Queue,
                weeks: 12,
            },
        )
        .await?;
    let mut weeks: Vec<(String, u32, u32)> = Vec::new();
    for row in &results.rows {
        let label = row.week.format("%Y-%m-%d").to_string();
        match weeks.last_mut() {
            Some(last) if last.0 == label => {
                last.1 += row.reviews;
                last.2 += row.passed;
            }
            _ => weeks.push((label, row.reviews, row.passed)),
        }
    }
    let points = weeks
        .iter()
        .map(|(label, reviews, passed)| Point {
            label: label.clone(),
            value: Some(f64::from(*passed) / f64::from((*reviews).max(1))),
        })
        .collect();
    let chart = LineChart::new(
        ChartText {
            id: "qa-pass-rate".into(),
            title: "QA pass rate by week".into(),
            description: "Share of reviewed decisions QA found correct, per week, last 12 weeks"
                .into(),
            x_label: "Week".into(),
            y_label: "Pass rate".into(),
        },
        ValueFormat::Ratio,
        points,
        None,
    )
    .map_err(AppError::from)?;
    let sessions = state
        .app
        .calibration_sessions(&actor)
        .await?
        .into_iter()
        .map(|s| (s.id, s.title, s.status.as_str().to_string()))
        .collect();
    let notice = if let Some(problem) = &query.problem {
        problem_notice(problem)
    } else if query.empty.is_some() {
        Some(Notice::ok(
            "The QA queue is empty: every sampled decision is reviewed.",
        ))
    } else {
        query
            .scored
            .map(|id| Notice::ok(format!("Review of decision {id} saved.")))
    };
    let layout = Layout::new(&viewer, "QA", "qa").with_notice(notice);
    Ok(render(
        StatusCode::OK,
        &QaPage {
            layout,
            depth,
            reviews,
            chart_svg: chart.svg(),
            table: chart.table(),
            sessions,
        },
    ))
}

/// A form with only its CSRF token.
#[derive(Debug, Default, Deserialize)]
pub struct EmptyForm {}

/// `POST /console/qa/claim`: the next sampled decision, or back.
pub async fn claim(
    State(state): State<AppState>,
    viewer: Viewer,
    ConsoleForm(_form): ConsoleForm<EmptyForm>,
) -> Result<Response, ConsoleError> {
    match state.app.claim_qa(&viewer.actor()).await {
        Ok(Some(work)) => Ok(super::redirect(&format!(
            "/console/qa/reviews/{}",
            work.assignment.record().decision_id
        ))),
        Ok(None) => Ok(super::redirect("/console/qa?empty=1")),
        Err(error) => Ok(back_with(error.into())),
    }
}

/// One report as the blind page shows it.
pub struct ItemLine {
    pub reason: String,
    pub text: String,
}

/// The blind review page.
#[derive(Template)]
#[template(path = "qa_review.html")]
pub struct ReviewPage {
    layout: Layout,
    id: i64,
    status: String,
    case_id: i64,
    queue: String,
    category: String,
    severity: String,
    subject: String,
    subject_text: String,
    reports: Vec<ItemLine>,
    opened: String,
    categories: Vec<String>,
    /// Before the verdict: nothing of the original.
    revealed: Option<Revealed>,
    verdict: Option<String>,
    scored: Option<String>,
}

/// What the verdict reveals.
pub struct Revealed {
    pub decider: String,
    pub original: String,
    pub rationale: String,
    pub agrees: bool,
    pub notes: Vec<String>,
    pub reasons: Vec<String>,
}

#[expect(
    clippy::too_many_lines,
    reason = "written before the 70-line lint landed; to be split"
)]
fn review_page(state: &AppState, viewer: &Viewer, work: &QaWork) -> ReviewPage {
    let record = work.assignment.record();
    let case = &work.case;
    let now = state.now();
    let revealed = work.revealed.as_ref().map(|r| Revealed {
        decider: r.original.decider.clone(),
        original: format!(
            "{} · {} · {}",
            if r.original.violation {
                "violation"
            } else {
                "no violation"
            },
            r.original.category,
            r.decision
                .actions
                .iter()
                .map(|a| a.action_type.clone())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        rationale: r.decision.rationale.what_happened.clone(),
        agrees: r.comparison.as_ref().is_some_and(|c| c.agrees),
        notes: r
            .comparison
            .as_ref()
            .map(|c| c.notes.clone())
            .unwrap_or_default(),
        reasons: r
            .sample_reasons
            .iter()
            .map(|t| format!("{}: {}", t.plan, t.reason))
            .collect(),
    });
    ReviewPage {
        layout: Layout::new(
            viewer,
            format!("QA review of decision {}", record.decision_id),
            "qa",
        ),
        id: record.decision_id,
        status: record.status.as_str().to_string(),
        case_id: case.case_id.0,
        queue: case.queue.clone(),
        category: case.category.clone(),
        severity: case.severity.as_str().to_string(),
        subject: case
            .subject
            .as_ref()
            .map(|s| s.subject.to_string())
            .unwrap_or_default(),
        subject_text: case
            .subject
            .as_ref()
            .and_then(|s| s.text.as_deref())
            .map(|t| mask_text(t).value)
            .unwrap_or_default(),
        reports: case
            .reports
            .iter()
            .map(|r| ItemLine {
                reason: r.reason.clone(),
                text: r
                    .text
                    .as_deref()
                    .map(|t| mask_text(t).value)
                    .unwrap_or_default(),
            })
            .collect(),
        opened: ago(now, case.opened_at),
        categories: state
            .app
            .policy()
            .taxonomy()
            .codes()
            .map(str::to_string)
            .collect(),
        revealed,
        verdict: record.verdict.as_ref().map(|(_, v, _)| {
            format!(
                "{} · {} · {}",
                if v.violation {
                    "violation"
                } else {
                    "no violation"
                },
                v.category,
                v.actions
                    .iter()
                    .map(|a| a.kind.type_name().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }),
        scored: record.rubric.as_ref().map(|(r, _)| {
            format!(
                "decision {}, category {}, actions {}, documentation {}/5{}",
                if r.decision_correct { "right" } else { "wrong" },
                if r.category_correct { "right" } else { "wrong" },
                if r.action_proportionate {
                    "proportionate"
                } else {
                    "not proportionate"
                },
                r.documentation.value(),
                if r.rework {
                    "; sent back for rework"
                } else {
                    ""
                }
            )
        }),
    }
}

/// `GET /console/qa/reviews/{id}`.
pub async fn review(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Response, ConsoleError> {
    let work = state.app.show_qa(&viewer.actor(), decision(&id)?).await?;
    Ok(render(StatusCode::OK, &review_page(&state, &viewer, &work)))
}

/// The blind verdict form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct VerdictForm {
    violation: String,
    category: String,
    act_remove_content: Option<String>,
    act_warn: Option<String>,
    act_suspend: Option<String>,
    act_ban: Option<String>,
}

impl From<VerdictForm> for VerdictDraft {
    fn from(form: VerdictForm) -> Self {
        let action = |kind: &str, duration: Option<&str>| ActionDraft {
            action_type: kind.into(),
            duration: duration.map(str::to_string),
            feature: None,
            label: None,
        };
        let mut actions = Vec::new();
        if form.act_remove_content.is_some() {
            actions.push(action("remove_content", None));
        }
        if form.act_warn.is_some() {
            actions.push(action("warn", None));
        }
        if form.act_suspend.is_some() {
            actions.push(action("suspend", Some("P7D")));
        }
        if form.act_ban.is_some() {
            actions.push(action("ban", None));
        }
        VerdictDraft {
            violation: match form.violation.as_str() {
                "yes" => Some(true),
                "no" => Some(false),
                _ => None,
            },
            category: (!form.category.is_empty()).then_some(form.category),
            actions,
        }
    }
}

/// `POST /console/qa/reviews/{id}/verdict`.
pub async fn verdict(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    ConsoleForm(form): ConsoleForm<VerdictForm>,
) -> Result<Response, ConsoleError> {
    let command = SubmitVerdictCommand {
        decision: decision(&id)?,
        verdict: form.into(),
    };
    match state.app.submit_qa_verdict(&viewer.actor(), command).await {
        Ok(_) => Ok(super::redirect(&format!("/console/qa/reviews/{id}"))),
        Err(error) => Ok(back_with(error.into())),
    }
}

/// The rubric form.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RubricForm {
    decision_correct: String,
    category_correct: String,
    action_proportionate: String,
    documentation: String,
    feedback: String,
    rework: String,
}

fn answer(value: &str) -> Option<bool> {
    match value {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    }
}

impl From<RubricForm> for ScoreInput {
    fn from(form: RubricForm) -> Self {
        ScoreInput {
            decision_correct: answer(&form.decision_correct),
            category_correct: answer(&form.category_correct),
            action_proportionate: answer(&form.action_proportionate),
            documentation: form.documentation.parse().ok(),
            feedback: Some(form.feedback),
            rework: answer(&form.rework),
        }
    }
}

/// `POST /console/qa/reviews/{id}/score`.
pub async fn score(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    ConsoleForm(form): ConsoleForm<RubricForm>,
) -> Result<Response, ConsoleError> {
    let command = ScoreReviewCommand {
        decision: decision(&id)?,
        rubric: form.into(),
    };
    match state.app.score_qa_review(&viewer.actor(), command).await {
        Ok(_) => Ok(super::redirect(&format!("/console/qa?scored={id}"))),
        Err(error) => Ok(back_with(error.into())),
    }
}

/// `POST /console/qa/reviews/{id}/acknowledge`: the decider has read the
/// feedback (from their home page).
pub async fn acknowledge(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    ConsoleForm(_form): ConsoleForm<EmptyForm>,
) -> Result<Response, ConsoleError> {
    state
        .app
        .acknowledge_qa_feedback(&viewer.actor(), decision(&id)?)
        .await?;
    Ok(super::redirect("/console"))
}
