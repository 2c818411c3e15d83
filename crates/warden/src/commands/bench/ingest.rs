//! `warden bench ingest`: events per second through HTTP intake and the
//! detection worker running the 210-rule reference pack, as the
//! write-path issue asks. The real server runs on a fresh scratch database
//! with the pack in its rules directory; 5,000 accounts are loaded first
//! (not timed); then a few clients send the reference corpus as NDJSON
//! batches, and the clock runs from the first batch sent until the worker
//! has evaluated the last event and applied its hits (its cursor passed
//! it; hits and cursor commit together).

use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use anyhow::{bail, ensure, Context, Result};
use chrono::{DateTime, Utc};
use reqwest::header::AUTHORIZATION;
use serde_json::{json, Value};

use warden_domain::access::{Role, Scope};
use warden_domain::audit::checkpoint::group_thousands;
use warden_store::prelude::*;
use warden_store::SqlStore;

use super::limits::{CLIENTS_MAX, DETECTION_WAIT_SECONDS_MAX, EVENTS_MAX};
use super::server::{client, ndjson_batches, send_batches, user_token, BenchServer};
use crate::cli::BenchArgs;
use crate::config::Config;
use crate::progress;

/// Accounts the corpus's events are by (`acct_0` ...), as in `bench rules`.
const ACCOUNTS: usize = 5_000;

/// How often the detection cursor is looked at while waiting.
const POLL: StdDuration = StdDuration::from_millis(10);

/// Runs the benchmark against `store`, a fresh scratch database; the rules
/// go under `data_dir`.
pub async fn run(
    config: &Config,
    store: Arc<SqlStore>,
    data_dir: &std::path::Path,
    events: Option<usize>,
    load: &BenchArgs,
) -> Result<()> {
    let total = events.unwrap_or(20_000);
    ensure!(
        (1..=EVENTS_MAX).contains(&total),
        "--items (events) must be from 1 to {EVENTS_MAX}"
    );
    ensure!(
        (1..=CLIENTS_MAX).contains(&load.clients),
        "--clients must be from 1 to {CLIENTS_MAX}"
    );
    ensure!(
        (1..=config.server.batch_items_max).contains(&load.batch),
        "--batch must be from 1 to server.batch_items_max ({})",
        config.server.batch_items_max
    );
    let rules_dir = data_dir.join("bench-rules");
    std::fs::create_dir_all(&rules_dir)
        .with_context(|| format!("cannot create {}", rules_dir.display()))?;
    for (name, text) in warden_detection::bench::reference_pack() {
        std::fs::write(rules_dir.join(name), text)?;
    }
    let mut config = config.clone();
    config.detection.enabled = true;
    config.detection.rules_dir = rules_dir.display().to_string();
    let platform = user_token(&store, "bench_platform", Role::Admin, Scope::Ingest).await?;
    let reader = user_token(&store, "bench_reader", Role::Analyst, Scope::Read).await?;
    let server = BenchServer::start(&config, store.clone(), data_dir).await?;
    let result = measure(&server.base, &store, &platform, &reader, total, load).await;
    server.stop().await?;
    result
}

async fn measure(
    base: &str,
    store: &SqlStore,
    platform: &str,
    reader: &str,
    total: usize,
    load: &BenchArgs,
) -> Result<()> {
    let rule_count = loaded_rule_count(base, reader).await?;

    let now = Utc::now();
    let accounts: Vec<Value> = (0..ACCOUNTS)
        .map(|n| {
            json!({"kind": "account", "id": format!("acct_{n}"),
                   "created_at": (now - chrono::Duration::days((n % 900) as i64)).to_rfc3339(),
                   "attributes": {"follower_count": n % 3000}})
        })
        .collect();
    send_batches(
        base,
        "/api/v1/subjects",
        platform,
        ndjson_batches(&accounts, load.batch),
        load.clients,
        |_| {},
    )
    .await?;
    wait_for_detection(store, StdDuration::from_secs(DETECTION_WAIT_SECONDS_MAX)).await?;
    let before = store.intake_counts().await?;

    let run_id = now.timestamp_millis();
    let events = corpus_events(total, run_id, now);
    let batches = ndjson_batches(&events, load.batch);
    let bar = progress::bar(total as u64, "events sent");
    let started = Instant::now();
    let sent_bar = bar.clone();
    send_batches(
        base,
        "/api/v1/events",
        platform,
        batches,
        load.clients,
        move |n| sent_bar.inc(n as u64),
    )
    .await?;
    let acknowledged = started.elapsed().as_secs_f64();
    bar.finish_and_clear();
    wait_for_detection(store, StdDuration::from_secs(DETECTION_WAIT_SECONDS_MAX)).await?;
    let elapsed = started.elapsed().as_secs_f64();
    let after = store.intake_counts().await?;
    ensure!(
        after.events - before.events == total as i64,
        "expected {total} new events, found {}",
        after.events - before.events
    );
    println!(
        "backend: {}, {} events over HTTP in NDJSON batches of {} from {} clients, through {} rules (the reference pack)",
        store.backend().as_str(),
        group_thousands(total as i64),
        load.batch,
        load.clients,
        rule_count
    );
    println!(
        "intake: every event acknowledged after {acknowledged:.1} s ({:.0} events/s)",
        total as f64 / acknowledged
    );
    println!(
        "detection: the last event evaluated and its hits applied after {elapsed:.1} s; {} signals and {} cases opened by rules",
        group_thousands(after.signals - before.signals),
        group_thousands(after.cases - before.cases)
    );
    println!("ingest: {:.0} events/s", total as f64 / elapsed);
    Ok(())
}

/// The number of rules in the pack as the server loaded it; fails unless
/// every rule loaded without errors.
async fn loaded_rule_count(base: &str, reader: &str) -> Result<usize> {
    let answer = client()?
        .get(format!("{base}/api/v1/rules"))
        .header(AUTHORIZATION, format!("Bearer {reader}"))
        .send()
        .await?;
    let status = answer.status();
    let rules: Value =
        serde_json::from_slice(&answer.bytes().await?).context("GET /api/v1/rules")?;
    ensure!(status.is_success(), "GET /api/v1/rules: {status}");
    let rule_count = rules["rules"].as_array().map_or(0, Vec::len);
    ensure!(
        rule_count > 0 && rules["errors"].as_array().is_some_and(Vec::is_empty),
        "the reference pack did not load: {}",
        rules["errors"]
    );
    Ok(rule_count)
}

/// The reference corpus as `total` events, with ids unique to this run.
fn corpus_events(total: usize, run_id: i64, now: DateTime<Utc>) -> Vec<Value> {
    warden_detection::bench::corpus(total)
        .iter()
        .map(|facts| {
            let mut event = json!({
                "id": format!("{run_id}_{}", facts.event_id),
                "type": facts.event_type,
                "occurred_at": facts.occurred_at.unwrap_or(now).to_rfc3339(),
                "data": facts.data,
            });
            if let Some(actor) = &facts.actor_id {
                event["actor"] = json!({"kind": "account", "id": actor});
            }
            if let Some(ip) = &facts.ip {
                event["ip"] = json!(ip);
            }
            if let Some(device) = &facts.device_id {
                event["device_id"] = json!(device);
            }
            event
        })
        .collect()
}

/// Waits until the detection worker has evaluated every stored event and
/// applied its hits.
async fn wait_for_detection(store: &SqlStore, limit: StdDuration) -> Result<()> {
    let started = Instant::now();
    loop {
        let cursor = store.detection_cursor().await?;
        if store
            .detection_events(cursor, None, 1, Utc::now())
            .await?
            .is_empty()
        {
            return Ok(());
        }
        if started.elapsed() > limit {
            bail!("the detection worker did not catch up within {limit:?} (cursor {cursor:?})");
        }
        tokio::time::sleep(POLL).await;
    }
}
