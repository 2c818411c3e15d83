//! Wire types of QA and calibration (`specs/appeals-qa-api.md`, QA
//! sampling and reviews; Calibration): request bodies and their
//! conversion to the app's commands, and answers. A QA answer before the
//! verdict has no field of the original decision: [`QaWorkView`] takes the
//! original only from the app's `revealed`, which the domain's blind view
//! fills from the verdict on.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use warden_app::decisions::ActionDraft;
use warden_app::quality::calibration::{CreateSessionCommand, SessionCases};
use warden_app::quality::results::{QaResultRow, QaResults};
use warden_app::quality::review::{QaWork, VerdictDraft};
use warden_app::quality::sampling::PlanView;
use warden_domain::enforcement::action_json;
use warden_domain::quality::agreement::Statistic;
use warden_domain::quality::calibration::{CalibrationReport, CaseConsensus, SessionView};
use warden_domain::quality::review::{QaVerdict, ScoreInput};
use warden_domain::quality::sampling::{RateRuleInput, SamplingPlanInput, WeeklyLoad};
use warden_store::{StoredCalibrationSession, StoredQaAssignment};

use crate::wire::{ActionBody, DecisionView, ReportView, SignalView, SubjectView};

// ------------------------------------------------------------ plans

/// A rate for part of a plan's scope: every field given must match.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RateRuleBody {
    /// A queue.
    pub queue: Option<String>,
    /// A category.
    pub category: Option<String>,
    /// low, medium, high or critical.
    pub severity: Option<String>,
    /// A decider's user name.
    pub reviewer: Option<String>,
    /// The rate in (0, 1]: 0.05 is 5 %.
    pub rate: f64,
}

/// `POST /api/v1/qa/plans`: a sampling plan (`[[qa.plans]]` has the same
/// fields).
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QaPlanBody {
    /// The plan's name, a code; saving it again replaces it.
    pub name: String,
    /// The seed: the same seed and decisions give the same sample.
    pub seed: u64,
    /// The rate in (0, 1] for decisions no rate rule names.
    pub rate: f64,
    /// Queues covered; empty or absent: all.
    #[serde(default)]
    pub queues: Vec<String>,
    /// Categories covered; empty: all.
    #[serde(default)]
    pub categories: Vec<String>,
    /// Severities covered; empty: all.
    #[serde(default)]
    pub severities: Vec<String>,
    /// Deciders covered; empty: all.
    #[serde(default)]
    pub reviewers: Vec<String>,
    /// Rates for parts of the scope, the first match wins.
    #[serde(default)]
    pub rates: Vec<RateRuleBody>,
    /// Severities whose every decision is sampled.
    #[serde(default)]
    pub all_severities: Vec<String>,
    /// Every decision of a reviewer in their first N days is sampled.
    pub new_reviewer_days: Option<u32>,
    /// Decisions sampled per reviewer a week, at least.
    #[serde(default)]
    pub minimum_per_reviewer: u32,
    /// Decisions sampled per category a week, at least.
    #[serde(default)]
    pub minimum_per_category: u32,
    /// Decisions sampled by rate a week, at most.
    pub weekly_cap: Option<u32>,
}

impl From<QaPlanBody> for SamplingPlanInput {
    fn from(body: QaPlanBody) -> Self {
        SamplingPlanInput {
            name: body.name,
            seed: body.seed,
            rate: body.rate,
            queues: body.queues,
            categories: body.categories,
            severities: body.severities,
            reviewers: body.reviewers,
            rates: body
                .rates
                .into_iter()
                .map(|rule| RateRuleInput {
                    queue: rule.queue,
                    category: rule.category,
                    severity: rule.severity,
                    reviewer: rule.reviewer,
                    rate: rule.rate,
                })
                .collect(),
            all_severities: body.all_severities,
            new_reviewer_days: body.new_reviewer_days,
            minimum_per_reviewer: body.minimum_per_reviewer,
            minimum_per_category: body.minimum_per_category,
            weekly_cap: body.weekly_cap,
        }
    }
}

/// A saved plan.
#[derive(Debug, Serialize, ToSchema)]
pub struct QaPlanView {
    /// The plan as saved.
    pub plan: QaPlanBody,
    /// Its scope in words.
    pub scope: String,
    /// Who saved it last.
    pub saved_by: String,
    /// When it was first saved.
    pub created_at: DateTime<Utc>,
    /// When it was saved last.
    pub updated_at: DateTime<Utc>,
    /// The decisions it is expected to sample in a week, over the recent
    /// decision volume, with the arithmetic.
    pub expected_weekly_load: WeeklyLoadView,
}

/// A plan's expected weekly load: decisions a week (averaged over the last
/// weeks, per queue, category, severity and decider) run through the plan.
#[derive(Debug, Serialize, ToSchema)]
pub struct WeeklyLoadView {
    /// Expected decisions a week in the plan's scope.
    pub in_scope: f64,
    /// Sampled by `all` rules (listed severities, new reviewers).
    pub by_all_rules: f64,
    /// Drawn under a rate, before the weekly cap.
    pub by_rate: f64,
    /// Sampled by rate after the weekly cap.
    pub by_rate_capped: f64,
    /// Top-ups to the per-reviewer and per-category minimums (an estimate).
    pub by_minimums: f64,
    /// `by_all_rules + by_rate_capped + by_minimums`.
    pub total: f64,
    /// The arithmetic in words, a line per step; the first says what
    /// volume it counts.
    pub arithmetic: Vec<String>,
}

impl From<&WeeklyLoad> for WeeklyLoadView {
    fn from(load: &WeeklyLoad) -> Self {
        WeeklyLoadView {
            in_scope: load.in_scope,
            by_all_rules: load.by_all_rules,
            by_rate: load.by_rate,
            by_rate_capped: load.by_rate_capped,
            by_minimums: load.by_minimums,
            total: load.total,
            arithmetic: load.arithmetic.clone(),
        }
    }
}

impl From<&PlanView> for QaPlanView {
    fn from(view: &PlanView) -> Self {
        let input = &view.record.input;
        QaPlanView {
            plan: QaPlanBody {
                name: input.name.clone(),
                seed: input.seed,
                rate: input.rate,
                queues: input.queues.clone(),
                categories: input.categories.clone(),
                severities: input.severities.clone(),
                reviewers: input.reviewers.clone(),
                rates: input
                    .rates
                    .iter()
                    .map(|rule| RateRuleBody {
                        queue: rule.queue.clone(),
                        category: rule.category.clone(),
                        severity: rule.severity.clone(),
                        reviewer: rule.reviewer.clone(),
                        rate: rule.rate,
                    })
                    .collect(),
                all_severities: input.all_severities.clone(),
                new_reviewer_days: input.new_reviewer_days,
                minimum_per_reviewer: input.minimum_per_reviewer,
                minimum_per_category: input.minimum_per_category,
                weekly_cap: input.weekly_cap,
            },
            scope: view.scope.clone(),
            saved_by: view.record.created_by.clone(),
            created_at: view.record.created_at,
            updated_at: view.record.updated_at,
            expected_weekly_load: WeeklyLoadView::from(&view.load),
        }
    }
}

// ------------------------------------------------------------ reviews

/// The QA reviewer's own decision, made blind.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerdictBody {
    /// Whether a policy was broken.
    pub violation: Option<bool>,
    /// A taxonomy code.
    pub category: Option<String>,
    /// The actions the reviewer would order.
    #[serde(default)]
    pub actions: Vec<ActionBody>,
}

impl From<VerdictBody> for VerdictDraft {
    fn from(body: VerdictBody) -> Self {
        VerdictDraft {
            violation: body.violation,
            category: body.category,
            actions: body.actions.into_iter().map(ActionDraft::from).collect(),
        }
    }
}

/// The rubric.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RubricBody {
    /// Was the decision (violation or not) right?
    pub decision_correct: Option<bool>,
    /// Was the category right?
    pub category_correct: Option<bool>,
    /// Were the actions proportionate?
    pub action_proportionate: Option<bool>,
    /// Documentation, 1 to 5.
    pub documentation: Option<i64>,
}

/// `POST /api/v1/qa/reviews/{id}`: verdict, rubric and feedback.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QaReviewBody {
    /// The reviewer's verdict.
    pub verdict: VerdictBody,
    /// The rubric.
    pub rubric: RubricBody,
    /// Feedback to the decider (required when an answer is no).
    pub feedback: Option<String>,
    /// Send the decision back for rework; by default when it was wrong.
    pub rework: Option<bool>,
}

impl QaReviewBody {
    /// The verdict and the rubric as the app takes them.
    pub fn into_parts(self) -> (VerdictDraft, ScoreInput) {
        let rubric = ScoreInput {
            decision_correct: self.rubric.decision_correct,
            category_correct: self.rubric.category_correct,
            action_proportionate: self.rubric.action_proportionate,
            documentation: self.rubric.documentation,
            feedback: self.feedback,
            rework: self.rework,
        };
        (self.verdict.into(), rubric)
    }
}

/// A verdict in answers.
#[derive(Debug, Serialize, ToSchema)]
pub struct VerdictView {
    /// Whether a policy was broken.
    pub violation: bool,
    /// The category.
    pub category: String,
    /// The actions.
    #[schema(value_type = Vec<Object>)]
    pub actions: Vec<serde_json::Value>,
}

impl From<&QaVerdict> for VerdictView {
    fn from(verdict: &QaVerdict) -> Self {
        VerdictView {
            violation: verdict.violation,
            category: verdict.category.clone(),
            actions: verdict.actions.iter().map(action_json).collect(),
        }
    }
}

/// The case as the decider saw it: no decision, decider, actions or notes.
#[derive(Debug, Serialize, ToSchema)]
pub struct BlindCaseView {
    /// The case.
    pub case_id: i64,
    /// Its queue.
    pub queue: String,
    /// The category reported.
    pub category: String,
    /// Its severity.
    pub severity: String,
    /// When it opened.
    pub opened_at: DateTime<Utc>,
    /// The subject (personal data masked).
    pub subject: Option<SubjectView>,
    /// Reports up to the decision.
    pub reports: Vec<ReportView>,
    /// Signals up to the decision.
    pub signals: Vec<SignalView>,
    /// Status changes before the decision (from, to, at), without who.
    pub history: Vec<BlindTransitionView>,
}

/// A status change without who made it.
#[derive(Debug, Serialize, ToSchema)]
pub struct BlindTransitionView {
    /// From.
    pub from: Option<String>,
    /// To.
    pub to: String,
    /// When.
    pub at: DateTime<Utc>,
}

/// What the verdict reveals.
#[derive(Debug, Serialize, ToSchema)]
pub struct RevealedView {
    /// The original decision.
    pub original: DecisionView,
    /// Whether QA's verdict agrees on violation and category.
    pub agrees: bool,
    /// Violation matches.
    pub violation_matches: bool,
    /// Category matches.
    pub category_matches: bool,
    /// Share of actions both chose.
    pub action_overlap: Option<f64>,
    /// How the original's actions compare.
    pub proportionality: String,
    /// The differences, in words.
    pub notes: Vec<String>,
    /// Why the decision was sampled.
    pub sample_reasons: Vec<String>,
}

/// The rubric as scored.
#[derive(Debug, Serialize, ToSchema)]
pub struct ScoredView {
    /// Was the decision right?
    pub decision_correct: bool,
    /// Was the category right?
    pub category_correct: bool,
    /// Were the actions proportionate?
    pub action_proportionate: bool,
    /// Documentation, 1 to 5.
    pub documentation: u8,
    /// Feedback to the decider.
    pub feedback: String,
    /// Sent back for rework.
    pub rework: bool,
    /// When scored.
    pub scored_at: DateTime<Utc>,
}

/// A sampled decision as QA sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct QaWorkView {
    /// The sampled decision's id: the review's id.
    pub id: i64,
    /// sampled, claimed, verdict_submitted, scored or closed.
    pub status: String,
    /// Who holds the claim.
    pub claimed_by: Option<String>,
    /// When the claim's lease ends.
    pub lease_expires_at: Option<DateTime<Utc>>,
    /// The case as the decider saw it.
    pub case: BlindCaseView,
    /// The reviewer's verdict, once in.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verdict: Option<VerdictView>,
    /// The original and the agreement, once the verdict is in; absent before.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revealed: Option<RevealedView>,
    /// The rubric, once scored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rubric: Option<ScoredView>,
}

impl QaWorkView {
    /// The view of `work`.
    pub fn new(work: &QaWork) -> Self {
        let record = work.assignment.record();
        let case = &work.case;
        let revealed = work.revealed.as_ref().map(|revealed| {
            let comparison = revealed.comparison.as_ref();
            RevealedView {
                original: DecisionView::from(&revealed.decision),
                agrees: comparison.is_some_and(|c| c.agrees),
                violation_matches: comparison.is_some_and(|c| c.violation_matches),
                category_matches: comparison.is_some_and(|c| c.category_matches),
                action_overlap: comparison.and_then(|c| c.action_overlap),
                proportionality: comparison
                    .map(|c| c.proportionality.describe().to_string())
                    .unwrap_or_default(),
                notes: comparison.map(|c| c.notes.clone()).unwrap_or_default(),
                sample_reasons: revealed
                    .sample_reasons
                    .iter()
                    .map(|tag| format!("{}: {}", tag.plan, tag.reason))
                    .collect(),
            }
        });
        QaWorkView {
            id: record.decision_id,
            status: record.status.as_str().to_string(),
            claimed_by: record.lease.as_ref().map(|l| l.assignee.clone()),
            lease_expires_at: record.lease.as_ref().map(|l| l.expires_at),
            case: BlindCaseView {
                case_id: case.case_id.0,
                queue: case.queue.clone(),
                category: case.category.clone(),
                severity: case.severity.as_str().to_string(),
                opened_at: case.opened_at,
                subject: case.subject.as_ref().map(|s| SubjectView::new(s, false)),
                reports: case
                    .reports
                    .iter()
                    .map(|r| ReportView::new(r, false))
                    .collect(),
                signals: case
                    .signals
                    .iter()
                    .map(|s| SignalView::new(s, false))
                    .collect(),
                history: case
                    .history
                    .iter()
                    .map(|(from, to, at)| BlindTransitionView {
                        from: from.map(|s| s.as_str().to_string()),
                        to: to.as_str().to_string(),
                        at: *at,
                    })
                    .collect(),
            },
            verdict: record
                .verdict
                .as_ref()
                .map(|(_, v, _)| VerdictView::from(v)),
            revealed,
            rubric: record.rubric.as_ref().map(|(rubric, at)| ScoredView {
                decision_correct: rubric.decision_correct,
                category_correct: rubric.category_correct,
                action_proportionate: rubric.action_proportionate,
                documentation: rubric.documentation.value(),
                feedback: rubric.feedback.clone(),
                rework: rubric.rework,
                scored_at: *at,
            }),
        }
    }
}

/// A review in a list (the verdict is in, so the decider's side shows).
#[derive(Debug, Serialize, ToSchema)]
pub struct QaReviewView {
    /// The reviewed decision.
    pub id: i64,
    /// Its case.
    pub case_id: i64,
    /// Its queue.
    pub queue: String,
    /// Its category.
    pub category: String,
    /// Who decided.
    pub decider: String,
    /// The QA reviewer.
    pub reviewer: Option<String>,
    /// verdict_submitted, scored or closed.
    pub status: String,
    /// The reviewer's verdict.
    pub verdict: Option<VerdictView>,
    /// When the verdict came in.
    pub verdict_at: Option<DateTime<Utc>>,
    /// The rubric, once scored.
    pub rubric: Option<ScoredView>,
    /// Whether it was sent back for rework.
    pub reworked: bool,
}

impl From<&StoredQaAssignment> for QaReviewView {
    fn from(stored: &StoredQaAssignment) -> Self {
        let record = stored.assignment.record();
        QaReviewView {
            id: record.decision_id,
            case_id: record.case_id.0,
            queue: stored.queue.clone(),
            category: stored.category.clone(),
            decider: record.decider.clone(),
            reviewer: record.verdict.as_ref().map(|(r, _, _)| r.clone()),
            status: record.status.as_str().to_string(),
            verdict: record
                .verdict
                .as_ref()
                .map(|(_, v, _)| VerdictView::from(v)),
            verdict_at: record.verdict.as_ref().map(|(_, _, at)| *at),
            rubric: record.rubric.as_ref().map(|(rubric, at)| ScoredView {
                decision_correct: rubric.decision_correct,
                category_correct: rubric.category_correct,
                action_proportionate: rubric.action_proportionate,
                documentation: rubric.documentation.value(),
                feedback: rubric.feedback.clone(),
                rework: rubric.rework,
                scored_at: *at,
            }),
            reworked: stored.rework.is_some(),
        }
    }
}

/// `GET /api/v1/qa/reviews`.
#[derive(Debug, Serialize, ToSchema)]
pub struct QaReviewList {
    /// Reviews, newest verdict first.
    pub reviews: Vec<QaReviewView>,
}

/// One group in one week of QA results.
#[derive(Debug, Serialize, ToSchema)]
pub struct QaResultView {
    /// Monday of the week.
    pub week: DateTime<Utc>,
    /// The decider, queue or category.
    pub group: String,
    /// Scored reviews.
    pub reviews: u32,
    /// Decisions found correct.
    pub passed: u32,
    /// passed / reviews.
    pub pass_rate: f64,
    /// Mean documentation score.
    pub documentation: f64,
    /// Sent back for rework.
    pub reworked: u32,
}

impl From<&QaResultRow> for QaResultView {
    fn from(row: &QaResultRow) -> Self {
        QaResultView {
            week: row.week,
            group: row.group.clone(),
            reviews: row.reviews,
            passed: row.passed,
            pass_rate: row.pass_rate,
            documentation: row.documentation,
            reworked: row.reworked,
        }
    }
}

/// `GET /api/v1/qa/results`.
#[derive(Debug, Serialize, ToSchema)]
pub struct QaResultsView {
    /// reviewer, queue or category.
    pub by: String,
    /// From this Monday on.
    pub since: DateTime<Utc>,
    /// Rows by week, then group.
    pub rows: Vec<QaResultView>,
}

impl From<&QaResults> for QaResultsView {
    fn from(results: &QaResults) -> Self {
        QaResultsView {
            by: results.by.as_str().to_string(),
            since: results.since,
            rows: results.rows.iter().map(QaResultView::from).collect(),
        }
    }
}

// ------------------------------------------------------------ calibration

/// Cases chosen by seed from candidates.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionSampleBody {
    /// The seed.
    pub seed: u64,
    /// The candidate case ids.
    pub candidates: Vec<i64>,
    /// How many to take.
    pub count: usize,
}

/// `POST /api/v1/calibration/sessions`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionBody {
    /// What is being calibrated.
    pub title: String,
    /// The cases (or `sample`).
    pub case_ids: Option<Vec<i64>>,
    /// Cases chosen by seed instead of `case_ids`.
    pub sample: Option<SessionSampleBody>,
    /// The raters' user names.
    pub raters: Vec<String>,
}

impl SessionBody {
    /// The command; exactly one of `case_ids` and `sample`.
    pub fn into_command(self) -> Result<CreateSessionCommand, warden_domain::FieldErrors> {
        let cases = match (self.case_ids, self.sample) {
            (Some(ids), None) => SessionCases::Picked(ids),
            (None, Some(sample)) => SessionCases::Sampled {
                seed: sample.seed,
                candidates: sample.candidates,
                count: sample.count,
            },
            _ => {
                return Err(warden_domain::FieldError::new(
                    "case_ids",
                    "give either case_ids or sample, not both or neither",
                )
                .into())
            }
        };
        Ok(CreateSessionCommand {
            title: self.title,
            cases,
            raters: self.raters,
        })
    }
}

/// `POST /api/v1/calibration/sessions/{id}/ratings`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RatingBody {
    /// The case.
    pub case_id: i64,
    /// The rater: yourself.
    pub rater: String,
    /// A taxonomy code.
    pub label: String,
}

/// `POST /api/v1/calibration/sessions/{id}/resolution`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolutionBody {
    /// The guidance the session settled.
    pub note: String,
    /// The taxonomy categories it applies to.
    pub categories: Vec<String>,
}

/// One rating.
#[derive(Debug, Serialize, ToSchema)]
pub struct RatingView {
    /// The case.
    pub case_id: i64,
    /// The rater.
    pub rater: String,
    /// The label.
    pub label: String,
    /// When.
    pub rated_at: DateTime<Utc>,
}

/// How far a rater has got.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProgressView {
    /// The rater.
    pub rater: String,
    /// Cases rated.
    pub rated: u32,
    /// Cases in the session.
    pub cases: u32,
}

/// One case of the report.
#[derive(Debug, Serialize, ToSchema)]
pub struct CaseLabelsView {
    /// The case.
    pub case_id: i64,
    /// Ratings per label.
    pub labels: BTreeMap<String, u32>,
    /// The consensus label; null when unrated or tied.
    pub consensus: Option<String>,
    /// The labels tied for the most ratings, when tied.
    pub tied: Vec<String>,
    /// The share of agreeing pairs of its ratings.
    pub agreement: Option<f64>,
}

/// One rater against the consensus.
#[derive(Debug, Serialize, ToSchema)]
pub struct RaterDeviationView {
    /// The rater.
    pub rater: String,
    /// Their ratings.
    pub ratings: u32,
    /// Share equal to the consensus.
    pub agreement: Option<f64>,
    /// Agreement minus the session's mean.
    pub deviation: Option<f64>,
}

/// A disputed case.
#[derive(Debug, Serialize, ToSchema)]
pub struct DisputedView {
    /// The case.
    pub case_id: i64,
    /// Ratings per label.
    pub labels: BTreeMap<String, u32>,
    /// Its agreement.
    pub agreement: f64,
}

/// The report of a closed session (the statistics as in
/// `warden stats agreement`).
#[derive(Debug, Serialize, ToSchema)]
pub struct CalibrationReportView {
    /// Cases rated.
    pub items: usize,
    /// Raters who rated.
    pub raters: usize,
    /// Ratings.
    pub ratings: usize,
    /// Labels used.
    pub categories: usize,
    /// Fleiss' P̄.
    pub percent_agreement: Option<f64>,
    /// Fleiss' kappa (complete designs).
    pub fleiss_kappa: Option<f64>,
    /// Krippendorff's alpha, nominal.
    pub krippendorff_alpha_nominal: Option<f64>,
    /// Cohen's kappa, with exactly two raters.
    pub cohen_kappa: Option<f64>,
    /// Each case's labels and consensus.
    pub cases: Vec<CaseLabelsView>,
    /// Each rater's agreement with consensus and deviation.
    pub raters_vs_consensus: Vec<RaterDeviationView>,
    /// The mean absolute deviation: policy alignment variance.
    pub alignment_variance: Option<f64>,
    /// The most disputed cases.
    pub most_disputed: Vec<DisputedView>,
}

fn stat(value: Statistic) -> Option<f64> {
    value.ok()
}

fn label_map(labels: &[(String, u32)]) -> BTreeMap<String, u32> {
    labels.iter().cloned().collect()
}

impl From<&CalibrationReport> for CalibrationReportView {
    fn from(report: &CalibrationReport) -> Self {
        CalibrationReportView {
            items: report.rated_cases,
            raters: report.active_raters,
            ratings: report.ratings,
            categories: report.labels_used,
            percent_agreement: stat(report.percent_agreement),
            fleiss_kappa: stat(report.fleiss_kappa),
            krippendorff_alpha_nominal: stat(report.krippendorff_alpha_nominal),
            cohen_kappa: stat(report.cohen_kappa),
            cases: report
                .cases
                .iter()
                .map(|case| CaseLabelsView {
                    case_id: case.case_id,
                    labels: label_map(&case.labels),
                    consensus: match &case.consensus {
                        CaseConsensus::Label(label) => Some(label.clone()),
                        _ => None,
                    },
                    tied: match &case.consensus {
                        CaseConsensus::Tie(labels) => labels.clone(),
                        _ => Vec::new(),
                    },
                    agreement: case.agreement,
                })
                .collect(),
            raters_vs_consensus: report
                .raters
                .iter()
                .map(|rater| RaterDeviationView {
                    rater: rater.rater.clone(),
                    ratings: rater.ratings,
                    agreement: stat(rater.agreement),
                    deviation: stat(rater.deviation),
                })
                .collect(),
            alignment_variance: stat(report.alignment_variance),
            most_disputed: report
                .most_disputed
                .iter()
                .map(|case| DisputedView {
                    case_id: case.case_id,
                    labels: label_map(&case.labels),
                    agreement: case.agreement,
                })
                .collect(),
        }
    }
}

/// The resolution note.
#[derive(Debug, Serialize, ToSchema)]
pub struct ResolutionView {
    /// The guidance.
    pub note: String,
    /// Its categories.
    pub categories: Vec<String>,
    /// Who wrote it.
    pub resolved_by: String,
    /// When.
    pub resolved_at: DateTime<Utc>,
}

/// A calibration session as the caller may see it: their own ratings
/// until it closes, then every rating and the report.
#[derive(Debug, Serialize, ToSchema)]
pub struct CalibrationSessionView {
    /// Its id.
    pub id: i64,
    /// Its title.
    pub title: String,
    /// draft, open, closed or resolved.
    pub status: String,
    /// Who created it.
    pub created_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// The cases.
    pub case_ids: Vec<i64>,
    /// The raters.
    pub raters: Vec<String>,
    /// Every rater's progress.
    pub progress: Vec<ProgressView>,
    /// The ratings shown.
    pub ratings: Vec<RatingView>,
    /// The report, once closed.
    pub report: Option<CalibrationReportView>,
    /// The resolution note, once resolved.
    pub resolution: Option<ResolutionView>,
}

impl CalibrationSessionView {
    /// The view of `stored` for `viewer`.
    pub fn new(stored: &StoredCalibrationSession, viewer: &str) -> Self {
        let record = stored.session.record();
        let view: SessionView<'_> = stored.session.view_for(viewer);
        CalibrationSessionView {
            id: stored.id,
            title: record.title.clone(),
            status: record.status.as_str().to_string(),
            created_by: record.created_by.clone(),
            created_at: record.created_at,
            case_ids: record.case_ids.clone(),
            raters: record.raters.clone(),
            progress: view
                .progress
                .iter()
                .map(|p| ProgressView {
                    rater: p.rater.clone(),
                    rated: p.rated,
                    cases: p.cases,
                })
                .collect(),
            ratings: view
                .ratings
                .iter()
                .map(|r| RatingView {
                    case_id: r.case_id,
                    rater: r.rater.clone(),
                    label: r.label.clone(),
                    rated_at: r.rated_at,
                })
                .collect(),
            report: view.report.map(CalibrationReportView::from),
            resolution: record.resolution.as_ref().map(|r| ResolutionView {
                note: r.note.clone(),
                categories: r.categories.clone(),
                resolved_by: r.resolved_by.clone(),
                resolved_at: r.resolved_at,
            }),
        }
    }
}

/// A session in a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionSummaryView {
    /// Its id.
    pub id: i64,
    /// Its title.
    pub title: String,
    /// Its status.
    pub status: String,
    /// Who created it.
    pub created_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
}
