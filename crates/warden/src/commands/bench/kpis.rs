//! `warden bench kpis`: the team dashboard's KPIs over 1,000,000 decisions.
//!
//! A seeded synthetic month (`warden_domain::kpi::synthetic`: decisions,
//! resolutions, first touches, appeals, QA reviews, escalations, rule hits,
//! exposure, breaks, open-case snapshots) is generated first, untimed; then
//! the dashboard's computation — every KPI of the spec for the whole team
//! and per day of the month — is timed, five runs, median reported. Other
//! groupings are timed once for comparison.
//!
//! Then the whole path (`kpis_store.rs`): the same number of
//! decisions bulk-loaded into a scratch store (SQLite, or PostgreSQL with
//! `--database-url`), untimed, and the team dashboard's KPIs timed from
//! the store's indexed window reads through the computation. The last
//! line, `kpis: N ms`, is that whole path's median.

use std::time::{Duration as StdDuration, Instant};

use anyhow::{anyhow, Result};
use chrono::{Duration, TimeZone, Utc};

use warden_domain::kpi::{
    compute, synthetic, GroupBy, Kpi, KpiFilters, KpiQuery, KpiSettings, KpiWindow,
};

/// Decisions in the benchmark's month unless `--items` says otherwise.
pub(super) const DECISIONS_DEFAULT: usize = 1_000_000;
/// Timed runs of the dashboard's computation; the median is reported.
const RUNS: usize = 5;
/// The synthetic month's length.
const DAYS: u32 = 30;

/// Times the pure computation over `items` synthetic decisions (default
/// 1,000,000); the median in milliseconds.
pub fn run_pure(items: Option<usize>) -> Result<u128> {
    let decisions = items.unwrap_or(DECISIONS_DEFAULT);
    let from = Utc
        .with_ymd_and_hms(2026, 11, 1, 0, 0, 0)
        .single()
        .ok_or_else(|| anyhow!("the benchmark's start is a valid instant"))?;
    let to = from + Duration::days(i64::from(DAYS));
    let started = Instant::now();
    let facts = synthetic::facts(decisions, 1, from, DAYS).map_err(|errors| anyhow!("{errors}"))?;
    println!(
        "synthetic month (seed 1): {} decisions, {} resolutions, {} first touches, {} appeals, \
         {} QA reviews, {} escalations, {} rule hits, {} exposure intervals; generated in {} ms \
         (not timed)",
        facts.decisions.len(),
        facts.resolutions.len(),
        facts.first_touches.len(),
        facts.appeals.len(),
        facts.qa_reviews.len(),
        facts.escalations.len(),
        facts.rule_hits.len(),
        facts.exposures.len(),
        started.elapsed().as_millis()
    );
    let window = KpiWindow::new(from, to).map_err(|errors| anyhow!("{errors}"))?;
    let query = |group_by| KpiQuery {
        window,
        as_of: to + Duration::days(14),
        filters: KpiFilters::default(),
        group_by,
    };
    let settings = KpiSettings::default();
    let time = |group_by: Option<GroupBy>| -> Result<(StdDuration, usize)> {
        let started = Instant::now();
        let report =
            compute(&facts, &query(group_by), &settings).map_err(|errors| anyhow!("{errors}"))?;
        let elapsed = started.elapsed();
        // Read a value so that the work cannot be optimised away.
        let resolved = report.totals.get(Kpi::CasesResolved).value.unwrap_or(0.0);
        std::hint::black_box(resolved);
        Ok((elapsed, report.groups.len()))
    };
    for group_by in [
        None,
        Some(GroupBy::Week),
        Some(GroupBy::Reviewer),
        Some(GroupBy::Queue),
        Some(GroupBy::Rule),
    ] {
        let (elapsed, groups) = time(group_by)?;
        println!(
            "totals{}: {:.1} ms ({groups} groups)",
            group_by.map_or(String::new(), |by| format!(" + by {}", by.as_str())),
            elapsed.as_secs_f64() * 1e3
        );
    }
    let mut runs = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        runs.push(time(Some(GroupBy::Day))?.0);
    }
    runs.sort_unstable();
    let median = runs[RUNS / 2];
    println!(
        "team dashboard (all {} KPIs, team totals + by day): median of {RUNS} runs {:.1} ms \
         (min {:.1}, max {:.1}), one thread",
        Kpi::COUNT,
        median.as_secs_f64() * 1e3,
        runs[0].as_secs_f64() * 1e3,
        runs[RUNS - 1].as_secs_f64() * 1e3
    );
    println!("pure compute: {} ms", median.as_millis());
    Ok(median.as_millis())
}
