//! `warden bench kpis`, the whole path: decisions bulk-loaded into a
//! scratch store, untimed, then the team dashboard's KPIs (every KPI, the
//! team's totals and by day over a 30-day window) timed from the store's
//! window reads (`KpiFactsStore::kpi_facts`) through `kpi::compute`.
//!
//! The load: one report case per decision, spread evenly over the month,
//! in 5 queues and 8 categories, decided by 50 reviewers; 60 % find a
//! violation and carry one applied action; 3 % have a scored QA review;
//! 10 % a media exposure interval; 50 cases stay open. Rows go in as
//! multi-row `INSERT`s of literal numbers in transactions of 20,000.

use std::time::{Duration as StdDuration, Instant};

use anyhow::{anyhow, Context, Result};
use chrono::{Duration, TimeZone, Utc};
use sqlx::Connection;

use warden_domain::kpi::{compute, GroupBy, Kpi, KpiFilters, KpiQuery, KpiSettings, KpiWindow};
use warden_store::prelude::*;
use warden_store::{KpiFactsWindow, SqlStore};

use super::kpis::DECISIONS_DEFAULT;

/// Rows per `INSERT` statement and per transaction.
const ROWS_PER_STATEMENT: usize = 500;
const ROWS_PER_TRANSACTION: usize = 20_000;
/// Timed runs; the median is reported.
const RUNS: usize = 3;
/// The month's length.
const DAYS: i64 = 30;

/// The SQL of the rows of decision `i` (of `n`) starting the month at `from_ms`.
fn rows(i: usize, n: usize, from_ms: i64) -> [Option<String>; 5] {
    let id = i as i64 + 1;
    let span = DAYS * 86_400_000;
    let decided = from_ms + span * i as i64 / n.max(1) as i64;
    let opened = decided - 3_600_000;
    let queue = ["general", "fraud", "hate", "csam", "appeals"][i % 5];
    let category = [
        "spam", "fraud", "hate", "scam", "nudity", "violence", "selfharm", "other",
    ][i % 8];
    let reviewer = format!("analyst-{}", i % 50);
    let open = i.is_multiple_of((n / 50).max(1));
    let (status, resolved) = if open {
        ("in_review", "NULL".to_string())
    } else {
        ("resolved", decided.to_string())
    };
    let severity = 1 + (i % 4);
    let case = format!(
        "({id}, 'content', 'post-{id}', '{category}', '{queue}', {severity}, '{status}', 0, 1, {opened}, {decided}, {}, {}, {}, {resolved})",
        opened + 1_800_000, opened + 14_400_000, decided - 600_000
    );
    let violation = i64::from(i % 5 < 3);
    let decision = (!open).then(|| format!(
        "({id}, {id}, 'content', 'post-{id}', {violation}, '{category}', '{{}}', '{reviewer}', {}, {decided})",
        i % 50 + 1
    ));
    let action = (!open && violation == 1).then(|| {
        format!(
            "({id}, {id}, {id}, 'content', 'post-{id}', 'remove_content', 'delivered', {decided})"
        )
    });
    let qa = (!open && i.is_multiple_of(33)).then(|| format!(
        "({id}, {id}, '{queue}', '{category}', '{reviewer}', {decided}, {decided}, 'scored', 1, 'qa', '{{\"decision_correct\": {}, \"category_correct\": true, \"action_proportionate\": true, \"documentation\": {}, \"feedback\": \"\", \"rework\": false}}', {})",
        !i.is_multiple_of(10), 1 + i % 5, decided + 86_400_000
    ));
    let exposure = (i.is_multiple_of(10)).then(|| {
        format!(
            "('{reviewer}', {id}, {}, 45000, {decided})",
            decided - 300_000
        )
    });
    [Some(case), decision, action, qa, exposure]
}

/// The tables of [`rows`], in order.
const TABLES: [&str; 5] = [
    "INSERT INTO cases (id, subject_kind, subject_id, category, queue, severity, status, priority, version, opened_at, updated_at, first_touch_due_at, resolve_due_at, first_touched_at, resolved_at) VALUES ",
    "INSERT INTO decisions (id, case_id, subject_kind, subject_id, violation, category, rationale, decided_by, decided_by_id, decided_at) VALUES ",
    "INSERT INTO actions (id, decision_id, case_id, target_kind, target_id, action_type, status, created_at) VALUES ",
    "INSERT INTO qa_assignments (decision_id, case_id, queue, category, decider, decided_at, sampled_at, status, version, reviewer, rubric, scored_at) VALUES ",
    "INSERT INTO wellness_exposures (reviewer, case_id, revealed_at, visible_ms, recorded_at) VALUES ",
];

/// Loads `n` decisions through a connection of its own to `url`.
async fn load(url: &str, n: usize, from_ms: i64) -> Result<()> {
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(url)
        .await
        .context("cannot connect to the scratch database")?;
    let mut start = 0;
    while start < n {
        let end = (start + ROWS_PER_TRANSACTION).min(n);
        let mut pending: [Vec<String>; 5] = Default::default();
        for i in start..end {
            for (table, row) in rows(i, n, from_ms).into_iter().enumerate() {
                pending[table].extend(row);
            }
        }
        let mut tx = conn.begin().await?;
        for (table, values) in pending.iter().enumerate() {
            for chunk in values.chunks(ROWS_PER_STATEMENT) {
                let sql = format!("{}{}", TABLES[table], chunk.join(", "));
                sqlx::query(&sql).execute(&mut *tx).await?;
            }
        }
        tx.commit().await?;
        start = end;
    }
    if url.starts_with("postgres") {
        sqlx::query("ANALYZE").execute(&mut conn).await?;
    }
    conn.close().await?;
    Ok(())
}

/// Loads, then times the dashboard's KPIs from the store; the median in ms.
pub async fn run(store: &SqlStore, url: &str, items: Option<usize>) -> Result<u128> {
    let n = items.unwrap_or(DECISIONS_DEFAULT);
    let from = Utc
        .with_ymd_and_hms(2026, 11, 1, 0, 0, 0)
        .single()
        .ok_or_else(|| anyhow!("the benchmark's start is a valid instant"))?;
    let to = from + Duration::days(DAYS);
    let started = Instant::now();
    load(url, n, from.timestamp_millis()).await?;
    println!(
        "{} store: {n} decisions loaded in {} ms (not timed)",
        store.backend().as_str(),
        started.elapsed().as_millis()
    );
    let window = KpiWindow::new(from, to).map_err(|errors| anyhow!("{errors}"))?;
    let as_of = to + Duration::days(14);
    let query = KpiQuery {
        window,
        as_of,
        filters: KpiFilters::default(),
        group_by: Some(GroupBy::Day),
    };
    let mut runs: Vec<StdDuration> = Vec::with_capacity(RUNS);
    for run in 0..RUNS {
        let started = Instant::now();
        let facts = store.kpi_facts(&KpiFactsWindow { from, to, as_of }).await?;
        let loaded = started.elapsed();
        let report = compute(&facts, &query, &KpiSettings::default())
            .map_err(|errors| anyhow!("{errors}"))?;
        let elapsed = started.elapsed();
        println!(
            "run {}: store load {} ms ({} decisions, {} resolutions) + compute {} ms = {} ms; cases_resolved {}",
            run + 1,
            loaded.as_millis(),
            facts.decisions.len(),
            facts.resolutions.len(),
            (elapsed - loaded).as_millis(),
            elapsed.as_millis(),
            report.totals.get(Kpi::CasesResolved).value.unwrap_or(0.0)
        );
        runs.push(elapsed);
    }
    runs.sort_unstable();
    Ok(runs[RUNS / 2].as_millis())
}
