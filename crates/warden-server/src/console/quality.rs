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
use warden_app::quality::sampling::PlanLoads;
use warden_app::Actor;
use warden_domain::ids::DecisionId;
use warden_domain::privacy::mask_text;
use warden_domain::quality::review::{QaVerdict, Rubric, ScoreInput};
use warden_store::StoredQaAssignment;

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
    plans: PlanLines,
    by: &'static str,
    results: Vec<ResultLine>,
}

/// One week of one decider, queue or category in the results table.
pub struct ResultLine {
    pub week: String,
    pub group: String,
    pub reviews: u32,
    pub passed: u32,
    pub pass_rate: String,
    pub documentation: String,
    pub reworked: u32,
}

/// Query of the QA home: what just happened.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct QaQuery {
    by: Option<String>,
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

/// A sampling plan as the QA page shows it: its expected weekly load with
/// the arithmetic in words.
pub struct PlanLine {
    pub name: String,
    pub scope: String,
    pub load: String,
    pub arithmetic: Vec<String>,
}

/// Every plan's load and all of them together.
pub struct PlanLines {
    pub plans: Vec<PlanLine>,
    pub total: String,
    pub arithmetic: Vec<String>,
}

/// `GET /console/qa`.
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
    let by = query
        .by
        .as_deref()
        .and_then(|by| ResultsGrouping::parse(by).ok())
        .unwrap_or(ResultsGrouping::Reviewer);
    let (chart, results) = results_chart(&state, &actor, by).await?;
    let sessions = state
        .app
        .calibration_sessions(&actor)
        .await?
        .into_iter()
        .map(|s| (s.id, s.title, s.status.as_str().to_string()))
        .collect();
    let plans = plan_lines(&state.app.qa_plan_loads(&actor).await?);
    let layout = Layout::new(&viewer, "QA", "qa").with_notice(notice(&query));
    Ok(render(
        StatusCode::OK,
        &QaPage {
            layout,
            depth,
            reviews: stored.iter().map(review_row).collect(),
            chart_svg: chart.svg(),
            table: chart.table(),
            sessions,
            plans,
            by: by.as_str(),
            results,
        },
    ))
}

/// What the QA home says about what just happened.
fn notice(query: &QaQuery) -> Option<Notice> {
    if let Some(problem) = &query.problem {
        problem_notice(problem)
    } else if query.empty.is_some() {
        Some(Notice::ok(
            "The QA queue is empty: every sampled decision is reviewed.",
        ))
    } else {
        query
            .scored
            .map(|id| Notice::ok(format!("Review of decision {id} saved.")))
    }
}

fn review_row(stored: &StoredQaAssignment) -> ReviewRow {
    let record = stored.assignment.record();
    let rubric = record.rubric.as_ref().map(|(rubric, _)| rubric);
    ReviewRow {
        id: record.decision_id,
        case_id: record.case_id.0,
        queue: stored.queue.clone(),
        decider: record.decider.clone(),
        status: record.status.as_str().to_string(),
        passed: rubric.map_or("—".into(), |r| yes_no(r.decision_correct).into()),
        feedback: rubric.map(|r| r.feedback.clone()).unwrap_or_default(),
    }
}

fn yes_no(value: bool) -> &'static str {
    if value {
        "yes"
    } else {
        "no"
    }
}

/// The plans with their loads, counts to one decimal as the arithmetic.
fn plan_lines(loads: &PlanLoads) -> PlanLines {
    PlanLines {
        plans: loads
            .plans
            .iter()
            .map(|plan| PlanLine {
                name: plan.record.input.name.clone(),
                scope: plan.scope.clone(),
                load: format!("{:.1}", plan.load.total),
                arithmetic: plan.load.arithmetic.clone(),
            })
            .collect(),
        total: format!("{:.1}", loads.combined.total),
        arithmetic: loads.combined.arithmetic.clone(),
    }
}

/// The QA pass rate by week over the last 12 weeks, every group summed,
/// and the rows per week and group (`by`) for the table.
async fn results_chart(
    state: &AppState,
    actor: &Actor,
    by: ResultsGrouping,
) -> Result<(LineChart, Vec<ResultLine>), ConsoleError> {
    let results = state
        .app
        .qa_results(actor, QaResultsQuery { by, weeks: 12 })
        .await?;
    let lines = results
        .rows
        .iter()
        .map(|row| ResultLine {
            week: row.week.format("%Y-%m-%d").to_string(),
            group: row.group.clone(),
            reviews: row.reviews,
            passed: row.passed,
            pass_rate: format!("{:.0}%", row.pass_rate * 100.0),
            documentation: format!("{:.1}", row.documentation),
            reworked: row.reworked,
        })
        .collect();
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
    Ok((chart, lines))
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

/// What the verdict reveals, as the page shows it; `None` before.
fn revealed(work: &QaWork) -> Option<Revealed> {
    work.revealed.as_ref().map(|r| Revealed {
        decider: r.original.decider.clone(),
        original: format!(
            "{} · {} · {}",
            violation_words(r.original.violation),
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
    })
}

fn violation_words(violation: bool) -> &'static str {
    if violation {
        "violation"
    } else {
        "no violation"
    }
}

/// The reviewer's verdict in a line.
fn verdict_line(verdict: &QaVerdict) -> String {
    format!(
        "{} · {} · {}",
        violation_words(verdict.violation),
        verdict.category,
        verdict
            .actions
            .iter()
            .map(|a| a.kind.type_name().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// The scored rubric in a line.
fn rubric_line(rubric: &Rubric) -> String {
    let right = |value: bool| if value { "right" } else { "wrong" };
    format!(
        "decision {}, category {}, actions {}, documentation {}/5{}",
        right(rubric.decision_correct),
        right(rubric.category_correct),
        if rubric.action_proportionate {
            "proportionate"
        } else {
            "not proportionate"
        },
        rubric.documentation.value(),
        if rubric.rework {
            "; sent back for rework"
        } else {
            ""
        }
    )
}

fn review_page(state: &AppState, viewer: &Viewer, work: &QaWork) -> ReviewPage {
    let record = work.assignment.record();
    let case = &work.case;
    let masked = |text: Option<&str>| text.map(|t| mask_text(t).value).unwrap_or_default();
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
        subject_text: masked(case.subject.as_ref().and_then(|s| s.text.as_deref())),
        reports: case
            .reports
            .iter()
            .map(|r| ItemLine {
                reason: r.reason.clone(),
                text: masked(r.text.as_deref()),
            })
            .collect(),
        opened: ago(state.now(), case.opened_at),
        categories: state
            .app
            .policy()
            .taxonomy()
            .codes()
            .map(str::to_string)
            .collect(),
        revealed: revealed(work),
        verdict: record.verdict.as_ref().map(|(_, v, _)| verdict_line(v)),
        scored: record.rubric.as_ref().map(|(r, _)| rubric_line(r)),
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
