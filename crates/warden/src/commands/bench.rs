//! `warden bench NAME`: benchmarks of Warden's own paths, run against a
//! fresh store. The last line printed is `NAME: VALUE UNIT`.
//!
//! Store benchmarks get a scratch database: SQLite in a temporary
//! directory, or with `--database-url` a schema they create in that
//! PostgreSQL database and drop at the end. `--data-dir` names a directory
//! to use (and keep) instead.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use chrono::Utc;

use super::open_store;
use crate::cli::{BenchArgs, StoreArgs};
use crate::config::Config;
use crate::progress;

mod agreement;
mod case_page;
mod claim;
mod ingest;
mod limits;
mod server;

/// The benchmarks that need a store.
const STORE_BENCHMARKS: &[&str] = &["ingest", "claim", "case-page", "deliveries"];

/// Runs the benchmark `name`.
pub async fn run(
    config: &Config,
    name: &str,
    args: &StoreArgs,
    items: Option<usize>,
    load: &BenchArgs,
) -> Result<ExitCode> {
    if name == "rules" {
        return rules(config, items);
    }
    // Pure computation: no store.
    if name == "agreement" {
        agreement::run(items)?;
        return Ok(ExitCode::SUCCESS);
    }
    if !STORE_BENCHMARKS.contains(&name) {
        bail!(
            "no benchmark named {name:?}; known: rules, ingest, claim, case-page, deliveries, agreement"
        );
    }
    // Refuse a bad shape before loading anything.
    // Refuse a bad shape before making anything.
    if name == "claim" {
        claim::check(load, config, Scratch::postgres_url(config, args).is_some())?;
    }
    let scratch = Scratch::create(config, name, args).await?;
    let result = async {
        let store = open_store(config, &scratch.args).await?;
        let policy = config.case_policy()?;
        let outcome = match name {
            "ingest" => ingest::run(config, store.clone(), &scratch.dir, items, load).await,
            "claim" => {
                let url = scratch
                    .schema
                    .as_ref()
                    .and(scratch.args.database_url.as_deref());
                claim::run(config, store.clone(), &scratch.dir, url, load).await
            }
            "case-page" => case_page::run(config, store.clone(), &policy, items).await,
            // Deliveries per second through the outbox to a local receiver.
            _ => super::enforce::bench_deliveries(store.clone(), &policy, items).await,
        };
        store.close().await;
        outcome
    }
    .await;
    scratch.remove().await;
    result?;
    Ok(ExitCode::SUCCESS)
}

/// Where a store benchmark's data goes, removed when it ends.
struct Scratch {
    /// The store arguments that name it.
    args: StoreArgs,
    /// A directory for files (the SQLite database, rule files).
    dir: PathBuf,
    /// Remove `dir` at the end (not a `--data-dir` the user named).
    remove_dir: bool,
    /// The PostgreSQL database and the schema made in it.
    schema: Option<(String, String)>,
}

impl Scratch {
    /// The PostgreSQL database the arguments or the configuration name.
    fn postgres_url(config: &Config, args: &StoreArgs) -> Option<String> {
        args.database_url
            .clone()
            .filter(|u| !u.is_empty())
            .or_else(|| Some(config.storage.database_url.clone()).filter(|u| !u.is_empty()))
            .filter(|u| u.starts_with("postgres"))
    }

    async fn create(config: &Config, name: &str, args: &StoreArgs) -> Result<Scratch> {
        let run = format!("{}_{}", std::process::id(), Utc::now().timestamp_millis());
        let mut args = args.clone();
        let (dir, remove_dir) = match &args.data_dir {
            Some(dir) => (dir.clone(), false),
            None => {
                let dir = std::env::temp_dir().join(format!("warden-bench-{name}-{run}"));
                std::fs::create_dir_all(&dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
                (dir, true)
            }
        };
        args.data_dir = Some(dir.clone());
        let mut schema = None;
        if let Some(url) = Self::postgres_url(config, &args) {
            if url.contains("options=") {
                bail!("the benchmark sets the search path with options= in the URL; give --database-url without options");
            }
            let name = format!("warden_bench_{run}");
            use sqlx::Connection;
            let mut admin = sqlx::PgConnection::connect(&url)
                .await
                .context("cannot connect to the PostgreSQL database named by --database-url")?;
            sqlx::query(&format!("CREATE SCHEMA {name}"))
                .execute(&mut admin)
                .await
                .with_context(|| format!("cannot create the scratch schema {name}"))?;
            let _ = admin.close().await;
            let separator = if url.contains('?') { '&' } else { '?' };
            args.database_url = Some(format!("{url}{separator}options=-c%20search_path%3D{name}"));
            schema = Some((url, name));
        }
        Ok(Scratch {
            args,
            dir,
            remove_dir,
            schema,
        })
    }

    /// Drops the schema and removes the directory; failures are printed,
    /// not fatal (the numbers are already out).
    async fn remove(self) {
        if let Some((url, name)) = &self.schema {
            use sqlx::Connection;
            let dropped = async {
                let mut admin = sqlx::PgConnection::connect(url).await?;
                sqlx::query(&format!("DROP SCHEMA {name} CASCADE"))
                    .execute(&mut admin)
                    .await?;
                admin.close().await
            }
            .await;
            if let Err(error) = dropped {
                eprintln!("could not drop the scratch schema {name}: {error}");
            }
        }
        if self.remove_dir {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// `warden bench rules`: rule evaluations per second on one core, with the
/// reference pack over the fixed corpus.
fn rules(config: &Config, items: Option<usize>) -> Result<ExitCode> {
    use std::sync::{Arc, Mutex};
    use warden_detection::{bench, parse_files, Detector, EventVariables, VelocityCounters};
    use warden_rules::EvalContext;

    let policy = config.case_policy()?;
    let parsed = parse_files(&bench::reference_pack(), &policy.taxonomy);
    if !parsed.errors.is_empty() {
        bail!("the reference pack does not parse: {}", parsed.errors[0]);
    }
    let built = Detector::build(
        parsed,
        &mut |_| 1,
        Arc::new(Mutex::new(VelocityCounters::default())),
        None,
    );
    if let Some(error) = built.errors.first() {
        bail!("the reference pack does not compile: {error}");
    }
    let detector = built.detector;
    let events = bench::corpus(items.unwrap_or(20_000));
    let now = Utc::now();
    let mut ctx = EvalContext::new();
    let rules = detector.rules().len();
    // One warm-up pass fills caches and velocity counters.
    let mut hits = 0usize;
    for facts in &events {
        hits += detector
            .evaluate_variables(&EventVariables::new(facts.clone(), now), &mut ctx, None)
            .hits
            .len();
    }
    let bar = progress::bar(3, "passes");
    let started = Instant::now();
    let mut evaluations = 0usize;
    for _ in 0..3 {
        for facts in &events {
            let evaluation = detector.evaluate_variables(
                &EventVariables::new(facts.clone(), now),
                &mut ctx,
                None,
            );
            evaluations += evaluation.evaluated;
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "{rules} rules over {} events, 3 timed passes on one thread; {} hits per pass",
        events.len(),
        hits
    );
    println!(
        "{:.2} µs per event with the whole pack",
        elapsed * 1e6 / (3 * events.len()) as f64
    );
    println!("rules: {:.0} evaluations/s", evaluations as f64 / elapsed);
    Ok(ExitCode::SUCCESS)
}
