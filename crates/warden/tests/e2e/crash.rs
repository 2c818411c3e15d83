//! Crash safety: SIGKILL in the middle of batch ingestion, restart, and
//! every acknowledged item is there exactly once.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

use crate::support::{client, database, run, temp_dir, text, Warden};

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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn acknowledged_items_survive_sigkill_exactly_once() {
    if std::env::var("WARDEN_CRASH_TESTS").as_deref() != Ok("1") {
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "e2e: skipped the crash test: set WARDEN_CRASH_TESTS=1 to run it"
        );
        return;
    }
    let (_dir, data) = temp_dir();
    let data_arg = data.to_str().unwrap();
    assert!(run(
        &[
            "user",
            "add",
            "ops",
            "--role",
            "admin",
            "--password-stdin",
            "--data-dir",
            data_arg
        ],
        "a long password\n",
        &data
    )
    .status
    .success());
    let token = text(
        &run(
            &[
                "token",
                "create",
                "--user",
                "ops",
                "--scope",
                "ingest",
                "--data-dir",
                data_arg,
            ],
            "",
            &data,
        )
        .stdout,
    )
    .trim()
    .to_string();

    let warden = Warden::start(&["serve"], &data);
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
    tokio::time::sleep(Duration::from_millis(1500)).await;
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

    let warden = Warden::start(&["serve"], &data);
    let mut db = database(&data).await;
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
    let verified = run(&["audit", "verify", "--data-dir", data_arg], "", &data);
    assert!(verified.status.success(), "{}", text(&verified.stderr));
}
