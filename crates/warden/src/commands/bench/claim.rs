//! `warden bench claim`: claim latency under many concurrent analysts, as
//! the write-path issue asks. A fresh scratch database is loaded with open
//! cases through HTTP intake (NDJSON batches: accounts, their posts, one
//! report per post, all spam), then — at once, with no `ANALYZE` — the
//! claimers start: each its own analyst with its own token and HTTP
//! connection, looping claim-next on the spam queue and a decision with
//! actions (content removal and a warning, as the enforcement matrix
//! recommends for a first offence) until the decisions or the time run out.
//! Every claim's and decision's latency is kept: request sent to answer
//! read.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration as StdDuration, Instant};

use anyhow::{bail, ensure, Context, Result};
use chrono::Utc;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use reqwest::StatusCode;
use serde_json::{json, Value};

use warden_domain::access::{Role, Scope};
use warden_domain::audit::checkpoint::group_thousands;
use warden_domain::case::Severity;
use warden_domain::intake::ReportSource;
use warden_domain::routing::RoutingInput;
use warden_store::prelude::*;
use warden_store::SqlStore;

use super::limits::{CASES_MAX, CLAIMERS_MAX, CLIENTS_MAX, DECISIONS_MAX, SECONDS_MAX};
use super::server::{client, ndjson_batches, send_batches, user_token, BenchServer, Latencies};
use crate::cli::BenchArgs;
use crate::config::Config;
use crate::progress;

/// Posts per account: accounts collect strikes as their posts are decided.
const POSTS_PER_ACCOUNT: usize = 10;

/// Checks the load's shape against the limits (`postgres`: whether the
/// benchmark runs on PostgreSQL).
pub fn check(load: &BenchArgs, config: &Config, postgres: bool) -> Result<()> {
    ensure!(
        (1..=CASES_MAX).contains(&load.cases),
        "--cases must be from 1 to {CASES_MAX}"
    );
    ensure!(
        (1..=CLAIMERS_MAX).contains(&load.claimers),
        "--claimers must be from 1 to {CLAIMERS_MAX}"
    );
    ensure!(
        (1..=DECISIONS_MAX).contains(&load.decisions),
        "--decisions must be from 1 to {DECISIONS_MAX}"
    );
    ensure!(
        (1..=SECONDS_MAX).contains(&load.seconds),
        "--seconds must be from 1 to {SECONDS_MAX}"
    );
    ensure!(
        (1..=CLIENTS_MAX).contains(&load.clients),
        "--clients must be from 1 to {CLIENTS_MAX}"
    );
    ensure!(
        !load.analyze || postgres,
        "--analyze is for PostgreSQL (--database-url)"
    );
    ensure!(
        (1..=config.server.batch_items_max).contains(&load.batch),
        "--batch must be from 1 to server.batch_items_max ({})",
        config.server.batch_items_max
    );
    Ok(())
}

/// Runs the benchmark against `store`, a fresh scratch database
/// (PostgreSQL at `postgres_url`, when given).
pub async fn run(
    config: &Config,
    store: Arc<SqlStore>,
    data_dir: &std::path::Path,
    postgres_url: Option<&str>,
    load: &BenchArgs,
) -> Result<()> {
    check(load, config, postgres_url.is_some())?;
    let policy = config.case_policy()?;
    let queue = policy
        .router
        .route(&RoutingInput {
            category: "spam",
            source: ReportSource::UserReport,
            severity: Severity::Low,
            language: Some("en"),
        })
        .name
        .clone();
    let platform = user_token(&store, "bench_platform", Role::Admin, Scope::Ingest).await?;
    let mut analysts = Vec::with_capacity(load.claimers);
    for n in 0..load.claimers {
        analysts.push(
            user_token(
                &store,
                &format!("bench_analyst_{n}"),
                Role::Analyst,
                Scope::Review,
            )
            .await?,
        );
    }
    let analyze = match postgres_url {
        Some(url) if load.analyze => Some(url.to_string()),
        _ => None,
    };
    let server = BenchServer::start(config, store.clone(), data_dir).await?;
    let result = measure(
        &server.base,
        &store,
        &queue,
        &platform,
        &analysts,
        analyze.as_deref(),
        load,
    )
    .await;
    server.stop().await?;
    result
}

async fn measure(
    base: &str,
    store: &SqlStore,
    queue: &str,
    platform: &str,
    analysts: &[String],
    analyze: Option<&str>,
    load: &BenchArgs,
) -> Result<()> {
    let loaded = load_cases(base, store, platform, load).await?;

    // No ANALYZE unless asked: the claimers start right after the load, as
    // after a platform's bulk backfill.
    if let Some(url) = analyze {
        analyze_now(url).await?;
    }
    let claims = Arc::new(Mutex::new(Vec::with_capacity(load.decisions)));
    let decides = Arc::new(Mutex::new(Vec::with_capacity(load.decisions)));
    let tickets = Arc::new(AtomicUsize::new(0));
    let decided = Arc::new(AtomicUsize::new(0));
    let emptied = Arc::new(AtomicUsize::new(0));
    let bar = progress::bar(load.decisions as u64, "claim+decide");
    let deadline = StdDuration::from_secs(load.seconds);
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(analysts.len());
    for token in analysts {
        let claimer = Claimer {
            client: client()?,
            claim_url: format!("{base}/api/v1/queues/{queue}/claim"),
            base: base.to_string(),
            token: token.clone(),
        };
        let (claims, decides) = (claims.clone(), decides.clone());
        let (tickets, decided, emptied) = (tickets.clone(), decided.clone(), emptied.clone());
        let (bar, total) = (bar.clone(), load.decisions);
        tasks.push(tokio::spawn(async move {
            let mut my_claims = Vec::new();
            let mut my_decides = Vec::new();
            while started.elapsed() < deadline && tickets.fetch_add(1, Ordering::Relaxed) < total {
                let sent = Instant::now();
                let Some((case_id, version)) = claimer.claim().await? else {
                    emptied.fetch_add(1, Ordering::Relaxed);
                    break;
                };
                my_claims.push(sent.elapsed().as_secs_f64() * 1000.0);
                let sent = Instant::now();
                claimer.decide(case_id, version).await?;
                my_decides.push(sent.elapsed().as_secs_f64() * 1000.0);
                decided.fetch_add(1, Ordering::Relaxed);
                bar.inc(1);
            }
            append(&claims, my_claims)?;
            append(&decides, my_decides)?;
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await.context("a claimer failed")??;
    }
    let elapsed = started.elapsed().as_secs_f64();
    bar.finish_and_clear();
    let decided = decided.load(Ordering::Relaxed);
    ensure!(decided > 0, "no case was decided");
    let claims = Latencies::new(take(&claims)?);
    let decides = Latencies::new(take(&decides)?);
    let stopped_by = stopped_by(emptied.load(Ordering::Relaxed), decided, load);
    print_load(store, &loaded, load, analyze);
    println!(
        "{} analysts over HTTP, each claiming and deciding in turn: {} cases decided in {elapsed:.1} s (stopped after {stopped_by})",
        analysts.len(),
        group_thousands(decided as i64),
    );
    println!("claim:  {}", claims.summary());
    println!("decide: {}", decides.summary());
    println!("decided: {:.0} cases/s", decided as f64 / elapsed);
    println!("claim: {:.1} ms", claims.at(0.99));
    Ok(())
}

/// Runs `ANALYZE` on the PostgreSQL database at `url`.
async fn analyze_now(url: &str) -> Result<()> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(url).await?;
    sqlx::query("ANALYZE").execute(&mut conn).await?;
    conn.close().await?;
    Ok(())
}

/// Adds one claimer's latencies to the shared ones.
fn append(shared: &Mutex<Vec<f64>>, mine: Vec<f64>) -> Result<()> {
    shared
        .lock()
        .map_err(|_| anyhow::anyhow!("a claimer panicked"))?
        .extend(mine);
    Ok(())
}

/// The latencies every claimer recorded.
fn take(latencies: &Mutex<Vec<f64>>) -> Result<Vec<f64>> {
    latencies
        .lock()
        .map(|mut l| std::mem::take(&mut *l))
        .map_err(|_| anyhow::anyhow!("a claimer panicked"))
}

/// Why the claimers stopped.
fn stopped_by(emptied: usize, decided: usize, load: &BenchArgs) -> String {
    if emptied > 0 {
        "the queue ran empty".to_string()
    } else if decided < load.decisions {
        format!("{} s passed", load.seconds)
    } else {
        format!("{} decisions", group_thousands(load.decisions as i64))
    }
}

/// The line describing the backend and the loaded cases.
fn print_load(store: &SqlStore, loaded: &Loaded, load: &BenchArgs, analyze: Option<&str>) {
    println!(
        "backend: {}, {} open cases loaded through HTTP intake in {:.1} s ({} items in NDJSON batches of {} from {} clients); {}",
        store.backend().as_str(),
        group_thousands(loaded.cases as i64),
        loaded.seconds,
        group_thousands(loaded.items as i64),
        load.batch,
        load.clients,
        if analyze.is_some() {
            "ANALYZE after the load"
        } else {
            "no ANALYZE"
        }
    );
}

/// What loading took.
struct Loaded {
    cases: usize,
    items: usize,
    seconds: f64,
}

/// Loads `load.cases` open spam cases through HTTP intake: accounts, one
/// post per case owned by them, one report per post.
async fn load_cases(base: &str, store: &SqlStore, token: &str, load: &BenchArgs) -> Result<Loaded> {
    let cases = load.cases;
    let accounts = cases.div_ceil(POSTS_PER_ACCOUNT);
    let now = Utc::now();
    let account_items: Vec<Value> = (0..accounts)
        .map(|n| {
            json!({"kind": "account", "id": format!("acct_{n}"),
                   "created_at": (now - chrono::Duration::days((n % 900) as i64)).to_rfc3339(),
                   "attributes": {"display_name": format!("User {n}"), "follower_count": n % 5000}})
        })
        .collect();
    let post_items: Vec<Value> = (0..cases)
        .map(|n| {
            json!({"kind": "content", "id": format!("post_{n}"),
                   "owner": {"kind": "account", "id": format!("acct_{}", n / POSTS_PER_ACCOUNT)},
                   "text": format!("Post {n}: GET 10K FOLLOWERS FAST at free-followers.example, limited offer"),
                   "attributes": {"visibility": "public"}})
        })
        .collect();
    let report_items: Vec<Value> = (0..cases)
        .map(|n| {
            json!({"id": format!("rep_{n}"), "subject": {"kind": "content", "id": format!("post_{n}")},
                   "reason": "spam", "source": "user_report", "language": "en",
                   "reporter": {"kind": "account", "id": format!("acct_{}", (n * 7 + 3) % accounts)},
                   "text": "spam link, please look"})
        })
        .collect();
    let items = accounts + cases * 2;
    let bar = progress::bar(items as u64, "loading");
    let started = Instant::now();
    for (path, batch) in [
        ("/api/v1/subjects", account_items),
        ("/api/v1/subjects", post_items),
        ("/api/v1/reports", report_items),
    ] {
        let bar = bar.clone();
        send_batches(
            base,
            path,
            token,
            ndjson_batches(&batch, load.batch),
            load.clients,
            move |n| bar.inc(n as u64),
        )
        .await?;
    }
    let seconds = started.elapsed().as_secs_f64();
    bar.finish_and_clear();
    let counts = store.intake_counts().await?;
    ensure!(
        counts.cases as usize >= cases,
        "expected {cases} cases after the load, found {}",
        counts.cases
    );
    Ok(Loaded {
        cases,
        items,
        seconds,
    })
}

/// One analyst's connection and token.
struct Claimer {
    client: reqwest::Client,
    base: String,
    claim_url: String,
    token: String,
}

impl Claimer {
    /// Claims the next case: its id and version, or `None` when the queue
    /// is empty.
    async fn claim(&self) -> Result<Option<(i64, i64)>> {
        let answer = self
            .client
            .post(&self.claim_url)
            .header(AUTHORIZATION, format!("Bearer {}", self.token))
            .send()
            .await
            .context("claim")?;
        let status = answer.status();
        let bytes = answer.bytes().await?;
        match status {
            StatusCode::NO_CONTENT => Ok(None),
            StatusCode::OK => {
                let case: Value = serde_json::from_slice(&bytes).context("the claimed case")?;
                match (case["id"].as_i64(), case["version"].as_i64()) {
                    (Some(id), Some(version)) => Ok(Some((id, version))),
                    _ => bail!("the claim answer has no id and version"),
                }
            }
            other => bail!(
                "claim: {other} {}",
                String::from_utf8_lossy(&bytes[..bytes.len().min(500)])
            ),
        }
    }

    /// Decides the case: a violation, its content removed and its owner
    /// warned.
    async fn decide(&self, case_id: i64, version: i64) -> Result<()> {
        let body = json!({
            "version": version,
            "violation": true,
            "category": "spam",
            "policy": "spam 2.1",
            "reason_code": "spam.links",
            "actions": [{"type": "remove_content"}, {"type": "warn"}],
            "rationale": {
                "what_happened": "posted a link to a follower-selling site",
                "evidence": "the post's text and link",
                "policy": "spam 2.1: deceptive or unwanted links",
                "action": "removed the post and warned the account",
                "next_steps": ""
            }
        });
        let answer = self
            .client
            .post(format!("{}/api/v1/cases/{case_id}/decision", self.base))
            .header(AUTHORIZATION, format!("Bearer {}", self.token))
            .header(CONTENT_TYPE, "application/json")
            .body(body.to_string())
            .send()
            .await
            .context("decide")?;
        let status = answer.status();
        let bytes = answer.bytes().await?;
        ensure!(
            status == StatusCode::CREATED,
            "decide case {case_id}: {status} {}",
            String::from_utf8_lossy(&bytes[..bytes.len().min(500)])
        );
        Ok(())
    }
}
