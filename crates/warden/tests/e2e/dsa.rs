//! DSA statements of reasons end to end: decisions write them, `warden
//! export dsa` writes them as JSON Lines, `warden submit dsa` sends them in
//! batches of at most 100 to a fake Transparency Database that loses one
//! answer; the next run asks `existing-puid` instead of resending, so no
//! puid is ever sent twice. `warden report transparency` counts them.

use std::collections::HashSet;
use std::convert::Infallible;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use serde_json::{json, Value};

use warden_domain::dsa::{self, Endpoint};

use crate::support::{client, run, temp_dir, text, Warden, BINARY};

const TOKEN: &str = "tdb-token";
const CASES: usize = 105;

#[derive(Default)]
struct Database {
    /// puids stored, in order.
    stored: Mutex<Vec<String>>,
    /// Every puid ever posted, to catch a resend.
    posted: Mutex<Vec<String>>,
    batches: AtomicU64,
    lookups: AtomicU64,
}

async fn handle(
    db: Arc<Database>,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let answer = |status: u16, body: Value| {
        Ok(Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body.to_string())))
            .unwrap())
    };
    let authorized = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        == Some(&format!("Bearer {TOKEN}"));
    if !authorized {
        return answer(401, json!({"message": "Unauthenticated."}));
    }
    let path = request.uri().path().to_string();
    if let Some(puid) = path.strip_prefix("/api/v1/statement/existing-puid/") {
        db.lookups.fetch_add(1, Ordering::SeqCst);
        let found = db.stored.lock().unwrap().iter().any(|p| p == puid);
        return if found {
            answer(
                302,
                json!({"message": "statement of reason found", "puid": puid}),
            )
        } else {
            answer(
                404,
                json!({"message": "statement of reason not found", "puid": puid}),
            )
        };
    }
    if path != "/api/v1/statements" {
        return answer(404, json!({"message": "no such route"}));
    }
    let body = request
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if let Err(violations) = dsa::validate_batch(&body) {
        return answer(422, violations.to_json());
    }
    let statements = body["statements"].as_array().unwrap().clone();
    let puids: Vec<String> = statements
        .iter()
        .map(|s| s["puid"].as_str().unwrap().to_string())
        .collect();
    db.posted.lock().unwrap().extend(puids.clone());
    let existing: Vec<String> = {
        let stored = db.stored.lock().unwrap();
        puids
            .iter()
            .filter(|p| stored.contains(p))
            .cloned()
            .collect()
    };
    if !existing.is_empty() {
        let message = "The platform identifier(s) are not all unique within this call.";
        return answer(
            422,
            json!({"message": message, "errors": {"puid": [message], "existing_puids": existing}}),
        );
    }
    db.stored.lock().unwrap().extend(puids.clone());
    let batch = db.batches.fetch_add(1, Ordering::SeqCst);
    if batch == 0 {
        // The first batch is stored, but its answer is lost.
        return answer(502, json!({"message": "Bad gateway"}));
    }
    let created: Vec<Value> = puids
        .iter()
        .map(|p| json!({"puid": p, "uuid": format!("uuid-{p}"), "permalink": format!("https://tdb.example/{p}")}))
        .collect();
    answer(201, json!({"statements": created}))
}

fn warden_with_token(args: &[&str], dir: &std::path::Path) -> Output {
    Command::new(BINARY)
        .args(args)
        .current_dir(dir)
        .env_remove("WARDEN_DATABASE_URL")
        .env("WARDEN_LOG", "warn")
        .env("WARDEN_DSA_TOKEN", TOKEN)
        .stdin(Stdio::null())
        .output()
        .expect("run warden")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statements_are_exported_and_submitted_once() {
    let (_dir, data) = temp_dir();
    let data_arg = data.to_str().unwrap().to_string();
    let token = |name: &str, role: &str, scope: &str| {
        assert!(run(
            &[
                "user",
                "add",
                name,
                "--role",
                role,
                // Trusted flaggers' reports go to the legal queue: its team.
                "--team",
                "legal",
                "--password-stdin",
                "--data-dir",
                &data_arg
            ],
            "a long password\n",
            &data
        )
        .status
        .success());
        text(
            &run(
                &[
                    "token",
                    "create",
                    "--user",
                    name,
                    "--scope",
                    scope,
                    "--data-dir",
                    &data_arg,
                ],
                "",
                &data,
            )
            .stdout,
        )
        .trim()
        .to_string()
    };
    let ingest = token("platform", "admin", "ingest");
    let analyst = token("anna", "analyst", "review");
    let warden = Warden::start(&["serve"], &data);
    let http = client();
    let subjects: Vec<String> = (0..CASES)
        .map(|i| json!({"kind": "content", "id": format!("post_{i}"), "owner": {"kind": "account", "id": format!("acct_{i}")}, "text": "win a prize"}).to_string())
        .collect();
    let reports: Vec<String> = (0..CASES)
        .map(|i| json!({"id": format!("rep_{i}"), "subject": {"kind": "content", "id": format!("post_{i}")}, "reason": "phishing", "source": if i % 2 == 0 { "trusted_flagger" } else { "user_report" }, "language": "en"}).to_string())
        .collect();
    for (path, lines) in [("subjects", subjects), ("reports", reports)] {
        let answer = http
            .post(format!("{}/api/v1/{path}", warden.url))
            .bearer_auth(&ingest)
            .header("content-type", "application/x-ndjson")
            .body(lines.join("\n"))
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 200);
    }
    for _ in 0..CASES {
        // Trusted flaggers' reports go to the legal queue, the rest to fraud.
        let mut claimed = Value::Null;
        for queue in ["fraud", "legal"] {
            let answer = http
                .post(format!("{}/api/v1/queues/{queue}/claim", warden.url))
                .bearer_auth(&analyst)
                .send()
                .await
                .unwrap();
            if answer.status() == 200 {
                claimed = answer.json().await.unwrap();
                break;
            }
        }
        assert!(claimed["id"].is_i64(), "a case to claim");
        let decided = http
            .post(format!("{}/api/v1/cases/{}/decision", warden.url, claimed["id"]))
            .bearer_auth(&analyst)
            .json(&json!({"version": claimed["version"], "violation": true, "category": "phishing",
                          "actions": [{"type": "remove_content"}, {"type": "warn"}],
                          "rationale": {"what_happened": "A post linked to a page that collects passwords.", "evidence": "The page asks for the login of a bank.", "policy": "Phishing is forbidden.", "action": "Removed; a warning for the account.", "next_steps": ""}}))
            .send()
            .await
            .unwrap();
        assert_eq!(decided.status(), 201, "{}", decided.text().await.unwrap());
    }
    warden.stop();

    let exported = run(
        &[
            "export",
            "dsa",
            "--since",
            "2000-01-01",
            "--until",
            "2100-01-01",
            "--data-dir",
            &data_arg,
        ],
        "",
        &data,
    );
    assert!(exported.status.success(), "{}", text(&exported.stderr));
    let lines: Vec<Value> = text(&exported.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), CASES);
    for statement in &lines {
        assert!(
            dsa::validate(statement, Endpoint::Single).is_empty(),
            "{statement}"
        );
        assert_eq!(statement["category"], "STATEMENT_CATEGORY_SCAMS_AND_FRAUD");
        assert_eq!(
            statement["category_specification"],
            json!(["KEYWORD_PHISHING"])
        );
    }
    let sources: HashSet<&str> = lines
        .iter()
        .map(|s| s["source_type"].as_str().unwrap())
        .collect();
    assert_eq!(
        sources,
        HashSet::from(["SOURCE_TRUSTED_FLAGGER", "SOURCE_TYPE_OTHER_NOTIFICATION"])
    );
    let none = run(
        &[
            "export",
            "dsa",
            "--since",
            "2000-01-01",
            "--until",
            "2000-02-01",
            "--data-dir",
            &data_arg,
        ],
        "",
        &data,
    );
    assert!(text(&none.stdout).is_empty());

    // The fake Transparency Database.
    let db = Arc::new(Database::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let server_db = db.clone();
    let server = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let db = server_db.clone();
            tokio::spawn(async move {
                let service =
                    hyper::service::service_fn(move |request| handle(db.clone(), request));
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    let endpoint = format!("http://{address}");
    let submit = |args: Vec<String>| {
        let data = data.clone();
        tokio::task::spawn_blocking(move || {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            warden_with_token(&args, &data)
        })
    };
    let args = vec![
        "submit".into(),
        "dsa".into(),
        "--endpoint".into(),
        endpoint.clone(),
        "--data-dir".into(),
        data_arg.clone(),
    ];
    let first = submit(args.clone()).await.unwrap();
    assert!(!first.status.success(), "the lost answer stops the run");
    assert!(
        text(&first.stderr).contains("stopped early"),
        "{}",
        text(&first.stderr)
    );
    let second = submit(args.clone()).await.unwrap();
    assert!(second.status.success(), "{}", text(&second.stderr));
    let third = submit(args).await.unwrap();
    assert!(third.status.success());
    assert!(
        text(&third.stdout).contains("submitted 0 batches"),
        "{}",
        text(&third.stdout)
    );
    server.abort();

    let stored = db.stored.lock().unwrap().clone();
    let posted = db.posted.lock().unwrap().clone();
    assert_eq!(stored.len(), CASES);
    assert_eq!(posted.len(), CASES, "no puid was sent twice");
    assert_eq!(stored.iter().collect::<HashSet<_>>().len(), CASES);
    assert_eq!(
        db.lookups.load(Ordering::SeqCst),
        100,
        "the unanswered batch was looked up"
    );

    let report = run(
        &[
            "report",
            "transparency",
            "--from",
            "2000-01-01",
            "--to",
            "2100-01-01",
            "--data-dir",
            &data_arg,
        ],
        "",
        &data,
    );
    assert!(report.status.success(), "{}", text(&report.stderr));
    let report: Value = serde_json::from_slice(&report.stdout).unwrap();
    assert_eq!(report["actions_total"], CASES * 2);
    assert_eq!(report["statements_total"], CASES);
    assert_eq!(
        report["actions_by_category"]["phishing"]["remove_content"],
        CASES
    );
    let csv = run(
        &[
            "report",
            "transparency",
            "--from",
            "2000-01-01",
            "--to",
            "2100-01-01",
            "--format",
            "csv",
            "--data-dir",
            &data_arg,
        ],
        "",
        &data,
    );
    let csv = text(&csv.stdout);
    assert!(csv.starts_with("section,key,subkey,value\n"), "{csv}");
    assert!(
        csv.contains(&format!("actions_by_category,phishing,warn,{CASES}")),
        "{csv}"
    );
}
