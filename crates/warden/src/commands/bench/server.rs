//! The real server for the HTTP benchmarks — `serve`'s own code, with its
//! background workers, listening on 127.0.0.1 on a free port — and what
//! its clients need: tokens, NDJSON batches sent by a few clients at once,
//! and latency percentiles.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use anyhow::{bail, ensure, Context, Result};
use chrono::Utc;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use serde_json::Value;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use warden_domain::access::{Role, Scope};
use warden_server::auth::{new_token, secret_hash};
use warden_store::prelude::*;
use warden_store::{Actor, SqlStore};

use crate::config::Config;

/// How long the server may take to answer its first request.
const START_WAIT: StdDuration = StdDuration::from_secs(120);

/// A running server and the switch that stops it.
pub struct BenchServer {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<()>>,
}

impl BenchServer {
    /// Starts `serve` on 127.0.0.1, port 0, and waits until it answers.
    pub async fn start(config: &Config, store: Arc<SqlStore>, data_dir: &Path) -> Result<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .context("cannot listen on 127.0.0.1")?;
        let base = format!("http://{}", listener.local_addr()?);
        let (stop, stopped) = oneshot::channel::<()>();
        let config = config.clone();
        let data_dir = data_dir.to_path_buf();
        let settings = config.server_settings(false);
        let task = tokio::spawn(async move {
            crate::commands::serve_until(&config, store, settings, listener, &data_dir, async {
                let _ = stopped.await;
            })
            .await
        });
        let client = reqwest::Client::new();
        let started = Instant::now();
        loop {
            if task.is_finished() {
                return match task.await {
                    Ok(Err(error)) => Err(error.context("the server did not start")),
                    _ => bail!("the server stopped before answering"),
                };
            }
            match client.get(format!("{base}/readyz")).send().await {
                Ok(answer) if answer.status().is_success() => break,
                _ if started.elapsed() > START_WAIT => {
                    bail!("the server did not answer /readyz within {START_WAIT:?}")
                }
                _ => tokio::time::sleep(StdDuration::from_millis(50)).await,
            }
        }
        Ok(Self { base, stop, task })
    }

    /// Stops the server and waits for it (it closes the store).
    pub async fn stop(self) -> Result<()> {
        let _ = self.stop.send(());
        self.task.await.context("the server task failed")?
    }
}

/// Makes user `name` with `role` and a token of `scope` for them, written
/// through the store as `warden user add` and `warden token create` do.
pub async fn user_token(store: &SqlStore, name: &str, role: Role, scope: Scope) -> Result<String> {
    let system = Actor::system();
    let now = Utc::now();
    // Tokens sign in; the password is never used.
    let user = store.create_user(&system, name, role, "x", now).await?;
    let token = new_token();
    store
        .create_token(
            &system,
            user.id,
            &format!("{name}-{}", scope.as_str()),
            scope,
            &secret_hash(&token),
            now,
        )
        .await?;
    Ok(token)
}

/// Sends `batches` (NDJSON bodies) to `base` + `path` from `clients`
/// clients at once, each taking the next batch when its last one was
/// answered; every item must be stored (created, or a duplicate).
/// `on_batch` hears each batch's size when it was answered.
pub async fn send_batches(
    base: &str,
    path: &str,
    token: &str,
    batches: Vec<(usize, String)>,
    clients: usize,
    on_batch: impl Fn(usize) + Send + Sync + 'static,
) -> Result<()> {
    let batches = Arc::new(batches);
    let next = Arc::new(AtomicUsize::new(0));
    let on_batch = Arc::new(on_batch);
    let url = format!("{base}{path}");
    let mut tasks = Vec::with_capacity(clients);
    for _ in 0..clients {
        let (batches, next, on_batch) = (batches.clone(), next.clone(), on_batch.clone());
        let (url, token) = (url.clone(), token.to_string());
        tasks.push(tokio::spawn(async move {
            let client = client()?;
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some((items, body)) = batches.get(index) else {
                    return anyhow::Ok(());
                };
                post_batch(&client, &url, &token, body.clone(), *items).await?;
                on_batch(*items);
            }
        }));
    }
    for task in tasks {
        task.await.context("an intake client failed")??;
    }
    Ok(())
}

/// An HTTP client: keep-alive, a generous timeout.
pub fn client() -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(StdDuration::from_secs(300))
        .build()
        .context("cannot build an HTTP client")
}

async fn post_batch(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    body: String,
    items: usize,
) -> Result<()> {
    let answer = client
        .post(url)
        .header(AUTHORIZATION, format!("Bearer {token}"))
        .header(CONTENT_TYPE, "application/x-ndjson")
        .body(body)
        .send()
        .await
        .with_context(|| format!("POST {url}"))?;
    let status = answer.status();
    let bytes = answer.bytes().await?;
    ensure!(
        status.is_success(),
        "POST {url}: {status} {}",
        String::from_utf8_lossy(&bytes[..bytes.len().min(500)])
    );
    let answer: Value = serde_json::from_slice(&bytes).context("the batch answer")?;
    let stored = ["created", "updated", "duplicates"]
        .iter()
        .map(|k| answer[k].as_u64().unwrap_or(0))
        .sum::<u64>();
    ensure!(
        answer["errors"].as_u64() == Some(0) && stored == items as u64,
        "POST {url}: not every item was stored: {}",
        String::from_utf8_lossy(&bytes[..bytes.len().min(500)])
    );
    Ok(())
}

/// Items as NDJSON batches of at most `batch` lines: (items, body).
pub fn ndjson_batches(items: &[Value], batch: usize) -> Vec<(usize, String)> {
    items
        .chunks(batch.max(1))
        .map(|chunk| {
            let mut body = String::with_capacity(chunk.len() * 200);
            for item in chunk {
                body.push_str(&item.to_string());
                body.push('\n');
            }
            (chunk.len(), body)
        })
        .collect()
}

/// Latencies in milliseconds, sorted, and their percentiles (nearest rank).
pub struct Latencies(Vec<f64>);

impl Latencies {
    /// Sorts `samples`.
    pub fn new(mut samples: Vec<f64>) -> Self {
        samples.sort_by(f64::total_cmp);
        Self(samples)
    }

    /// The `q` quantile (0 < q ≤ 1), or 0 with no samples.
    pub fn at(&self, q: f64) -> f64 {
        if self.0.is_empty() {
            return 0.0;
        }
        let rank = (self.0.len() as f64 * q).ceil() as usize;
        self.0[rank.clamp(1, self.0.len()) - 1]
    }

    /// `p50 …, p95 …, p99 …, max …` in milliseconds.
    pub fn summary(&self) -> String {
        format!(
            "p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            self.at(0.50),
            self.at(0.95),
            self.at(0.99),
            self.0.last().copied().unwrap_or_default()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let latencies = Latencies::new((1..=100).rev().map(f64::from).collect());
        assert_eq!(latencies.at(0.50), 50.0);
        assert_eq!(latencies.at(0.99), 99.0);
        assert_eq!(latencies.at(1.0), 100.0);
        assert_eq!(Latencies::new(vec![]).at(0.99), 0.0);
        assert!(latencies.summary().ends_with("max 100.0 ms"));
    }

    #[test]
    fn batches_are_ndjson_lines() {
        let items: Vec<Value> = (0..5).map(|n| serde_json::json!({"n": n})).collect();
        let batches = ndjson_batches(&items, 2);
        assert_eq!(
            batches.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
            [2, 2, 1]
        );
        assert_eq!(batches[2].1, "{\"n\":4}\n");
    }
}
