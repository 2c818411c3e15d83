//! Submitting statements of reasons to the EU DSA Transparency Database.
//!
//! Statements go in batches of at most 100 to `POST /api/v1/statements`
//! with the platform's token. Before a batch leaves, its statements are
//! marked `attempted`; a statement left `attempted` (a timeout, a crash) is
//! first looked up with `existing-puid` and sent again only when the
//! database does not have it. So a puid is never stored twice, and never
//! sent again once accepted.

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::Utc;
use serde_json::{json, Value};

use warden_domain::dsa::BATCH_SIZE_MAX;
use warden_store::{Actor, DsaStatementRecord, DsaSubmission, StatementStore};

use tokio::sync::watch;

use crate::limits::SUBMISSION_ROUNDS_MAX;
use crate::periodic::Periodic;
use crate::supervisor::Supervisor;

use crate::Secret;

/// A client of the Transparency Database's API.
#[derive(Debug, Clone)]
pub struct TransparencyClient {
    base: String,
    token: Secret,
    http: reqwest::Client,
}

/// What one submission run did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubmissionSummary {
    /// Statements the database stored (or already had).
    pub accepted: usize,
    /// Statements it refused, with why.
    pub rejected: usize,
    /// Batches sent.
    pub batches: usize,
    /// Why the run stopped early, if it did; the rest is sent next time.
    pub stopped: Option<String>,
}

impl TransparencyClient {
    /// A client for the API at `base` (e.g. `https://transparency.dsa.ec.europa.eu`).
    pub fn new(base: &str, token: Secret, timeout: std::time::Duration) -> Result<Self, String> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .user_agent(concat!("warden/", env!("CARGO_PKG_VERSION")))
            // existing-puid answers 302 for "found": do not follow it.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Self {
            base: base.trim_end_matches('/').to_string(),
            token,
            http,
        })
    }

    /// Whether the database already has `puid` for this platform.
    pub async fn existing_puid(&self, puid: &str) -> Result<bool, String> {
        let answer = self
            .http
            .get(format!(
                "{}/api/v1/statement/existing-puid/{puid}",
                self.base
            ))
            .bearer_auth(self.token.expose())
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|e| format!("existing-puid: {}", e.without_url()))?;
        match answer.status().as_u16() {
            302 | 200 => Ok(true),
            404 => Ok(false),
            status => Err(format!("existing-puid answered HTTP {status}")),
        }
    }

    /// Posts one batch; returns the status and the decoded body.
    async fn post_batch(&self, statements: &[Value]) -> Result<(u16, Value), String> {
        let answer = self
            .http
            .post(format!("{}/api/v1/statements", self.base))
            .bearer_auth(self.token.expose())
            .header("accept", "application/json")
            .header("content-type", "application/json")
            .body(json!({"statements": statements}).to_string())
            .send()
            .await
            .map_err(|e| format!("the batch could not be sent: {}", e.without_url()))?;
        let status = answer.status().as_u16();
        let text = answer.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Ok((status, body))
    }
}

/// The periodic submission inside `serve`: every period, one supervised
/// pass of [`submit_pending`] as Warden itself. It takes only the
/// statement port. A pass the database stops early (it is away, or refuses
/// the token) or a store error is a failed batch: counted, and retried
/// after the supervisor's pause.
pub struct StatementSubmitter {
    store: Arc<dyn StatementStore>,
    client: TransparencyClient,
    batch_size: usize,
}

impl StatementSubmitter {
    /// A submitter sending batches of `batch_size` (within the bounds).
    pub fn new(
        store: Arc<dyn StatementStore>,
        client: TransparencyClient,
        batch_size: usize,
    ) -> Self {
        Self {
            store,
            client,
            batch_size,
        }
    }

    /// Submits every `periodic` pass until `shutdown` says true.
    pub async fn run(
        self,
        periodic: Periodic,
        supervisor: Supervisor,
        shutdown: watch::Receiver<bool>,
    ) {
        let submitter = Arc::new(self);
        periodic
            .run(supervisor, shutdown, move || {
                let submitter = submitter.clone();
                async move { submitter.pass().await }
            })
            .await;
    }

    /// One pass: everything pending, in batches.
    pub async fn pass(&self) -> Result<(), String> {
        let summary = submit_pending(
            self.store.as_ref(),
            &self.client,
            &Actor::system(),
            self.batch_size,
        )
        .await?;
        if summary.accepted + summary.rejected > 0 {
            tracing::info!(
                accepted = summary.accepted,
                rejected = summary.rejected,
                batches = summary.batches,
                "DSA statements submitted"
            );
        }
        match summary.stopped {
            Some(why) => Err(format!("the DSA submission stopped early: {why}")),
            None => Ok(()),
        }
    }
}

/// What one statement became, by its puid.
type Outcome = (String, DsaSubmission);

/// Sends every statement not yet accepted or refused, in batches of at
/// most [`BATCH_SIZE_MAX`], and records the outcomes.
pub async fn submit_pending(
    store: &(impl StatementStore + ?Sized),
    client: &TransparencyClient,
    actor: &Actor,
    batch_size: usize,
) -> Result<SubmissionSummary, String> {
    let batch_size = batch_size.clamp(1, BATCH_SIZE_MAX);
    let mut summary = SubmissionSummary::default();
    // Each round either settles a statement or stops, so this bounds the loop.
    for _round in 0..SUBMISSION_ROUNDS_MAX {
        let pending = store
            .dsa_unsubmitted(batch_size as u32)
            .await
            .map_err(|e| e.to_string())?;
        if pending.is_empty() {
            return Ok(summary);
        }
        let (found, to_send) = match look_up_attempted(client, pending, &mut summary).await {
            Ok(split) => split,
            Err(stopped) => {
                summary.stopped = Some(stopped);
                return Ok(summary);
            }
        };
        record(store, actor, found).await?;
        if to_send.is_empty() {
            continue;
        }
        // Marked before sending: if the answer is lost, the next run asks.
        let attempted = to_send
            .iter()
            .map(|s| (s.puid.clone(), DsaSubmission::Attempted))
            .collect();
        record(store, actor, attempted).await?;
        let outcomes = send_batch(client, &to_send, &mut summary).await;
        let stop = summary.stopped.is_some();
        record(store, actor, outcomes).await?;
        if stop {
            return Ok(summary);
        }
    }
    Ok(summary)
}

async fn record(
    store: &(impl StatementStore + ?Sized),
    actor: &Actor,
    outcomes: Vec<Outcome>,
) -> Result<(), String> {
    store
        .record_dsa_submissions(actor, outcomes, Utc::now())
        .await
        .map_err(|e| e.to_string())
}

/// Asks the database about statements left `attempted`: those it has are
/// accepted; the rest (and every statement not attempted) are to send. An
/// error stops the run.
async fn look_up_attempted(
    client: &TransparencyClient,
    pending: Vec<DsaStatementRecord>,
    summary: &mut SubmissionSummary,
) -> Result<(Vec<Outcome>, Vec<DsaStatementRecord>), String> {
    let mut found = Vec::new();
    let mut to_send = Vec::new();
    for statement in pending {
        if statement.submission_status == "attempted"
            && client.existing_puid(&statement.puid).await?
        {
            found.push((statement.puid.clone(), accepted_without_ids()));
            summary.accepted += 1;
            continue;
        }
        to_send.push(statement);
    }
    Ok((found, to_send))
}

fn accepted_without_ids() -> DsaSubmission {
    DsaSubmission::Accepted {
        uuid: None,
        permalink: None,
    }
}

/// Posts one batch and reads the verdicts; sets `summary.stopped` when the
/// run must stop (what was settled is still returned, to be recorded).
async fn send_batch(
    client: &TransparencyClient,
    to_send: &[DsaStatementRecord],
    summary: &mut SubmissionSummary,
) -> Vec<Outcome> {
    let bodies: Vec<Value> = to_send.iter().map(|s| s.statement.clone()).collect();
    summary.batches += 1;
    let (status, body) = match client.post_batch(&bodies).await {
        Ok(answer) => answer,
        Err(error) => {
            summary.stopped = Some(error);
            return Vec::new();
        }
    };
    match status {
        201 => accepted(to_send, &body, summary),
        422 => refused(to_send, &body, summary),
        status => {
            summary.stopped = Some(format!(
                "the database answered HTTP {status}: {}",
                body.to_string().chars().take(300).collect::<String>()
            ));
            Vec::new()
        }
    }
}

/// A batch stored: every statement accepted, with the ids the database gave.
fn accepted(
    to_send: &[DsaStatementRecord],
    body: &Value,
    summary: &mut SubmissionSummary,
) -> Vec<Outcome> {
    let stored = body
        .get("statements")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let text = |answer: Option<&Value>, key: &str| {
        answer
            .and_then(|a| a.get(key))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    summary.accepted += to_send.len();
    to_send
        .iter()
        .enumerate()
        .map(|(index, statement)| {
            let answer = stored.get(index);
            let uuid = text(answer, "uuid");
            let permalink = text(answer, "permalink");
            (
                statement.puid.clone(),
                DsaSubmission::Accepted { uuid, permalink },
            )
        })
        .collect()
}

/// A batch refused: puids the database already has are accepted, the
/// statements it names are refused, the rest stay `attempted` and go again
/// next round. A refusal that names nothing stops the run.
fn refused(
    to_send: &[DsaStatementRecord],
    body: &Value,
    summary: &mut SubmissionSummary,
) -> Vec<Outcome> {
    let errors = body.get("errors").cloned().unwrap_or(Value::Null);
    let existing: Vec<&str> = errors
        .get("existing_puids")
        .and_then(Value::as_array)
        .map(|list| list.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let by_index: BTreeMap<usize, &Value> = errors
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(key, value)| {
            let index = key.strip_prefix("statement_")?.parse::<usize>().ok()?;
            Some((index, value))
        })
        .collect();
    if existing.is_empty() && by_index.is_empty() {
        summary.stopped = Some(format!("the database refused the batch: {body}"));
        return Vec::new();
    }
    let mut outcomes = Vec::new();
    for statement in to_send
        .iter()
        .filter(|s| existing.contains(&s.puid.as_str()))
    {
        outcomes.push((statement.puid.clone(), accepted_without_ids()));
        summary.accepted += 1;
    }
    for (index, error) in by_index {
        if let Some(statement) = to_send.get(index) {
            let error = error.to_string();
            outcomes.push((statement.puid.clone(), DsaSubmission::Rejected { error }));
            summary.rejected += 1;
        }
    }
    outcomes
}
