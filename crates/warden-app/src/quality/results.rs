//! QA results over time: scored reviews grouped by the decider, the
//! queue or the category, per week, with the pass rate, the mean
//! documentation score and the decisions sent back (`specs/kpis.md`:
//! `qa_pass_rate`, `documentation_quality`, `rework_rate`, attributed to
//! the decider's side, never the QA reviewer's).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{Datelike, Duration, TimeZone, Utc};

use warden_domain::access::Permission;
use warden_domain::Timestamp;
use warden_store::{QaReviewFilter, StoredQaAssignment};

use crate::limits::QA_RESULTS_WEEKS_MAX;
use crate::{Actor, App, CommandError, CommandResult};

/// What results are grouped by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResultsGrouping {
    /// The decider of the reviewed decision.
    #[default]
    Reviewer,
    /// The queue of its case.
    Queue,
    /// Its category.
    Category,
}

impl ResultsGrouping {
    /// Parses `reviewer`, `queue` or `category`.
    pub fn parse(value: &str) -> Result<ResultsGrouping, String> {
        match value {
            "reviewer" => Ok(ResultsGrouping::Reviewer),
            "queue" => Ok(ResultsGrouping::Queue),
            "category" => Ok(ResultsGrouping::Category),
            other => Err(format!(
                "unknown grouping {other:?}; expected reviewer, queue or category"
            )),
        }
    }

    /// The name.
    pub fn as_str(self) -> &'static str {
        match self {
            ResultsGrouping::Reviewer => "reviewer",
            ResultsGrouping::Queue => "queue",
            ResultsGrouping::Category => "category",
        }
    }
}

/// Which results.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QaResultsQuery {
    /// The grouping.
    pub by: ResultsGrouping,
    /// Weeks back from now, 1 to [`QA_RESULTS_WEEKS_MAX`].
    pub weeks: u32,
}

/// One group in one week.
#[derive(Debug, Clone, PartialEq)]
pub struct QaResultRow {
    /// Monday 00:00 UTC of the week.
    pub week: Timestamp,
    /// The decider, queue or category.
    pub group: String,
    /// Scored reviews.
    pub reviews: u32,
    /// Of which the decision was correct.
    pub passed: u32,
    /// `passed / reviews`.
    pub pass_rate: f64,
    /// The mean documentation score, 1 to 5.
    pub documentation: f64,
    /// Decisions sent back for rework.
    pub reworked: u32,
}

/// The results and how many reviews they cover.
#[derive(Debug, Clone, PartialEq)]
pub struct QaResults {
    /// The grouping.
    pub by: ResultsGrouping,
    /// From this week's Monday on.
    pub since: Timestamp,
    /// Rows by week, then group.
    pub rows: Vec<QaResultRow>,
    /// Reviews read (at most a page: the newest).
    pub reviews: usize,
}

/// Monday 00:00 UTC of the week of `at`.
pub(crate) fn week_of(at: Timestamp) -> Timestamp {
    let date = at.date_naive() - Duration::days(i64::from(at.weekday().num_days_from_monday()));
    Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0).unwrap_or_default())
}

fn group_of(stored: &StoredQaAssignment, by: ResultsGrouping) -> String {
    match by {
        ResultsGrouping::Reviewer => stored.assignment.record().decider.clone(),
        ResultsGrouping::Queue => stored.queue.clone(),
        ResultsGrouping::Category => stored.category.clone(),
    }
}

/// (reviews, passed, documentation sum, reworked).
type Tally = (u32, u32, u32, u32);

impl App {
    /// QA results per week and group over the last `weeks` weeks, in the
    /// actor's queues.
    pub async fn qa_results(
        &self,
        actor: &Actor,
        query: QaResultsQuery,
    ) -> CommandResult<QaResults> {
        actor.require(Permission::QaReview)?;
        if !(1..=QA_RESULTS_WEEKS_MAX).contains(&query.weeks) {
            return Err(CommandError::invalid(
                "weeks",
                format!("must be 1 to {QA_RESULTS_WEEKS_MAX}"),
            ));
        }
        let since = week_of(self.now()) - Duration::weeks(i64::from(query.weeks) - 1);
        let filter = QaReviewFilter {
            since: Some(since),
            scope: self.scope(actor),
            limit: warden_domain::limits::PAGE_SIZE_MAX,
            ..QaReviewFilter::default()
        };
        let reviews = self.store().qa_reviews(&filter).await?;
        let mut tallies: BTreeMap<(Timestamp, String), Tally> = BTreeMap::new();
        for stored in &reviews {
            let Some(review) = stored.assignment.review() else {
                continue;
            };
            let tally = tallies
                .entry((week_of(review.scored_at), group_of(stored, query.by)))
                .or_default();
            tally.0 += 1;
            tally.1 += u32::from(review.rubric.decision_correct);
            tally.2 += u32::from(review.rubric.documentation.value());
            tally.3 += u32::from(stored.rework.is_some());
        }
        let rows = tallies
            .into_iter()
            .map(
                |((week, group), (reviews, passed, documentation, reworked))| QaResultRow {
                    week,
                    group,
                    reviews,
                    passed,
                    pass_rate: f64::from(passed) / f64::from(reviews),
                    documentation: f64::from(documentation) / f64::from(reviews),
                    reworked,
                },
            )
            .collect();
        Ok(QaResults {
            by: query.by,
            since,
            rows,
            reviews: reviews.len(),
        })
    }
}

impl QaResults {
    /// The results as CSV: `week,group,reviews,passed,pass_rate,documentation,reworked`.
    /// A group starting with `=`, `+`, `-` or `@` is quoted with a leading
    /// apostrophe so spreadsheets do not run it.
    pub fn to_csv(&self) -> String {
        let mut out = format!(
            "week,{},reviews,passed,pass_rate,documentation,reworked\n",
            self.by.as_str()
        );
        for row in &self.rows {
            let _ = writeln!(
                out,
                "{},{},{},{},{:.3},{:.2},{}",
                row.week.format("%Y-%m-%d"),
                csv_field(&row.group),
                row.reviews,
                row.passed,
                row.pass_rate,
                row.documentation,
                row.reworked
            );
        }
        out
    }
}

fn csv_field(value: &str) -> String {
    let guarded = if value.starts_with(['=', '+', '-', '@']) {
        format!("'{value}")
    } else {
        value.to_string()
    };
    if guarded.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}
