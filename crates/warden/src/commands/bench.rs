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
pub mod bulk;
mod case_page;
mod claim;
pub mod classifier;
mod deliveries;
mod ingest;
mod kpis;
mod kpis_store;
mod limits;
mod server;

/// The benchmarks that need a store.
const STORE_BENCHMARKS: &[&str] = &["ingest", "claim", "case-page", "deliveries", "bulk", "kpis"];

/// Runs the benchmark `name`.
pub async fn run(
    config: &Config,
    name: &str,
    args: &StoreArgs,
    items: Option<usize>,
    features: bool,
    load: &BenchArgs,
) -> Result<ExitCode> {
    if name == "rules" {
        return rules(config, items, features);
    }
    if features {
        bail!("--features goes with `bench rules` only");
    }
    // Pure computation: no store.
    if name == "agreement" {
        agreement::run(items)?;
        return Ok(ExitCode::SUCCESS);
    }
    if name == "kpis" {
        kpis::run_pure(items)?;
    }
    if !STORE_BENCHMARKS.contains(&name) {
        bail!(
            "no benchmark named {name:?}; known: rules, ingest, claim, case-page, deliveries, bulk, agreement, classifier, kpis"
        );
    }
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
            "bulk" => bulk::run(store.clone(), &policy, items).await,
            "kpis" => {
                let url = match &scratch.args.database_url {
                    Some(url) => url.expose().to_string(),
                    None => format!("sqlite://{}", scratch.dir.join("warden.db").display()),
                };
                let median = kpis_store::run(&store, &url, items).await?;
                println!("kpis: {median} ms");
                Ok(())
            }
            // Deliveries per second through the outbox to a local receiver.
            _ => deliveries::run(store.clone(), &policy, items).await,
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
            .map(|u| u.expose().to_string())
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
            args.database_url =
                Some(format!("{url}{separator}options=-c%20search_path%3D{name}").into());
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
/// reference pack over the fixed corpus; with `--features`, also the same pack
/// rewritten with features, timed in alternating passes, and the ratio of
/// events per second.
fn rules(config: &Config, items: Option<usize>, features: bool) -> Result<ExitCode> {
    use warden_detection::bench;

    let events = bench::corpus(items.unwrap_or(20_000));
    let mut packs = vec![PackRun::new(
        config,
        "reference pack",
        &bench::reference_pack(),
    )?];
    if features {
        packs.push(PackRun::new(
            config,
            "reference pack with features",
            &bench::reference_pack_with_features(),
        )?);
    }
    time_packs(&mut packs, &events);
    let passes = 3 * events.len();
    for pack in &packs {
        println!(
            "{}: {} rules{} over {} events, 3 timed passes on one thread; {} hits per pass",
            pack.name,
            pack.rules,
            if pack.features > 0 {
                format!(" and {} features", pack.features)
            } else {
                String::new()
            },
            events.len(),
            pack.hits
        );
        println!(
            "{:.2} µs per event with the whole pack ({:.0} events/s)",
            pack.elapsed * 1e6 / passes as f64,
            passes as f64 / pack.elapsed
        );
    }
    let plain = &packs[0];
    println!(
        "rules: {:.0} evaluations/s",
        plain.evaluations as f64 / plain.elapsed
    );
    if let Some(featured) = packs.get(1) {
        compare_features(plain, featured, passes)?;
    }
    Ok(ExitCode::SUCCESS)
}

/// One warm-up pass of each pack (filling caches and velocity counters),
/// then three timed passes each.
fn time_packs(packs: &mut [PackRun], events: &[std::sync::Arc<warden_detection::EventFacts>]) {
    for pack in packs.iter_mut() {
        pack.hits = pack.pass(events).1;
    }
    let bar = progress::bar(3 * packs.len() as u64, "passes");
    for _ in 0..3 {
        for pack in packs.iter_mut() {
            let started = Instant::now();
            let (evaluated, _) = pack.pass(events);
            pack.elapsed += started.elapsed().as_secs_f64();
            pack.evaluations += evaluated;
            bar.inc(1);
        }
    }
    bar.finish_and_clear();
}

/// The pack with features against the plain one: the same hits, and the
/// ratio of their speeds.
fn compare_features(plain: &PackRun, featured: &PackRun, passes: usize) -> Result<()> {
    if featured.hits != plain.hits {
        bail!(
            "the pack with features hit {} times per pass, the pack without {}",
            featured.hits,
            plain.hits
        );
    }
    let rate = |p: &PackRun| passes as f64 / p.elapsed;
    println!(
        "with features {:.0} events/s, without {:.0} events/s",
        rate(featured),
        rate(plain)
    );
    println!(
        "rules-features: {:.2} × the events/s without features",
        rate(featured) / rate(plain)
    );
    Ok(())
}

/// One pack being timed by `bench rules`.
struct PackRun {
    name: &'static str,
    detector: warden_detection::Detector,
    ctx: warden_rules::EvalContext,
    rules: usize,
    features: usize,
    hits: usize,
    elapsed: f64,
    evaluations: usize,
}

impl PackRun {
    fn new(config: &Config, name: &'static str, files: &[(String, String)]) -> Result<Self> {
        use std::sync::{Arc, Mutex};
        use warden_detection::{parse_files, Detector, VelocityCounters};

        let policy = config.case_policy()?;
        let parsed = parse_files(files, &policy.taxonomy);
        if !parsed.errors.is_empty() {
            bail!("the {name} does not parse: {}", parsed.errors[0]);
        }
        let built = Detector::build(
            parsed,
            &mut |_| 1,
            Arc::new(Mutex::new(VelocityCounters::default())),
            None,
        );
        if let Some(error) = built.errors.first() {
            bail!("the {name} does not compile: {error}");
        }
        // Under the configured time limits, as the detection worker runs it.
        let detector = built
            .detector
            .with_limits(config.detection.run_limits())
            .with_stopwatch(Arc::new(
                warden_workers::detection::InstantStopwatch::default(),
            ));
        Ok(Self {
            name,
            rules: detector.rules().len(),
            features: detector.features().features().len(),
            detector,
            ctx: warden_rules::EvalContext::new(),
            hits: 0,
            elapsed: 0.0,
            evaluations: 0,
        })
    }

    /// Evaluates every event once; returns the rule evaluations and the hits.
    fn pass(&mut self, events: &[std::sync::Arc<warden_detection::EventFacts>]) -> (usize, usize) {
        let now = Utc::now();
        let (mut evaluated, mut hits) = (0, 0);
        for facts in events {
            let evaluation = self.detector.evaluate_variables(
                &warden_detection::EventVariables::new(facts.clone(), now),
                &mut self.ctx,
                None,
            );
            evaluated += evaluation.evaluated;
            hits += evaluation.hits.len();
        }
        (evaluated, hits)
    }
}
