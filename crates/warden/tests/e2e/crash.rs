//! Crash safety: SIGKILL in the middle of batch ingestion, and in the
//! middle of a burst of claims and decisions; restart, and every
//! acknowledged item or decision is there exactly once, and the audit
//! chain verifies. Each story runs on SQLite and on PostgreSQL (a schema of
//! its own on the server `WARDEN_TEST_DATABASE_URL` names).

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::process::Output;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use sqlx::Connection;

use crate::support::{client, run, temp_dir, text, Warden};

/// Where the killed server keeps its data: a SQLite file in a data
/// directory, or a fresh schema on PostgreSQL.
struct Target {
    _dir: tempfile::TempDir,
    data: PathBuf,
    /// The admin URL, the schema, and the URL that uses it.
    postgres: Option<(String, String, String)>,
}

impl Target {
    fn sqlite() -> Target {
        let (dir, data) = temp_dir();
        Target {
            _dir: dir,
            data,
            postgres: None,
        }
    }

    /// A fresh schema, or `None` (said once) without a server to use.
    async fn postgres() -> Option<Target> {
        let Ok(admin) = std::env::var("WARDEN_TEST_DATABASE_URL") else {
            skipped("the PostgreSQL crash tests: WARDEN_TEST_DATABASE_URL is not set");
            return None;
        };
        let schema = format!("warden_e2e_crash_{:016x}", rand::random::<u64>());
        let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap();
        sqlx::query(&format!("CREATE SCHEMA {schema}"))
            .execute(&mut conn)
            .await
            .unwrap();
        let separator = if admin.contains('?') { '&' } else { '?' };
        let url = format!("{admin}{separator}options=-c%20search_path%3D{schema}");
        let (dir, data) = temp_dir();
        Some(Target {
            _dir: dir,
            data,
            postgres: Some((admin, schema, url)),
        })
    }

    /// The arguments that name the store.
    fn store_args(&self) -> Vec<String> {
        match &self.postgres {
            Some((_, _, url)) => vec!["--database-url".into(), url.clone()],
            None => vec!["--data-dir".into(), self.data.display().to_string()],
        }
    }

    /// Runs a command on the store with `stdin`.
    fn cli(&self, args: &[&str], stdin: &str) -> Output {
        let mut all: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        all.extend(self.store_args());
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        run(&all, stdin, &self.data)
    }

    /// `warden serve` on the store.
    fn serve(&self) -> Warden {
        let mut args = vec!["serve".to_string()];
        if let Some((_, _, url)) = &self.postgres {
            args.extend(["--database-url".to_string(), url.clone()]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        Warden::start(&args, &self.data)
    }

    /// A connection of the test's own to the store's database.
    async fn database(&self) -> sqlx::AnyConnection {
        sqlx::any::install_default_drivers();
        let url = match &self.postgres {
            Some((_, _, url)) => url.clone(),
            None => format!("sqlite://{}", self.data.join("warden.db").display()),
        };
        sqlx::AnyConnection::connect(&url)
            .await
            .expect("connect to the database")
    }

    /// A user with a token of `scope`; answers the token.
    fn user_token(&self, name: &str, role: &str, scope: &str) -> String {
        let added = self.cli(
            &["user", "add", name, "--role", role, "--password-stdin"],
            "a long password\n",
        );
        assert!(added.status.success(), "{}", text(&added.stderr));
        let token = self.cli(&["token", "create", "--user", name, "--scope", scope], "");
        assert!(token.status.success(), "{}", text(&token.stderr));
        text(&token.stdout).trim().to_string()
    }

    /// `warden audit verify` passes.
    fn audit_verifies(&self) {
        let verified = self.cli(&["audit", "verify"], "");
        assert!(verified.status.success(), "{}", text(&verified.stderr));
    }

    async fn finish(self) {
        if let Some((admin, schema, _)) = &self.postgres {
            let mut conn = sqlx::PgConnection::connect(admin).await.unwrap();
            let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                .execute(&mut conn)
                .await;
        }
    }
}

fn skipped(what: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "e2e: skipped {what}");
}

/// Whether the crash tests are switched on (`WARDEN_CRASH_TESTS=1`).
fn crash_tests_on() -> bool {
    let on = std::env::var("WARDEN_CRASH_TESTS").as_deref() == Ok("1");
    if !on {
        skipped("the crash tests: set WARDEN_CRASH_TESTS=1 to run them");
    }
    on
}

const SENDERS: usize = 4;
const BATCH: usize = 200;

fn batch(sender: usize, number: usize) -> (Vec<String>, String) {
    let ids: Vec<String> = (0..BATCH)
        .map(|i| format!("crash_{sender}_{number}_{i}"))
        .collect();
    let body = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let reason = ["spam", "scam", "harassment"][i % 3];
            json!({"id": id, "subject": {"kind": "content", "id": format!("post_{}", (sender * 31 + number * 7 + i) % 97)},
                   "reason": reason, "source": "user_report", "text": "crash test"})
            .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n");
    (ids, body)
}

/// SIGKILL while four platform clients send report batches.
async fn ingest_story(target: &Target) {
    let token = target.user_token("ops", "admin", "ingest");

    let warden = target.serve();
    let acknowledged = Arc::new(Mutex::new(HashSet::new()));
    let attempted = Arc::new(Mutex::new(Vec::new()));
    let senders: Vec<_> = (0..SENDERS)
        .map(|sender| {
            let (url, token) = (warden.url.clone(), token.clone());
            let (acknowledged, attempted) = (acknowledged.clone(), attempted.clone());
            tokio::spawn(async move {
                let http = client();
                for number in 0.. {
                    let (ids, body) = batch(sender, number);
                    attempted.lock().unwrap().push((sender, number));
                    let answer = http
                        .post(format!("{url}/api/v1/reports"))
                        .bearer_auth(&token)
                        .header("content-type", "application/x-ndjson")
                        .body(body)
                        .send()
                        .await;
                    let Ok(answer) = answer else { return };
                    if answer.status() != 200 {
                        let status = answer.status();
                        let body = answer.text().await.unwrap_or_default();
                        println!("sender {sender} stopped: {status} {body}");
                        return;
                    }
                    let Ok(result) = answer.json::<Value>().await else {
                        return;
                    };
                    assert_eq!(result["errors"], 0, "{result}");
                    acknowledged.lock().unwrap().extend(ids);
                }
            })
        })
        .collect();
    // Let batches flow, then cut the power mid-stream.
    wait_for(|| acknowledged.lock().unwrap().len() >= 2 * BATCH).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    warden.kill();
    for sender in senders {
        sender.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() >= BATCH,
        "some batches were acknowledged before the kill"
    );
    println!("acknowledged before the kill: {}", acknowledged.len());

    let warden = target.serve();
    let mut db = target.database().await;
    let stored: Vec<String> = sqlx::query_scalar("SELECT platform_id FROM reports")
        .fetch_all(&mut db)
        .await
        .unwrap();
    let stored_set: HashSet<String> = stored.iter().cloned().collect();
    assert_eq!(stored.len(), stored_set.len(), "no item is stored twice");
    let lost: Vec<&String> = acknowledged
        .iter()
        .filter(|id| !stored_set.contains(*id))
        .collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged items lost, e.g. {:?}",
        lost.len(),
        lost.first()
    );

    // The platform retries everything it sent: nothing doubles, nothing conflicts.
    let http = client();
    let attempted = attempted.lock().unwrap().clone();
    for (sender, number) in &attempted {
        let (_, body) = batch(*sender, *number);
        let result: Value = http
            .post(format!("{}/api/v1/reports", warden.url))
            .bearer_auth(&token)
            .header("content-type", "application/x-ndjson")
            .body(body)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(result["errors"], 0, "{result}");
    }
    let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM reports")
        .fetch_one(&mut db)
        .await
        .unwrap();
    assert_eq!(
        total as usize,
        attempted.len() * BATCH,
        "every attempted item exactly once after retries"
    );
    let cases_with_wrong_counts: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM cases c WHERE c.report_count <> (SELECT COUNT(*) FROM reports r WHERE r.case_id = c.id)",
    )
    .fetch_one(&mut db)
    .await
    .unwrap();
    assert_eq!(
        cases_with_wrong_counts, 0,
        "case counters agree with the reports they hold"
    );
    warden.stop();
    target.audit_verifies();
}

const ANALYSTS: usize = 4;
const DECISION_CASES: usize = 400;

/// One analyst's turn: claims the next spam case and decides it (removal
/// and a warning). Answers the case decided, or `None` when the queue is
/// empty or the server is gone.
async fn claim_and_decide(http: &reqwest::Client, url: &str, token: &str) -> Option<i64> {
    let answer = http
        .post(format!("{url}/api/v1/queues/spam/claim"))
        .bearer_auth(token)
        .send()
        .await
        .ok()?;
    if answer.status() != 200 {
        let status = answer.status();
        println!(
            "claim: {status} {}",
            answer.text().await.unwrap_or_default()
        );
        return None;
    }
    let case: Value = answer.json().await.ok()?;
    let (id, version) = (case["id"].as_i64()?, case["version"].as_i64()?);
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
    let answer = http
        .post(format!("{url}/api/v1/cases/{id}/decision"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .ok()?;
    if answer.status() != 201 {
        let status = answer.status();
        println!(
            "decide: {status} {}",
            answer.text().await.unwrap_or_default()
        );
        return None;
    }
    Some(id)
}

/// Waits until `done` says so, for up to a minute (a busy machine starts
/// slowly); the test goes on either way and its assertions say what
/// happened.
async fn wait_for(done: impl Fn() -> bool) {
    for _ in 0..600 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// SIGKILL while four analysts claim and decide in turn: every decision
/// answered 201 is stored once, with its actions and its case resolved.
async fn decision_story(target: &Target) {
    let ingest = target.user_token("platform", "admin", "ingest");
    let analysts: Vec<String> = (0..ANALYSTS)
        .map(|n| target.user_token(&format!("analyst_{n}"), "analyst", "review"))
        .collect();
    let warden = target.serve();
    let http = client();
    // Posts with their owners (a warning acts on the owner), then a report
    // about each.
    let posts = (0..DECISION_CASES)
        .map(|n| {
            json!({"kind": "content", "id": format!("burst_post_{n}"),
                   "owner": {"kind": "account", "id": format!("burst_account_{}", n % 50)},
                   "text": "GET 10K FOLLOWERS FAST at free-followers.example"})
            .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n");
    let stored: Value = http
        .post(format!("{}/api/v1/subjects", warden.url))
        .bearer_auth(&ingest)
        .header("content-type", "application/x-ndjson")
        .body(posts)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(stored["errors"], 0, "{stored}");
    let reports = (0..DECISION_CASES)
        .map(|n| {
            json!({"id": format!("burst_{n}"), "subject": {"kind": "content", "id": format!("burst_post_{n}")},
                   "reason": "spam", "source": "user_report", "text": "follower-selling link"})
            .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n");
    let loaded: Value = http
        .post(format!("{}/api/v1/reports", warden.url))
        .bearer_auth(&ingest)
        .header("content-type", "application/x-ndjson")
        .body(reports)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(loaded["errors"], 0, "{loaded}");

    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let tasks: Vec<_> = analysts
        .iter()
        .map(|token| {
            let (url, token, acknowledged) =
                (warden.url.clone(), token.clone(), acknowledged.clone());
            tokio::spawn(async move {
                let http = client();
                while let Some(case) = claim_and_decide(&http, &url, &token).await {
                    acknowledged.lock().unwrap().push(case);
                }
            })
        })
        .collect();
    wait_for(|| acknowledged.lock().unwrap().len() >= 20).await;
    warden.kill();
    for task in tasks {
        task.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        !acknowledged.is_empty(),
        "some decisions were acknowledged before the kill"
    );
    assert!(
        acknowledged.len() < DECISION_CASES,
        "the kill came mid-burst"
    );
    println!(
        "decisions acknowledged before the kill: {}",
        acknowledged.len()
    );

    let warden = target.serve();
    let mut db = target.database().await;
    let decided: Vec<(i64, i64)> =
        sqlx::query_as("SELECT case_id, COUNT(*) FROM decisions GROUP BY case_id")
            .fetch_all(&mut db)
            .await
            .unwrap();
    let decided: HashMap<i64, i64> = decided.into_iter().collect();
    assert!(
        decided.values().all(|n| *n == 1),
        "no case is decided twice"
    );
    for case in &acknowledged {
        assert_eq!(decided.get(case), Some(&1), "decision on case {case} lost");
        let status: String = sqlx::query_scalar("SELECT status FROM cases WHERE id = $1")
            .bind(case)
            .fetch_one(&mut db)
            .await
            .unwrap();
        assert_eq!(status, "resolved", "case {case}");
        let actions: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM actions WHERE case_id = $1")
            .bind(case)
            .fetch_one(&mut db)
            .await
            .unwrap();
        assert_eq!(actions, 2, "case {case}: its decision's actions");
    }
    // Whatever committed without an answer is whole too: no resolved case
    // without its decision, no decision without its actions.
    let incomplete: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM cases c WHERE (c.status = 'resolved') <> EXISTS (SELECT 1 FROM decisions d WHERE d.case_id = c.id) OR (SELECT COUNT(*) FROM actions a WHERE a.case_id = c.id) NOT IN (0, 2)",
    )
    .fetch_one(&mut db)
    .await
    .unwrap();
    assert_eq!(
        incomplete, 0,
        "every decision committed whole or not at all"
    );
    warden.stop();
    target.audit_verifies();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_items_survive_sigkill_exactly_once() {
    if !crash_tests_on() {
        return;
    }
    let target = Target::sqlite();
    ingest_story(&target).await;
    target.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_items_survive_sigkill_exactly_once_on_postgres() {
    if !crash_tests_on() {
        return;
    }
    let Some(target) = Target::postgres().await else {
        return;
    };
    ingest_story(&target).await;
    target.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_decisions_survive_sigkill_mid_burst() {
    if !crash_tests_on() {
        return;
    }
    let target = Target::sqlite();
    decision_story(&target).await;
    target.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_decisions_survive_sigkill_mid_burst_on_postgres() {
    if !crash_tests_on() {
        return;
    }
    let Some(target) = Target::postgres().await else {
        return;
    };
    decision_story(&target).await;
    target.finish().await;
}
